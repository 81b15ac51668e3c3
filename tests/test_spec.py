"""Spec validation (bayes_ips.spec, bayes_ips.schema): every mistake at once, unknown keys named
by their dotted key, the documented defaults, strict number types."""

from __future__ import annotations

import ast
import dataclasses
import pickle
from pathlib import Path

import pytest

import bayes_ips
from bayes_ips.analyses.decision import DecisionSettings
from bayes_ips.analyses.missing_data.options import MissingSettings
from bayes_ips.data import IpdSettings
from bayes_ips.errors import InputError, InputErrors
from bayes_ips.estimands import EstimandSettings
from bayes_ips.pipeline import load_spec
from bayes_ips.priors.settings import default_settings
from bayes_ips.spec import SamplerSettings, Thresholds

from .conftest import run_subprocess

PACKAGE = Path(bayes_ips.__file__).parent
THREE_MISTAKES = """\
[sampler]
chains = 100
[missing_data]
delta_min = 1.0
[decision.next_trial]
alpha = 0.9
"""
THREE_LINES = [
    "field 'sampler.chains', value 100: must be between 1 and 64",
    "field 'missing_data.delta_min', value 1.0: delta_min must be below 0",
    "field 'decision.next_trial.alpha', value 0.9: must be between 1e-06 and 0.5",
]


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> InputError:
    with pytest.raises(InputError) as err:
        load_spec(_spec(tmp_path, text))
    return err.value


def test_three_mistakes_in_three_sections_are_reported_together(tmp_path):
    err = _error(tmp_path, THREE_MISTAKES)
    assert isinstance(err, InputErrors) and len(err.errors) == 3
    lines = err.message.splitlines()
    assert len(lines) == 3
    for line, expected in zip(lines, THREE_LINES, strict=True):
        assert line.startswith(f"{tmp_path / 's.toml'}, ") and expected in line
    assert (err.field, err.value) == ("sampler.chains", 100)  # the first, for one-error callers
    again = pickle.loads(pickle.dumps(err))  # as a helper process hands it back
    assert type(again) is InputErrors and again.message == err.message


def test_every_unknown_model_and_prior_and_clashing_prior_name_is_reported(tmp_path):
    err = _error(
        tmp_path,
        '[models.beta_binomial]\npriors = ["nope1", "nope2"]\n'
        '[models.hierarchical_logistic]\npriors = ["nope3"]\n[models.unicorn]\n[models.dragon]\n',
    )
    assert [(e.field, e.value) for e in err.errors] == [
        ("models", "unicorn"),
        ("models", "dragon"),
        ("models.beta_binomial.priors", "nope1"),
        ("models.beta_binomial.priors", "nope2"),
        ("models.hierarchical_logistic.priors", "nope3"),
    ]
    clash = "rate_a = 1\nrate_b = 1\n"
    err = _error(tmp_path, f"[priors.reference]\n{clash}[priors.jeffreys]\n{clash}")
    assert [e.field for e in err.errors] == ["priors.reference", "priors.jeffreys"]
    assert all("belongs to a built-in prior" in e.rule for e in err.errors)


def test_three_mistakes_exit_2_with_one_line_each_and_no_traceback(tmp_path, cli):
    spec = _spec(tmp_path, THREE_MISTAKES)
    code, out, err = cli("run", spec, "--out", tmp_path / "out")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 3 and "Traceback" not in err
    for line, expected in zip(lines, THREE_LINES, strict=True):
        assert line.startswith("bayes-ips: error: ") and expected in line
    assert not (tmp_path / "out").exists()


def test_three_mistakes_through_the_console_entry_point(tmp_path):
    proc = run_subprocess("run", _spec(tmp_path, THREE_MISTAKES), "--out", tmp_path / "out")
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 3


def test_one_mistake_is_a_plain_input_error(tmp_path):
    err = _error(tmp_path, "[sampler]\nchains = 0\n")
    assert type(err) is InputError
    assert err.message == f"{tmp_path / 's.toml'}, field 'sampler.chains', value 0: " + (
        "must be between 1 and 64"
    )


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("colour = 1\n", "colour"),
        ("[data]\nfile = 'x.csv'\n", "data.file"),
        ("[models.beta_binomial]\nprior = ['reference']\n", "models.beta_binomial.prior"),
        ("[estimands]\nintervals = 0.9\n", "estimands.intervals"),
        ("[sampler]\nchainz = 4\n", "sampler.chainz"),
        ("[diagnostics]\nrhat = 1.01\n", "diagnostics.rhat"),
        ("[priors]\nmcid = 0.1\n", "priors.mcid"),
        ("[priors.mine]\nlog_or_mean = 0\nlog_or_sd = 1\nsd = 1\n", "priors.mine.sd"),
        ("[ipd]\nhorizon = [6]\n", "ipd.horizon"),
        ("[missing_data]\ndeltas = [0]\n", "missing_data.deltas"),
        ("[decision]\ncolour = 1\n", "decision.colour"),
        ("[decision.economics]\nprice = 1\n", "decision.economics.price"),
        ("[decision.next_trial]\nsize = 10\n", "decision.next_trial.size"),
    ],
)
def test_an_unknown_key_anywhere_is_named_with_the_keys_allowed_there(tmp_path, text, field):
    err = _error(tmp_path, text)
    assert type(err) is InputError and err.field == field and err.value is None
    assert err.rule.startswith("unknown key; allowed here: ")


def test_unknown_key_messages_list_the_keys_of_that_table(tmp_path):
    allowed = {
        "sampler.chainz": "backend, chains, draws, tune, target_accept",
        "models.beta_binomial.prior": "priors",
        "decision.next_trial.size": "n_per_arm, simulations, alpha",
    }
    for field, keys in allowed.items():
        *table, key = field.split(".")
        text = f"[{'.'.join(table)}]\n{key} = 1\n"
        assert keys in _error(tmp_path, text).rule
    assert _error(tmp_path, "[priors]\nmcid = 0.1\n").rule.endswith("or a table [priors.NAME]")


def test_a_spec_with_only_models_gets_the_documented_defaults(tmp_path):
    spec = load_spec(_spec(tmp_path, "[models.beta_binomial]\npriors = ['reference']\n"))
    assert (spec.title, spec.name, spec.seed) == ("Bayesian reanalysis", "ips-in-pain", 20221)
    assert spec.data_path == "package:ips_in_pain.csv"
    assert (spec.comparison.treatment, spec.comparison.control) == ("IPS", "TAU")
    assert spec.primary_horizon == 12 and spec.verified_only is False
    assert spec.models == {"beta_binomial": ("reference",)}
    assert spec.estimands == EstimandSettings(
        interval=0.95,
        rd_thresholds=(0.0, 0.05, 0.10, 0.15, 0.20),
        rr_thresholds=(1.0, 1.1, 1.25, 1.5, 2.0),
        rope=0.05,
    )
    assert spec.exact_draws == 20_000
    assert dataclasses.asdict(spec.sampler) == {
        "backend": "nutpie",
        "chains": 4,
        "draws": 1000,
        "tune": 1000,
        "target_accept": 0.9,
    }
    thresholds = dataclasses.asdict(spec.thresholds)
    assert thresholds == {"rhat_max": 1.01, "ess_min": 400, "divergences_max": 0, "ebfmi_min": 0.3}
    assert type(thresholds["ess_min"]) is int  # summary.json writes 400, not 400.0
    assert spec.sampler == SamplerSettings() and spec.thresholds == Thresholds()
    options = spec.options
    assert options["priors"] == default_settings()
    assert options["priors"].mcid_rd == 0.10 and options["priors"].evidence_weight == 0.5
    assert options["ipd"] == IpdSettings() and options["ipd"].horizons == (6, 12, 24)
    assert options["missing_data"] == MissingSettings()
    assert options["missing_data"].deltas.tolist()[:2] == [-3.0, -2.75]
    decision = options["decision"]
    assert decision == DecisionSettings()
    assert (decision.mcid, decision.gamma_rope, decision.next_trial.simulations) == (
        0.1,
        0.95,
        20_000,
    )
    assert decision.economics.wtp_max == 100_000.0 and decision.economics.illustrative


def test_without_models_the_default_model_and_prior_are_fitted(tmp_path):
    assert load_spec(_spec(tmp_path, "")).models == {"beta_binomial": ("reference",)}


def test_the_default_right_end_of_the_acceptability_curve_follows_the_value(tmp_path):
    spec = load_spec(_spec(tmp_path, "[decision.economics]\nvalue_per_employed = 50000\n"))
    economics = spec.options["decision"].economics
    assert economics.wtp_max == 200_000.0 and economics.user_set == {"value_per_employed"}


@pytest.mark.parametrize(
    ("text", "field", "kind"),
    [
        ("seed = true\n", "seed", "int"),
        ("[data]\nprimary_horizon = true\n", "data.primary_horizon", "float"),
        ("[sampler]\nchains = true\n", "sampler.chains", "int"),
        ("[sampler]\ntarget_accept = true\n", "sampler.target_accept", "float"),
        ("[diagnostics]\ness_min = false\n", "diagnostics.ess_min", "float"),
        ("[diagnostics]\ndivergences_max = false\n", "diagnostics.divergences_max", "int"),
        ("[estimands]\nexact_draws = true\n", "estimands.exact_draws", "int"),
        ("[priors]\nmcid_rd = true\n", "priors.mcid_rd", "float"),
        ("[priors]\nmap_components = true\n", "priors.map_components", "int"),
        ("[priors.mine]\nlog_or_mean = true\nlog_or_sd = 1\n", "priors.mine.log_or_mean", "float"),
        ("[missing_data]\ndelta_min = true\n", "missing_data.delta_min", "float"),
        ("[decision]\nmcid = true\n", "decision.mcid", "float"),
        ("[decision.economics]\nyears = true\n", "decision.economics.years", "int"),
        ("[decision.next_trial]\nalpha = true\n", "decision.next_trial.alpha", "float"),
    ],
)
def test_a_bool_is_never_a_number(tmp_path, text, field, kind):
    err = _error(tmp_path, text)
    assert err.field == field and err.rule == f"must be of type {kind}"
    assert isinstance(err.value, bool)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[estimands]\nrd_thresholds = [0, true]\n", "estimands.rd_thresholds"),
        ("[ipd]\nhorizons = [true]\n", "ipd.horizons"),
        ("[missing_data]\nthresholds = [true]\n", "missing_data.thresholds"),
        ("[decision.next_trial]\nn_per_arm = [true]\n", "decision.next_trial.n_per_arm"),
        (
            "[decision.next_trial]\nassurance_targets = [true]\n",
            "decision.next_trial.assurance_targets",
        ),
    ],
)
def test_a_bool_is_never_an_entry_of_a_list_of_numbers(tmp_path, text, field):
    assert _error(tmp_path, text).field == field


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("seed = 1.0\n", "seed"),
        ("[sampler]\nchains = 4.0\n", "sampler.chains"),
        ("[decision.economics]\nyears = 10.0\n", "decision.economics.years"),
    ],
)
def test_a_float_is_never_an_int(tmp_path, text, field):
    err = _error(tmp_path, text)
    assert err.field == field and err.rule == "must be of type int"


def test_an_int_is_taken_where_a_number_is_asked(tmp_path):
    text = "[diagnostics]\ness_min = 1000\n[decision.economics]\ncost_per_patient = 10\n"
    spec = load_spec(_spec(tmp_path, text))
    assert spec.thresholds.ess_min == 1000 and type(spec.thresholds.ess_min) is int  # as written
    cost = spec.options["decision"].economics.cost_per_patient
    assert cost == 10.0 and type(cost) is float
    err = _error(tmp_path, "[decision]\nmcid = 1\n")
    assert (err.field, err.value, err.rule) == (
        "decision.mcid",
        1,
        "must be between 0.005 and 0.99",
    )


def test_the_spec_module_reads_no_analysis_and_the_priors_modules_have_no_cycle():
    def imports(module: str) -> set[str]:
        tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
        return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}

    assert not any(m.startswith("bayes_ips.analyses") for m in imports("spec.py"))
    assert "bayes_ips.priors.library" not in imports("priors/settings.py")
