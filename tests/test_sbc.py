"""Simulation-based calibration: the rank machinery and its test on exact posteriors (where the
answer is known), and a small-N run of the real harness on every PyMC model.

The full calibration (N = 1000 per model) is ``make validate`` (``python -m bayes_ips.validation``).
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from bayes_ips.models import IPD_MODELS, PYMC_MODELS
from bayes_ips.priors import get_prior
from bayes_ips.spec import SamplerSettings
from bayes_ips.validation import SBCSettings, run_sbc
from bayes_ips.validation import report as sbc_report
from bayes_ips.validation.__main__ import main as validation_main
from bayes_ips.validation.__main__ import trial_counts
from bayes_ips.validation.sbc import fractional_ranks
from bayes_ips.validation.uniformity import evaluate, holm

N_ANALYSED = np.array([[36, 36, 36], [18, 18, 18]])


def _conjugate_pit(
    n_sims: int, seed: int, fit_prior: tuple[float, float] = (1.0, 1.0), weight: float = 1.0
) -> xr.Dataset:
    """Fractional ranks of p under the beta-binomial model with exact posterior draws.

    The truth is drawn from Beta(1, 1) and the data from it. The "fit" is the exact posterior
    Beta(a0 + w y, b0 + w (n - y)): with ``fit_prior = (1, 1)`` and ``weight = 1`` it is the
    correct posterior; anything else is miscalibrated.
    """
    rng = np.random.default_rng(seed)
    pits = []
    for _ in range(n_sims):
        p = rng.beta(1, 1, size=N_ANALYSED.shape)
        y = rng.binomial(N_ANALYSED, p)
        a = fit_prior[0] + weight * y
        b = fit_prior[1] + weight * (N_ANALYSED - y)
        draws = rng.beta(a, b, size=(2, 200, *a.shape))
        posterior = xr.Dataset({"p": (("chain", "draw", "arm", "horizon"), draws)})
        truth = xr.Dataset({"p": (("arm", "horizon"), p)})
        pit, ranks, thin, retained = fractional_ranks(truth, posterior, rng)
        assert thin >= 1 and retained == 2 * len(range(0, 200, thin))
        assert int(ranks["p"].min()) >= 0 and int(ranks["p"].max()) <= retained
        pits.append(pit["p"])
    return xr.concat(pits, dim="simulation").to_dataset(name="p")


def test_exact_posteriors_pass():
    pit = _conjugate_pit(100, seed=1)
    assert float(pit["p"].min()) > 0 and float(pit["p"].max()) < 1
    checks = evaluate(pit, alpha=0.01)
    assert len(checks) == 6 and all(c["passed"] for c in checks), checks
    assert all(c["inside_band"] for c in checks)


@pytest.mark.parametrize(
    "fit_prior,weight",
    [((4.0, 1.0), 1.0), ((1.0, 1.0), 2.0), ((1.0, 1.0), 0.25)],
    ids=["prior pulls the rates up", "overconfident", "underconfident"],
)
def test_miscalibrated_posteriors_fail(fit_prior, weight):
    checks = evaluate(_conjugate_pit(100, 2, fit_prior, weight), alpha=0.01)
    assert not all(c["passed"] for c in checks)


def test_holm_adjustment():
    adjusted = holm(np.array([0.01, 0.04, 0.03, 0.20]))
    np.testing.assert_allclose(adjusted, [0.04, 0.09, 0.09, 0.20])


SMOKE = SBCSettings(
    simulations=2,
    sampler=SamplerSettings(chains=2, draws=100, tune=100, target_accept=0.95),
    workers=1,
    seed=5,
)


@pytest.fixture(scope="module")
def smoke_results():
    return [run_sbc(m, trial_counts(m), get_prior("reference"), SMOKE) for m in PYMC_MODELS]


def test_smoke_run_ranks_every_key_parameter(smoke_results):
    for result in smoke_results:
        assert result.pit.sizes["simulation"] == SMOKE.simulations
        for name, da in result.pit.items():
            assert ((da > 0) & (da < 1)).all(), name
            assert (result.ranks[name] <= result.fits["retained"].max()).all()
        assert len(result.fits) == SMOKE.simulations
        assert (result.fits["retained"] >= 2).all()
        assert {c["variable"] for c in result.checks} == set(result.pit.data_vars)
    names = {r.model: set(r.pit.data_vars) for r in smoke_results}
    assert names["hierarchical_logistic"] == {"theta", "rho", "alpha1", "delta"}
    assert names["hierarchical_beta_binomial"] == {"m", "kappa", "p"}
    for r in smoke_results:
        assert r.shape["participants"] == (r.model in IPD_MODELS)


def test_smoke_run_is_reproducible(smoke_results):
    counts = trial_counts("hierarchical_logistic")
    again = run_sbc("hierarchical_logistic", counts, get_prior("reference"), SMOKE)
    first = next(r for r in smoke_results if r.model == "hierarchical_logistic")
    xr.testing.assert_equal(again.pit, first.pit)
    with pytest.raises(ValueError, match="at least 2"):
        replace(SMOKE, simulations=1)


def test_report_is_written_atomically_with_json_and_html(smoke_results, tmp_path):
    out = tmp_path / "validation"
    shown = smoke_results[:2]  # every model takes the same path; two keep the test quick
    data = sbc_report.write(out, shown, "python -m bayes_ips.validation --simulations 2")
    saved = json.loads((out / "sbc.json").read_text())
    assert saved == json.loads(json.dumps(data))
    assert [m["model"] for m in saved["models"]] == [r.model for r in shown]
    for m in saved["models"]:
        assert m["simulations"] == 2 and len(m["fractional_ranks"]) == len(m["checks"])
        assert all(len(v) == 2 for v in m["fractional_ranks"].values())
    html = (out / "report.html").read_text()
    figures = 2 * len(shown)
    assert "pot_c" in html and "Holm" in html
    assert html.count("data:image/svg+xml;base64,") == figures
    assert len(list((out / "figures").glob("*.svg"))) == figures
    assert [p.name for p in tmp_path.iterdir()] == ["validation"]


def test_command_line_rejects_bad_arguments(capsys):
    assert validation_main(["--simulations", "1"]) == 2
    assert validation_main(["--models", "beta_binomial"]) == 2
    assert validation_main(["--models", "hierarchical_logistic", "--prior", "jeffreys"]) == 2
    assert "no effect component" in capsys.readouterr().err
    capsys.readouterr()
