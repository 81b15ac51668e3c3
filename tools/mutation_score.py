"""Mutation score per file of the numeric core, from the results mutmut left in ./mutants.

Run after ``mutmut run`` (``make mutate`` does both). For each file in ``[tool.mutmut]
only_mutate`` it prints the mutants made, killed (a timeout, or a mutant that crashed the test
process, counts as killed: the tests did not pass), survived, without a test, and the two
scores:

- raw: killed / mutants tested;
- adjusted: the same with the mutants shown to be equivalent left out of the denominator.

Equivalent mutants are listed in tools/equivalent_mutants.toml, one entry per mutant with the
changed line and the reason it cannot change behaviour. An entry whose mutant no longer exists,
no longer contains the recorded line (mutmut renumbers mutants when the code changes) or is now
killed is reported as stale, and the command fails, so the list is reviewed with the code.

Exit status: 0 when every file reaches ``--min`` percent adjusted and the list is current, 1
otherwise, 2 when mutmut has not run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = Path(__file__).with_name("equivalent_mutants.toml")

# mutmut's exit codes (mutmut.stats.status_by_exit_code), folded into the columns shown here.
STATUS = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout"}
STATUS |= {255: "timeout", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped"}
STATUS |= {-11: "crashed", -9: "crashed"}  # mutmut's "segfault": the test process died


def module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def mutant_source(mutated_file: Path, mutant: str) -> str | None:
    """The source of one mutant's function in mutmut's mutated copy of a file."""
    function = mutant.rsplit(".", 1)[1]
    text = mutated_file.read_text(encoding="utf-8")
    # up to the next top-level statement (a closing parenthesis of the signature does not count)
    found = re.search(rf"^def {re.escape(function)}\(.*?(?=^[\w@#]|\Z)", text, re.M | re.S)
    return found.group(0) if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=90.0, help="adjusted score required (%%)")
    args = parser.parse_args(argv)

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    files = config["tool"]["mutmut"]["only_mutate"]
    listed = tomllib.loads(EQUIVALENT.read_text(encoding="utf-8")).get("mutant", [])
    equivalent = {entry["name"]: entry for entry in listed}

    header = f"{'file':<32} {'mutants':>7} {'killed':>6} {'survived':>8} {'no test':>7}"
    print(f"{header} {'equiv.':>6} {'raw':>6} {'adjusted':>8}")
    failed = False
    survivors: list[str] = []
    for path in files:
        meta = ROOT / "mutants" / f"{path}.meta"
        if not meta.exists():
            print(f"{path}: no results in {meta.relative_to(ROOT)}; run `mutmut run` first")
            return 2
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        status = {name: STATUS.get(code, "not checked") for name, code in codes.items()}
        count = Counter(status.values())
        killed = count["killed"] + count["timeout"] + count["crashed"]
        tested = len(status) - count["skipped"] - count["not checked"]
        equiv = 0
        for name, state in sorted(status.items()):
            if state not in ("survived", "no tests"):
                continue
            if name in equivalent:
                equiv += 1
            else:
                survivors.append(name)
        raw = 100 * killed / tested if tested else 0.0
        adjusted = 100 * killed / (tested - equiv) if tested > equiv else 0.0
        failed |= adjusted < args.min
        line = f"{path:<32} {len(status):>7} {killed:>6} {count['survived']:>8} "
        print(f"{line}{count['no tests']:>7} {equiv:>6} {raw:>5.1f}% {adjusted:>7.1f}%")
        if count["not checked"]:  # an incomplete run is no score: fail until every mutant ran
            print(f"  {count['not checked']} mutants not checked yet: run `make mutate` again")
            failed = True

    for name, entry in equivalent.items():
        path = next((p for p in files if name.startswith(module_name(p) + ".")), None)
        source = mutant_source(ROOT / "mutants" / path, name) if path else None
        if source is None or entry["line"] not in source:
            print(f"stale entry in {EQUIVALENT.name}: {name} no longer has {entry['line']!r}")
            failed = True
        elif name not in survivors and name in killed_names(ROOT / "mutants" / f"{path}.meta"):
            print(f"stale entry in {EQUIVALENT.name}: {name} is now killed")
            failed = True
    if survivors:
        print("\nsurvivors (kill with a test, or list as equivalent with the reason):")
        print("\n".join(f"  {name}" for name in survivors))
    return 1 if failed else 0


def killed_names(meta: Path) -> set[str]:
    codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    detected = ("killed", "timeout", "crashed")
    return {name for name, code in codes.items() if STATUS.get(code) in detected}


if __name__ == "__main__":
    sys.exit(main())
