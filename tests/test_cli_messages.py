"""The command line's messages: argparse errors in one clean line with "did you mean", the exit
codes in every ``--help``, the QUICK RUN mark on the terminal, ``check-data`` giving the verdict
``run`` gives, hints for common data-entry mistakes, and private crash and warnings logs."""

from __future__ import annotations

import os
import re
import stat
import tempfile
import warnings

import numpy as np
import pytest

from bayes_ips import cli as cli_module
from bayes_ips.errors import InputError, route_warnings, state_dir

from .conftest import EXACT_SPEC, write_table

COMMANDS = ["run", "check-data", "report", "priors", "batch"]


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "np." not in err
    return lines[0]


@pytest.mark.parametrize(
    "args,line",
    [
        (
            ["rnu"],
            "bayes-ips: error: command line, value 'rnu': unknown command; did you mean 'run'? "
            "(commands: run, check-data, report, priors, batch)",
        ),
        (
            ["chek-data", "x.csv"],
            "bayes-ips: error: command line, value 'chek-data': unknown command; did you mean "
            "'check-data'? (commands: run, check-data, report, priors, batch)",
        ),
        (
            ["frobnicate"],
            "bayes-ips: error: command line, value 'frobnicate': unknown command "
            "(commands: run, check-data, report, priors, batch)",
        ),
        (["run", "--seed", "abc"], "bayes-ips: error: argument --seed: invalid int value: 'abc'"),
        (
            ["run", "--jobs", "0"],
            "bayes-ips: error: argument --jobs, value 0: must be a whole number of at least 1",
        ),
        (
            ["batch", "x.toml", "--jobs", "-2"],
            "bayes-ips: error: argument --jobs, value -2: must be a whole number of at least 1",
        ),
        (["run", "--jobs"], "bayes-ips: error: argument --jobs: expected one argument"),
        (
            ["check-data"],
            "bayes-ips: error: check-data: the following arguments are required: path",
        ),
        (
            ["run", "--bogus"],
            "bayes-ips: error: command line: unrecognized arguments: --bogus",
        ),
    ],
)
def test_argument_errors_are_one_clean_line(cli, args, line):
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert _one_line(err) == line


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_lists_the_exit_codes(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_module.main([command, "--help"] if command else ["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    fits = command in (None, "run", "batch")  # the others fit nothing: no convergence check
    expected = [("1", "internal error"), ("2", "invalid input")]
    expected += [("0", "converge"), ("3", "converge")] if fits else [("0", "done")]
    for code, words in expected:
        assert re.search(rf"^  {code}  .*{words}", text, re.MULTILINE), (command, code, text)
    assert fits or not re.search(r"^  3  ", text, re.MULTILINE)


@pytest.mark.parametrize("command,positional", [("check-data", "path"), ("report", "run_dir")])
def test_positionals_have_help(command, positional, capsys):
    with pytest.raises(SystemExit):
        cli_module.main([command, "--help"])
    text = capsys.readouterr().out
    assert re.search(rf"^  {positional} +\w", text, re.MULTILINE), text


@pytest.fixture(scope="module")
def exact_spec(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "exact.toml"
    path.write_text(EXACT_SPEC, encoding="utf-8")
    return path


def _headline_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if "P(benefit) " in line and "months" in line]


def test_run_marks_its_headline_lines_quick(cli, exact_spec, tmp_path):
    code, out, err = cli("run", exact_spec, "--out", tmp_path / "r", "--quick")
    assert code == 0, err
    lines = _headline_lines(out)
    assert len(lines) == 3  # one per horizon of the bundled data
    assert all(line.endswith("[QUICK RUN]") for line in lines), lines


def test_batch_marks_its_headline_lines_quick(cli, exact_spec, tmp_path):
    code, out, err = cli("batch", exact_spec, "--out", tmp_path / "b", "--jobs", "1", "--quick")
    assert code == 0, err
    lines = _headline_lines(out)
    assert lines and all("[QUICK RUN]" in line for line in lines), out


FALLING = [
    "IPS,6,12,36,38,true,s",
    "IPS,12,10,36,38,true,s",
    "TAU,6,5,18,20,true,s",
    "TAU,12,7,18,20,true,s",
]
"""IPS's cumulative count falls from 12 to 10: the models that pool horizons cannot use it."""


def test_check_data_and_run_agree_on_falling_counts(cli, tmp_path):
    table = write_table(tmp_path, FALLING)
    code, out, err = cli("check-data", table)
    assert code == 2 and out == ""
    checked = _one_line(err)
    code, _, err = cli("run", "--data", table, "--out", tmp_path / "r")
    assert code == 2 and not (tmp_path / "r").exists()
    assert _one_line(err) == checked
    for needle in ("'employed'", "value 10", "arm 'IPS'", "falls from 12", "needed by"):
        assert needle in checked, needle
    assert checked.endswith(
        "(needed by hierarchical_beta_binomial, hierarchical_logistic, discrete_time_hazard)"
    )


def test_check_data_applies_only_the_rules_of_the_spec_s_models(cli, tmp_path, exact_spec):
    """The exact models analyse each horizon on its own rows: the falling counts are a warning
    for them, and run agrees."""
    table = write_table(tmp_path, FALLING)
    code, out, _ = cli("check-data", table, "--spec", exact_spec)
    assert code == 0 and "valid" in out and "falls from 0.333" in out
    assert "need:" not in out  # no model of the spec needs the cohort rule
    code, _, err = cli("run", exact_spec, "--quick", "--data", table, "--out", tmp_path / "r")
    assert code == 0, err


def test_check_data_with_a_spec_checks_its_arm_labels_as_run_does(cli, tmp_path, exact_spec):
    rows = [r.replace("IPS,", "ips,").replace("TAU,", "tau,") for r in FALLING]
    table = write_table(tmp_path, rows)
    code, out, err = cli("check-data", table, "--spec", exact_spec)
    assert code == 2 and out == ""
    checked = _one_line(err)
    assert "field 'treatment', value 'IPS'" in checked and "did you mean 'ips'?" in checked
    code, _, err = cli("run", exact_spec, "--quick", "--data", table, "--out", tmp_path / "r")
    assert code == 2 and _one_line(err) == checked


def test_check_data_says_which_model_needs_which_rule(cli):
    code, out, _ = cli("check-data", "package:ips_in_pain.csv")
    assert code == 0
    (line,) = [line for line in out.splitlines() if " need: " in line]
    assert line.startswith(
        "hierarchical_beta_binomial, hierarchical_logistic, discrete_time_hazard of "
        "models/default.toml need: "
    )
    assert "n_analysed" in line and "never fall" in line and line.endswith("; met")


def test_an_arm_label_in_another_case_gets_a_hint(cli, tmp_path):
    code, _, err = cli("run", "--treatment", "ips", "--out", tmp_path / "r")
    assert code == 2
    assert "value 'ips'" in _one_line(err) and "did you mean 'IPS'?" in err


def test_numpy_scalars_are_shown_as_python_values():
    error = InputError("t.csv", "rule", field="arm", value=np.str_("IPS"))
    assert error.message == "t.csv, field 'arm', value 'IPS': rule"
    assert InputError("t.csv", "rule", value=np.int64(24)).message == "t.csv, value 24: rule"


@pytest.fixture
def private_state(tmp_path, monkeypatch):
    """A fresh per-user state folder, and a shared temporary folder, both under tmp_path."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    state_dir.cache_clear()
    yield tmp_path / "state" / "bayes-ips"
    state_dir.cache_clear()


def _crash(*_args, **_kwargs):
    raise RuntimeError("a bug")


def _logged_path(err: str) -> str:
    line = _one_line(err)
    assert line.startswith("bayes-ips: internal error (a bug, please report it); details in ")
    return line.rsplit(" ", 1)[1]


def test_the_crash_log_is_private_and_follows_no_planted_symlink(
    cli, private_state, tmp_path, monkeypatch
):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "shared-tmp" / "bayes-ips-error.log").symlink_to(victim)  # the old fixed name
    monkeypatch.setitem(cli_module.COMMANDS, "check-data", _crash)
    code, out, err = cli("check-data", "package:ips_in_pain.csv")
    assert code == 1 and out == ""
    log = _logged_path(err)
    assert os.path.dirname(log) == str(private_state)
    assert stat.S_IMODE(os.lstat(private_state).st_mode) == 0o700
    assert stat.S_IMODE(os.lstat(log).st_mode) == 0o600
    with open(log, encoding="utf-8") as file:
        assert "RuntimeError: a bug" in file.read()
    assert victim.read_text() == "precious"


def test_a_state_folder_that_is_a_symlink_is_not_used(cli, private_state, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    private_state.parent.mkdir()
    private_state.symlink_to(elsewhere)
    monkeypatch.setitem(cli_module.COMMANDS, "priors", _crash)
    code, _, err = cli("priors")
    assert code == 1
    log = _logged_path(err)
    assert list(elsewhere.iterdir()) == []
    folder = os.path.dirname(log)
    assert folder.startswith(str(tmp_path / "shared-tmp"))  # a new private temporary folder
    assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o700


def test_a_crash_while_re_rendering_is_logged_in_the_run_folder(
    cli, private_state, report_run, tmp_path, monkeypatch
):
    import shutil

    from bayes_ips import api

    run = tmp_path / "run"
    shutil.copytree(report_run, run)
    monkeypatch.setattr(api, "rerender", _crash)
    code, _, err = cli("report", run)
    assert code == 1
    log = _logged_path(err)
    assert os.path.dirname(log) == str(run)
    assert stat.S_IMODE(os.lstat(log).st_mode) == 0o600


def test_warnings_go_to_a_private_log(private_state, monkeypatch):
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    route_warnings()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("routed away from stderr", UserWarning, stacklevel=1)
    log = private_state / "warnings.log"
    assert "routed away from stderr" in log.read_text(encoding="utf-8")
    assert stat.S_IMODE(os.lstat(log).st_mode) == 0o600
    assert stat.S_IMODE(os.lstat(private_state).st_mode) == 0o700
