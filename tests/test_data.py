"""Loading and validating aggregate trial tables."""

from __future__ import annotations

import pandas as pd
import pytest

from bayes_ips.data import Comparison, load_trial
from bayes_ips.errors import InputError

from .conftest import HEADER, IPS_CSV, write_table

PLACEHOLDER = "illustrative placeholder, replace with Figure 2 of doi:10.1093/pm/pnac032"


def test_bundled_ips_table_matches_the_trial_page():
    data = load_trial("package:ips_in_pain.csv")
    t = data.table.set_index(["arm", "horizon_months"])
    assert data.arms == ["IPS", "TAU"] and data.horizons == [6, 12, 24]
    assert tuple(t.loc[("IPS", 12), ["employed", "n_analysed", "n_randomised"]]) == (19, 36, 38)
    assert tuple(t.loc[("TAU", 12), ["employed", "n_analysed", "n_randomised"]]) == (7, 18, 20)
    assert t.loc[("IPS", 12), "verified"] and t.loc[("TAU", 12), "verified"]
    for arm, h in [("IPS", 6), ("TAU", 6), ("IPS", 24), ("TAU", 24)]:
        assert not t.loc[(arm, h), "verified"]
        assert t.loc[(arm, h), "source"] == PLACEHOLDER
    assert data.warnings == ()


def test_counts_are_labelled_by_arm_and_horizon():
    ds = load_trial(IPS_CSV).counts(Comparison("IPS", "TAU"))
    assert list(ds["arm"].values) == ["IPS", "TAU"]
    assert ds["employed"].sel(arm="TAU", horizon=24).item() == 7


def test_verified_only_keeps_the_12_month_rows():
    data = load_trial(IPS_CSV).verified_only()
    assert data.horizons == [12]


def test_parquet_and_excel_read_the_same_table(tmp_path):
    frame = pd.read_csv(IPS_CSV)
    frame.to_parquet(tmp_path / "t.parquet")
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    ref = load_trial(IPS_CSV).table
    for name in ("t.parquet", "t.xlsx"):
        pd.testing.assert_frame_equal(load_trial(tmp_path / name).table, ref)


BAD_ROWS = {
    "non-numeric count": (
        ["A,12,ten,40,42,true,s", "B,12,6,40,41,true,s"],
        "employed",
        "must be a number",
    ),
    "non-integer count": (
        ["A,12,10.5,40,42,true,s", "B,12,6,40,41,true,s"],
        "employed",
        "whole number",
    ),
    "negative count": (["A,12,-1,40,42,true,s", "B,12,6,40,41,true,s"], "employed", "negative"),
    "missing count": (["A,12,,40,42,true,s", "B,12,6,40,41,true,s"], "employed", "missing"),
    "absurdly large count": (
        ["A,12,10,40,42,true,s", "B,12,6,40,1000000000000,true,s"],
        "n_randomised",
        "implausible",
    ),
    "employed above analysed": (
        ["A,12,50,40,42,true,s", "B,12,6,40,41,true,s"],
        "employed",
        "cannot exceed n_analysed",
    ),
    "analysed above randomised": (
        ["A,12,10,45,42,true,s", "B,12,6,40,41,true,s"],
        "n_analysed",
        "cannot exceed n_randomised",
    ),
    "duplicate arm x horizon": (
        ["A,12,10,40,42,true,s", "A,12,11,40,42,true,s", "B,12,6,40,41,true,s"],
        "arm",
        "more than once",
    ),
    "horizon not positive": (
        ["A,0,10,40,42,true,s", "B,0,6,40,41,true,s"],
        "horizon_months",
        "positive number",
    ),
    "horizon not a number": (
        ["A,twelve,10,40,42,true,s", "B,12,6,40,41,true,s"],
        "horizon_months",
        "positive number",
    ),
    "one arm": (["A,12,10,40,42,true,s", "A,24,12,40,42,true,s"], "arm", "at least two arms"),
    "horizon for one arm only": (
        ["A,12,10,40,42,true,s", "B,12,6,40,41,true,s", "A,24,12,40,42,true,s"],
        "horizon_months",
        "present for some arms",
    ),
    "verified not boolean": (
        ["A,12,10,40,42,maybe,s", "B,12,6,40,41,true,s"],
        "verified",
        "true or false",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_each_malformed_table_is_an_input_error_naming_the_field(tmp_path, case):
    rows, field, rule = BAD_ROWS[case]
    path = write_table(tmp_path, rows)
    with pytest.raises(InputError) as err:
        load_trial(path)
    assert err.value.field == field
    assert rule in err.value.message
    assert str(path) in err.value.message


def test_missing_column(tmp_path):
    path = write_table(
        tmp_path,
        ["A,12,10,40,true,s"],
        header="arm,horizon_months,employed,n_analysed,verified,source",
    )
    with pytest.raises(InputError, match="missing required column"):
        load_trial(path)


@pytest.mark.parametrize(
    "content,rule",
    [
        (b"", "empty"),
        (HEADER.encode() + b"\n", "no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("arm,horizon\n\xe9".encode("latin-1"), "not UTF-8"),
    ],
)
def test_unreadable_files(tmp_path, content, rule):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=rule):
        load_trial(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_trial(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="not a regular file"):
        load_trial(tmp_path)


def test_falling_cumulative_rate_and_extra_column_are_warnings(tmp_path):
    path = write_table(
        tmp_path,
        [
            "A,6,10,40,42,true,s,x",
            "A,12,8,40,42,true,s,x",
            "B,6,6,40,41,true,s,x",
            "B,12,7,40,41,true,,x",
        ],
        header=HEADER + ",note",
    )
    data = load_trial(path)
    text = " | ".join(data.warnings)
    assert "falls from 0.250 at 6 months to 0.200 at 12 months" in text
    assert "'note'" in text and "no source" in text


def test_unknown_arm_lists_the_labels_found(tmp_path, good_rows):
    data = load_trial(write_table(tmp_path, good_rows))
    with pytest.raises(InputError, match="arms found: 'A', 'B'"):
        data.check_comparison(Comparison("IPS", "B"))


def test_a_third_arm_is_a_warning(tmp_path, good_rows):
    data = load_trial(write_table(tmp_path, [*good_rows, "C,12,3,10,10,true,s"]))
    (warning,) = data.check_comparison(Comparison("A", "B"))
    assert "'C'" in warning and "not compared" in warning
