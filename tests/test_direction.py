"""A lower-is-better outcome (`[data] direction = "lower"`): one definition of benefit, exact
mirror identities and a report that speaks of fewer events.

The log odds ratio of non-events is minus that of events, so a trial of deaths read with
direction "lower" under a Normal(m, s²) prior on the log OR is, for the logistic and
beta-binomial models with symmetric nuisance priors, the same trial of survivors read with
direction "higher" under Normal(-m, s²): every P(benefit) must agree to the models' exactness.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import xarray as xr
from scipy import special, stats

from bayes_ips.cli import main
from bayes_ips.data import Comparison
from bayes_ips.estimands import EstimandSettings, key, summarise
from bayes_ips.priors.library import PriorContext, library
from bayes_ips.priors.settings import parse
from bayes_ips.report.style import prior_class
from tests.conftest import HEADER

MIRROR_SPEC = """
[data]
path = "{data}"
treatment = "ECMO"
control = "Conventional"
primary_horizon = 2
outcome = "{outcome}"
direction = "{direction}"
[models.beta_binomial]
priors = ["reference"]
[models.exact_logistic]
priors = ["hopeful"]
[models.exact_log_binomial]
priors = ["reference"]
[priors.hopeful]
log_or_mean = {mean}
log_or_sd = 0.5
[estimands]
exact_draws = 4000
[decision]
enabled = false
[missing_data]
enabled = false
"""


def _draws(rd_shift: float, seed: int = 3) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    pc = rng.beta(30, 70, size=(2, 2000))
    pt = np.clip(pc + rd_shift + rng.normal(0, 0.05, size=pc.shape), 0.001, 0.999)
    return xr.DataArray(
        np.stack([pt, pc], axis=-1)[..., None],
        dims=("chain", "draw", "arm", "horizon"),
        coords={"arm": ["T", "C"], "horizon": [12]},
    )


def test_benefit_thresholds_and_nnt_follow_the_direction():
    p = _draws(-0.06)
    pt, pc = (p.sel(arm=a, horizon=12).to_numpy() for a in ("T", "C"))
    rd, rr = pt - pc, pt / pc
    settings = EstimandSettings(rd_thresholds=(0.0, 0.05), rr_thresholds=(1.0, 1.25))
    up = summarise(p, Comparison("T", "C"), settings).iloc[0]
    down = summarise(p, Comparison("T", "C", "lower", "death"), settings).iloc[0]
    assert up["p_benefit"] == pytest.approx(np.mean(rd > 0))
    assert down["p_benefit"] == pytest.approx(np.mean(rd < 0))
    assert down["p_rd_gt"]["0.05"] == pytest.approx(np.mean(rd < -0.05))
    assert down["p_rr_gt"]["1.25"] == pytest.approx(np.mean(rr < 1 / 1.25))
    assert up["p_rr_gt"]["1.25"] == pytest.approx(np.mean(rr > 1.25))
    # the RD itself is never flipped; the NNT counts participants spared the outcome
    assert down["rd"] == up["rd"] and down["rd"]["median"] < 0
    assert down["nnt"]["direction"] == "benefit" and up["nnt"]["direction"] == "harm"
    assert down["nnt"]["point"] == pytest.approx(-1 / up["rd"]["median"])
    # an exact P(RD > 0) becomes P(benefit) = 1 - P(RD > 0) for a lower-is-better outcome
    exact = summarise(p, Comparison("T", "C", "lower"), settings, {12: 0.3}).iloc[0]
    assert exact["p_benefit"] == pytest.approx(0.7) and exact["p_benefit_mcse"] == 0


def _run(tmp_path, name, rows, direction, mean, outcome="death within 60 days"):
    data = tmp_path / f"{name}.csv"
    data.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    spec = tmp_path / f"{name}.toml"
    spec.write_text(
        MIRROR_SPEC.format(data=data.as_posix(), outcome=outcome, direction=direction, mean=mean),
        encoding="utf-8",
    )
    assert main(["run", str(spec), "--out", str(tmp_path / name)]) == 0
    return tmp_path / name


@pytest.fixture(scope="module")
def mortality(tmp_path_factory):
    """EOLIA's 60-day deaths (ECMO 44 of 124, conventional 57 of 125) read as lower-is-better,
    and the same trial's survivors read as higher-is-better under the mirrored prior."""
    folder = tmp_path_factory.mktemp("direction")
    deaths = ["ECMO,2,44,124,124,true,test", "Conventional,2,57,125,125,true,test"]
    alive = ["ECMO,2,80,124,124,true,test", "Conventional,2,68,125,125,true,test"]
    down = _run(folder, "deaths", deaths, "lower", -0.2)
    up = _run(folder, "survivors", alive, "higher", 0.2, outcome="survival to 60 days")
    return down, up


def _results(run) -> dict:
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    return {r["model"]: r for r in summary["results"]}, summary


def test_deaths_read_lower_equal_survivors_read_higher_under_the_mirrored_prior(mortality):
    down, up = (_results(r)[0] for r in mortality)
    # exact models: P(benefit) agrees to the quadrature's accuracy
    for model in ("beta_binomial", "exact_logistic"):
        assert down[model]["p_benefit"] == pytest.approx(up[model]["p_benefit"], abs=1e-6)
        assert down[model]["p_benefit"] > 0.9
    # the RD of deaths is minus the RD of survivors, read off the same draws' symmetry
    rd_down, rd_up = down["exact_logistic"]["rd"], up["exact_logistic"]["rd"]
    assert rd_down["median"] < 0 < rd_up["median"]
    assert down["exact_logistic"]["nnt"]["direction"] == "benefit"
    # the log-binomial model has no such mirror (the RR of deaths is not that of survivors),
    # but benefit is still fewer deaths: P(RR < 1) agrees with its own draws' RD sign
    assert down["exact_log_binomial"]["rr"]["median"] < 1
    assert down["exact_log_binomial"]["p_benefit"] > 0.5


def test_summary_json_states_the_outcome_and_its_direction(mortality):
    _, summary = _results(mortality[0])
    assert summary["run"]["outcome"] == "death within 60 days"
    assert summary["run"]["direction"] == "lower"


def test_the_report_of_a_mortality_trial_speaks_of_fewer_deaths_with_the_arms_names(mortality):
    run = mortality[0]
    for name in ("report.md", "report.html"):
        text = (run / name).read_text(encoding="utf-8")
        plain = text if name.endswith(".md") else re.sub(r"<[^>]+>", " ", text)
        assert "reduce the rate of death within 60 days" in plain
        assert "ECMO" in plain and "Conventional" in plain
        for wrong in ("increase the", "increases the", "exceeds Conventional", "IPS", "TAU"):
            assert wrong not in plain, (name, wrong)
        assert "employment" not in plain.lower()
        assert re.search(r"RD &lt; −5 pp|RD < −5 pp", text)
        assert re.search(r"RR &lt; 0\.8\b|RR < 0\.8\b", text)
        assert "is below a threshold δ" in plain
    svg = (run / "figures" / "p_rd_threshold.svg").read_text(encoding="utf-8")
    assert "P(RD &lt; δ)" in svg and "P(RD &gt; δ)" not in svg


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [("direction", '"lowr"', "must be one of 'higher', 'lower'"), ("outcome", '""', "printable")],
)
def test_a_bad_direction_or_outcome_is_an_input_error_naming_field_and_rule(
    tmp_path, cli, key, value, rule
):
    spec = tmp_path / "spec.toml"
    spec.write_text(f"[data]\n{key} = {value}\n", encoding="utf-8")
    code, _, err = cli("run", spec, "--out", tmp_path / "run")
    assert code == 2
    assert f"field 'data.{key}'" in err and rule in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_optimism_and_the_mcid_are_about_benefit_when_lower_is_better():
    settings = parse({}, "package:default.toml")
    up = library(PriorContext(settings, 0.4, "test"))
    down = library(PriorContext(settings, 0.4, "test", sign=-1))
    for belief in ("optimistic", "pessimistic"):
        for strength in ("strong", "moderate", "weak"):
            name = f"{belief}_{strength}"
            assert down[name].effect.mean == -up[name].effect.mean
            assert down[name].effect.sd == up[name].effect.sd
    assert down["optimistic_moderate"].effect.mean == pytest.approx(-np.log(1.25))
    assert "P(OR > 1) = 15%" in down["optimistic_moderate"].recipe
    # the MCID is a reduction of 10 pp at the control rate: 40% -> 30%
    log_or = special.logit(0.3) - special.logit(0.4)
    sceptical, enthusiastic = down["sceptical_mcid"].effect, down["enthusiastic_mcid"].effect
    assert sceptical.mean == 0 and sceptical.sd == pytest.approx(-log_or / stats.norm.isf(0.05))
    assert enthusiastic.mean == pytest.approx(log_or)
    assert stats.norm.sf(0, enthusiastic.mean, enthusiastic.sd) == pytest.approx(0.05)
    # and the neutral and reference priors do not depend on the direction
    for name in ("reference", "neutral_strong", "neutral_moderate", "neutral_weak"):
        assert down[name] == up[name]


def test_threshold_keys_keep_every_digit_a_threshold_has():
    assert [key(t) for t in (0.0, 0.05, 1.0, 1.25, 0.011, 0.005, 1 / 3)] == [
        "0.00",
        "0.05",
        "1.00",
        "1.25",
        "0.011",
        "0.005",
        "0.333333",
    ]


def test_thresholds_that_would_share_a_key_are_refused(tmp_path, cli):
    spec = tmp_path / "spec.toml"
    spec.write_text("[estimands]\nrd_thresholds = [0.05, 0.0500000001]\n", encoding="utf-8")
    code, _, err = cli("run", spec, "--out", tmp_path / "run")
    assert code == 2 and "field 'estimands.rd_thresholds'" in err and "differ" in err


def test_figures_colour_a_prior_by_what_it_believes_about_benefit():
    fewer = {"name": "mine", "group": "user", "effect": {"mean": -0.3}}
    assert prior_class(fewer) == ("pessimistic", None)
    assert prior_class(fewer, sign=-1) == ("optimistic", None)
    lower_rate = {"name": "b", "group": "user", "effect": None, "rate": {"a": 5, "b": 5}}
    lower_rate["rate"] |= {"treatment_a": 3, "treatment_b": 7}
    assert prior_class(lower_rate, sign=-1) == ("optimistic", None)
