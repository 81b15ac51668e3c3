# bayes_ips: the two commands a fresh machine needs are `make report` and `make test`.
# Both create .venv (Python >= 3.12 found on PATH or under pyenv) and install the package.

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The first Python >= 3.12 that actually runs: versioned names on PATH, then pyenv's versions.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3 \
	$$HOME/.pyenv/versions/3.1[2-9]*/bin/python3; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 \
	&& { command -v "$$p" || echo "$$p"; } && break; done)

.PHONY: report test test-plan validate bench lint clean browser mutate

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.12 not found on PATH (python3.12 ...)"; exit 2; }
	@echo "installing bayes_ips and its dependencies into $(VENV) (a few minutes the first time)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,dask]"
	@touch $(STAMP)
	@echo "installed"

report: $(STAMP)
	$(BIN)/bayes-ips run
	@echo "open reports/ips-in-pain/report.html"

# Chromium for the browser test of report.html (Debian package; skipped where it cannot be had).
# `make test SKIP_BROWSER=1` does not try to install it.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo "note: chromium not installed; the browser test will be skipped"; }

# Test modules run side by side on up to 4 cores (pytest-xdist); a module's tests stay together, so
# its fixtures run once.
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider -n auto --maxprocesses 4 --dist loadfile

test: test-plan $(STAMP) $(if $(SKIP_BROWSER),,browser)
	$(PYTEST)

test-plan:
	@echo "make test: set up $(VENV) if needed; install Chromium through apt-get for the browser"
	@echo "  test of report.html if it is missing and this is root (skip: make test SKIP_BROWSER=1);"
	@echo "  then run the tests on up to 4 cores: several minutes (under 10 on 2 cores)."

# Simulation-based calibration of every PyMC model (N = 1000 simulated trials each, pot_c
# uniformity test with Holm's adjustment, family-wise alpha 0.01; report in reports/validation/),
# then the slow tests.
validate: $(STAMP)
	$(BIN)/python -m bayes_ips.validation --simulations 1000 --out reports/validation
	$(PYTEST) --run-slow

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# Mutation testing of the numeric core (mutmut, configured in pyproject.toml [tool.mutmut]): each
# mutant runs only the fast tests that call the mutated function; then the score per file, with
# the equivalent mutants of tools/equivalent_mutants.toml left out of "adjusted" (fails below 90%).
# Takes about 15 min a file on one core; not part of `make test`. Results are kept in ./mutants, so
# a second run retests only what changed. From a git worktree that borrows another checkout's venv:
#   make mutate VENV=/path/to/checkout/.venv STAMP=
MUTATE_CHILDREN ?= 1
mutate: $(STAMP)
	$(BIN)/mutmut run --max-children $(MUTATE_CHILDREN)
	$(BIN)/python tools/mutation_score.py

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) reports/*/ build *.egg-info mutants
