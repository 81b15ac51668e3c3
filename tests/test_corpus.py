"""The bad-input corpus (tests/corpus/): every malformed table or spec is exit code 2 with one line
that names the problem, no traceback, and nothing written.

Tables are run as ``bayes-ips run --data FILE --treatment A --control B``; specs as
``bayes-ips run SPEC``. A few go through the real console entry point in a child process, the
rest through the in-process ``cli`` fixture. Huge files are generated here, never committed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import HEADER, run_subprocess

CORPUS = Path(__file__).parent / "corpus"

DATA = {
    "count_text.csv": ["line 2", "'employed'", "'ten'", "must be a number"],
    "count_fraction.csv": ["'employed'", "whole number"],
    "count_negative.csv": ["'employed'", "negative"],
    "count_missing.csv": ["'employed'", "missing"],
    "count_nan.csv": ["'employed'", "finite"],
    "count_huge.csv": ["'n_randomised'", "implausible"],
    "employed_above_analysed.csv": ["'employed'", "cannot exceed n_analysed"],
    "analysed_above_randomised.csv": ["'n_analysed'", "cannot exceed n_randomised"],
    "analysed_zero.csv": ["'n_analysed'", "at least 1"],
    "horizon_negative.csv": ["'horizon_months'", "'-6'", "positive number"],
    "horizon_infinite.csv": ["'horizon_months'", "positive number"],
    "verified_maybe.csv": ["'verified'", "'maybe'", "true or false"],
    "missing_column.csv": ["'n_randomised'", "missing required column"],
    "duplicate_column.csv": ["'employed'", "more than once in the header"],
    "duplicate_row.csv": ["line 3", "appears more than once"],
    "one_arm.csv": ["'arm'", "at least two arms"],
    "ragged_horizons.csv": ["horizon 24", "not for arm 'B'"],
    "semicolon_separated.csv": ["separated by ';'"],
    "too_many_fields.csv": ["not a well-formed CSV"],
    "header_only.csv": ["no data rows"],
    "empty.csv": ["empty"],
    "utf16_bom.csv": ["UTF-16", "UTF-8"],
    "utf16_no_bom.csv": ["UTF-16", "UTF-8"],
    "latin1.csv": ["not UTF-8", "offset"],
    "png_named_csv.csv": ["binary file"],
    "hostile_terminal_escape.csv": ["'arm'", r"\x1b", "printable"],
    "hostile_newline_label.csv": ["'arm'", r"\n", "printable"],
    "hostile_long_label.csv": ["'arm'", "at most 100 characters"],
    "hostile_bidi_override.csv": ["'arm'", r"\u202e", "printable"],
    "hostile_bell_in_source.csv": ["'source'", "control character"],
    "csv_named_xlsx.xlsx": ["not a readable Excel workbook"],
    "garbage.parquet": ["not a readable Parquet file"],
    "count_percentage.csv": ["'33.3%'", "looks like a percentage: enter the number employed"],
    "horizon_with_unit.csv": ["'horizon_months'", "'12m'", "write 12"],
    "column_horizon.csv": ["column 'horizon': did you mean horizon_months?"],
    "arm_label_case.csv": ["'treatment'", "'A'", "did you mean 'a'?"],
}

SPEC = {
    "syntax_error.toml": ["not valid TOML", "line 1"],
    "utf16.toml": ["not UTF-8"],
    "latin1.toml": ["not UTF-8"],
    "unknown_key.toml": ["'sampler.chainz'", "unknown key"],
    "seed_string.toml": ["'seed'", "type int"],
    "seed_negative.toml": ["'seed'", "between 0 and"],
    "chains_zero.toml": ["'sampler.chains'", "between 1 and 64"],
    "target_accept_above_one.toml": ["'sampler.target_accept'", "1.5"],
    "interval_nan.toml": ["'estimands.interval'", "nan"],
    "thresholds_empty.toml": ["'estimands.rd_thresholds'", "at least one"],
    "thresholds_strings.toml": ["'estimands.rd_thresholds'", "'0.1'"],
    "unknown_model.toml": ["'models'", "'magic'", "unknown model"],
    "unknown_prior.toml": ["'models.beta_binomial.priors'", "'nope'", "unknown prior"],
    "priors_empty.toml": ["'models.beta_binomial.priors'", "at least one prior"],
    "model_not_table.toml": ["'models.beta_binomial'", "must be a table"],
    "models_empty.toml": ["'models'", "at least one model"],
    "duplicate_key.toml": ["not valid TOML"],
    "name_traversal.toml": ["'name'", "'../../outside'"],
    "name_absolute.toml": ["'name'", "'/tmp/outside'"],
    "data_package_traversal.toml": ["package:../specs/default.toml", "plain file name"],
    "data_path_nul.toml": [r"trial\x00.csv", "control character"],
    "data_path_missing.toml": ["no/such/trial.csv", "not found"],
    "data_path_directory.toml": ["not a regular file"],
    "same_arms.toml": ["'treatment'", "different arms"],
    "unknown_arm.toml": ["'IPS+TAU'", "arms found: 'IPS', 'TAU'"],
    "toml_bomb_nesting.toml": ["nested too deeply"],
    "toml_bomb_integer.toml": ["too many digits"],
    "primary_horizon_negative.toml": ["'data.primary_horizon'", "-12"],
}

SUBPROCESS = {"utf16_bom.csv", "hostile_terminal_escape.csv"}


def _args(name: str, out: Path) -> list:
    if name in DATA:
        path = CORPUS / "data" / name
        return ["run", "--data", path, "--treatment", "A", "--control", "B", "--out", out]
    return ["run", CORPUS / "spec" / name, "--out", out]


def _assert_rejected(code: int, err: str, needles: list[str], tmp_path: Path) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bayes-ips: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert all(c.isprintable() for c in lines[0])
    assert "np." not in lines[0], "a NumPy repr in the message"
    assert list(tmp_path.iterdir()) == [], "something was written"


def test_the_corpus_has_every_file_and_no_stray_one():
    on_disk = {p.name for p in (CORPUS / "data").iterdir()} | {
        p.name for p in (CORPUS / "spec").iterdir()
    }
    assert on_disk == set(DATA) | set(SPEC)
    assert len(on_disk) >= 25


@pytest.mark.parametrize("name", sorted(set(DATA) | set(SPEC) - SUBPROCESS))
def test_corpus_file_in_process(name, cli, tmp_path):
    code, out, err = cli(*_args(name, tmp_path / "out"))
    _assert_rejected(code, err, (DATA | SPEC)[name], tmp_path)
    assert out == ""


@pytest.mark.parametrize("name", sorted(SUBPROCESS))
def test_corpus_file_through_the_console_entry_point(name, tmp_path):
    proc = run_subprocess(*_args(name, tmp_path / "out"))
    _assert_rejected(proc.returncode, proc.stderr, (DATA | SPEC)[name], tmp_path)
    assert proc.stdout == ""


def test_huge_table_is_refused_before_reading(tmp_path, cli):
    inputs = tmp_path / "in"
    inputs.mkdir()
    huge = inputs / "huge.csv"
    with huge.open("wb") as f:  # sparse: 50 MB + 1 byte without writing them
        f.write(HEADER.encode())
        f.truncate(50_000_001)
    code, _, err = cli(
        "run", "--data", huge, "--treatment", "A", "--control", "B", "--out", tmp_path / "o"
    )
    assert code == 2 and "larger than 50 MB" in err and str(huge) in err
    assert not (tmp_path / "o").exists()


def test_table_with_too_many_rows(tmp_path, cli):
    inputs = tmp_path / "in"
    inputs.mkdir()
    rows = [f"A{i},12,1,2,2,true,s" for i in range(10_001)]
    table = inputs / "long.csv"
    table.write_text("\n".join([HEADER, *rows]) + "\n")
    code, _, err = cli("run", "--data", table, "--out", tmp_path / "o")
    assert code == 2 and "10,001 rows" in err and "at most 10,000" in err
    assert not (tmp_path / "o").exists()


def test_huge_spec_is_refused_before_reading(tmp_path, cli):
    inputs = tmp_path / "in"
    inputs.mkdir()
    spec = inputs / "huge.toml"
    with spec.open("wb") as f:
        f.write(b'title = "x"\n')
        f.truncate(1_000_001)
    code, _, err = cli("run", spec, "--out", tmp_path / "o")
    assert code == 2 and "larger than 1 MB" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "args,needles",
    [
        (["run", "--seed", "-1"], ["argument --seed, value -1", "from 0 to"]),
        (["run", "--seed", str(2**40)], ["argument --seed", "from 0 to"]),
        (["run", "--data", "x" * 5000 + ".csv"], ["cannot access the file"]),
        (["run", "--data", "package:../../cli.py"], ["plain file name"]),
        (["run", "--treatment", "TAU", "--control", "TAU"], ["different arms"]),
        (["run", "package:../data/ips_in_pain.csv"], ["plain file name"]),
    ],
)
def test_bad_arguments(args, needles, tmp_path, cli):
    code, _, err = cli(*args, "--out", tmp_path / "o")
    _assert_rejected(code, err, needles, tmp_path)
