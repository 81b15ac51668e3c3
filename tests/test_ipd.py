"""Individual participant data: validation, derived aggregate table and exact risk sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_ips.data import Comparison, IpdSettings, IpdTrialData, load_trial
from bayes_ips.data.intervals import EXACT, person_periods, risk_sets
from bayes_ips.errors import InputError
from bayes_ips.schema import validate

from .conftest import write_table

IPD_HEADER = "id,arm,event_month,followup_month,verified,source,age"
AGG_COLUMNS = ["arm", "horizon_months", "employed", "n_analysed", "n_randomised"]


def test_synthetic_ipd_reproduces_the_bundled_aggregate_counts_exactly():
    ipd = load_trial("package:ips_in_pain_synthetic_ipd.csv")
    agg = load_trial("package:ips_in_pain.csv")
    assert isinstance(ipd, IpdTrialData)
    pd.testing.assert_frame_equal(ipd.table[AGG_COLUMNS], agg.table[AGG_COLUMNS])
    assert len(ipd.participants) == 58 and ipd.warnings == ()
    # clearly labelled: never verified, and the source says synthetic on every row
    assert not ipd.participants["verified"].any()
    assert ipd.participants["source"].str.startswith("SYNTHETIC").all()
    assert not ipd.table["verified"].any() and ipd.table["source"].str.contains("SYNTHETIC").all()


def test_derived_table_counts_censoring_and_missing_outcomes(tmp_path):
    rows = [
        "a1,A,3,24,true,s,30",  # employed in the first interval
        "a2,A,,9,true,s,40",  # censored at 9 months: known at 6, unknown at 12 and 24
        "a3,A,10,10,true,s,50",  # employed at 10, follow-up ends then: known employed at 12, 24
        "a4,A,,0,true,s,60",  # no outcome at all
        "b1,B,,24,true,s,35",
        "b2,B,20,24,true,s,45",
    ]
    data = load_trial(write_table(tmp_path, rows, header=IPD_HEADER))
    t = data.table.set_index(["arm", "horizon_months"])
    assert tuple(t.loc[("A", 6), ["employed", "n_analysed", "n_randomised"]]) == (1, 3, 4)
    assert tuple(t.loc[("A", 12), ["employed", "n_analysed", "n_randomised"]]) == (2, 2, 4)
    assert tuple(t.loc[("A", 24), ["employed", "n_analysed", "n_randomised"]]) == (2, 2, 4)
    assert tuple(t.loc[("B", 24), ["employed", "n_analysed"]]) == (1, 2)
    rs = risk_sets(data.counts(Comparison("A", "B")))
    assert rs.attrs["method"] == EXACT
    # A: interval 0-6 at risk a1, a2, a3 (a2 followed to 9 >= 6); 6-12: a2 censored inside,
    # a3 employed inside; 12-24: nobody left.
    assert rs["at_risk"].sel(arm="A").values.tolist() == [3, 1, 0]
    assert rs["events"].sel(arm="A").values.tolist() == [1, 1, 0]
    assert rs["at_risk"].sel(arm="B").values.tolist() == [2, 2, 2]
    assert rs["events"].sel(arm="B").values.tolist() == [0, 0, 1]
    pp = person_periods(data.counts(Comparison("A", "B")))
    assert len(pp["event"]) == int(rs["at_risk"].sum())
    assert int(pp["event"].sum()) == int(rs["events"].sum())


def test_horizons_and_covariates_come_from_the_spec_section(tmp_path):
    rows = [
        "a1,A,3,24,true,s,30",
        "a2,A,,24,true,s,40",
        "b1,B,,24,true,s,35",
        "b2,B,7,24,true,s,45",
    ]
    path = write_table(tmp_path, rows, header=IPD_HEADER)
    data = load_trial(path, IpdSettings(horizons=(3, 12), covariates=("age",)))
    assert data.horizons == [3, 12]
    counts = data.counts(Comparison("A", "B"))
    assert counts["x"].sel(covariate="age").values.tolist() == [30.0, 40.0, 35.0, 45.0]
    assert counts["treated"].values.tolist() == [1, 1, 0, 0]


def test_verified_only_keeps_verified_participants(tmp_path):
    rows = ["a1,A,3,24,true,s,1", "a2,A,,24,false,s,2", "b1,B,,24,true,s,3", "b2,B,,24,no,s,4"]
    data = load_trial(write_table(tmp_path, rows, header=IPD_HEADER)).verified_only()
    assert len(data.participants) == 2 and data.table["n_randomised"].tolist() == [1] * 6
    with pytest.raises(InputError, match="no participant is marked verified"):
        load_trial("package:ips_in_pain_synthetic_ipd.csv").verified_only()


GOOD = ["a1,A,3,24,true,s,30", "b1,B,,24,true,s,40"]
BAD = {
    "duplicate id": (["a1,A,3,24,true,s,30", "a1,B,,24,true,s,40"], 3, "id", "more than once"),
    "empty id": ([",A,3,24,true,s,30", *GOOD[1:]], 2, "id", "id is empty"),
    "empty arm": (["a1,,3,24,true,s,30", *GOOD[1:]], 2, "arm", "arm label is empty"),
    "event text": (["a1,A,soon,24,true,s,30", *GOOD[1:]], 2, "event_month", "event_month must"),
    "event zero": (["a1,A,0,24,true,s,30", *GOOD[1:]], 2, "event_month", "(0, 1200]"),
    "follow missing": (["a1,A,3,,true,s,30", *GOOD[1:]], 2, "followup_month", "followup_month"),
    "follow negative": (["a1,A,,-2,true,s,30", *GOOD[1:]], 2, "followup_month", "[0, 1200]"),
    "event after follow-up": (["a1,A,30,24,true,s,30", *GOOD[1:]], 2, "event_month", "after"),
    "bad verified": (["a1,A,3,24,maybe,s,30", *GOOD[1:]], 2, "verified", "true or false"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_rows_name_file_line_field_value_and_rule(case, tmp_path):
    rows, line, field, rule = BAD[case]
    path = write_table(tmp_path, rows, header=IPD_HEADER)
    with pytest.raises(InputError) as err:
        load_trial(path)
    e = err.value
    assert e.source == str(path) and e.row == line and e.field == field and rule in e.rule
    assert str(path) in e.message and f"line {line}" in e.message


def test_covariate_errors(tmp_path):
    path = write_table(tmp_path, ["a1,A,3,24,true,s,x", *GOOD[1:]], header=IPD_HEADER)
    with pytest.raises(InputError, match="finite number") as err:
        load_trial(path, IpdSettings(covariates=("age",)))
    assert err.value.row == 2 and err.value.field == "age" and err.value.value == "x"
    load_trial(path)  # not selected: not validated
    with pytest.raises(InputError, match="not a column; baseline columns found: age"):
        load_trial(path, IpdSettings(covariates=("sex",)))
    same = write_table(tmp_path, ["a1,A,3,24,true,s,5", "b1,B,,24,true,s,5"], header=IPD_HEADER)
    with pytest.raises(InputError, match="same value for every participant"):
        load_trial(same, IpdSettings(covariates=("age",)))


def test_structural_errors(tmp_path):
    missing_col = write_table(tmp_path, ["a1,A,3,true,s"], header="id,arm,event_month,verified,src")
    with pytest.raises(InputError, match="lacks required column") as err:
        load_trial(missing_col)
    assert err.value.field == "followup_month"
    one_arm = write_table(tmp_path, ["a1,A,3,24,true,s,1", "a2,A,,24,true,s,2"], header=IPD_HEADER)
    with pytest.raises(InputError, match="at least two arms"):
        load_trial(one_arm)
    short = write_table(tmp_path, ["a1,A,3,24,true,s,1", "b1,B,,5,true,s,2"], header=IPD_HEADER)
    with pytest.raises(InputError, match="no participant of arm 'B' has a known outcome at 6"):
        load_trial(short)


@pytest.mark.parametrize(
    ("table", "field", "rule"),
    [
        ({"horizons": []}, "ipd.horizons", "at least one"),
        ({"horizons": [12, 6]}, "ipd.horizons", "increasing"),
        ({"horizons": [0]}, "ipd.horizons", "(0, 1200]"),
        ({"covariates": "age"}, "ipd.covariates", "list of column names"),
        ({"covariates": ["arm"]}, "ipd.covariates", "distinct baseline columns"),
        ({"horizon": [6]}, "ipd.horizon", "unknown key"),
    ],
)
def test_ipd_spec_section_errors_name_the_key(table, field, rule):
    with pytest.raises(InputError) as err:
        validate(IpdSettings, table, "s.toml", at=("ipd",))
    assert err.value.field == field and rule in err.value.rule


def test_check_data_accepts_ipd(cli):
    code, out, _ = cli("check-data", "package:ips_in_pain_synthetic_ipd.csv")
    assert code == 0 and "valid; 6 rows" in out and "unverified rows" in out


def test_ipd_counts_keep_participants_of_the_compared_arms_only(tmp_path):
    rows = [*GOOD, "c1,C,2,24,true,s,50"]
    data = load_trial(write_table(tmp_path, rows, header=IPD_HEADER))
    counts = data.counts(Comparison("A", "B"))
    assert counts.sizes["participant"] == 2
    assert np.isnan(counts["event_month"].values[1])


def test_covariates_named_for_an_aggregate_table_are_reported_unused():
    data = load_trial("package:ips_in_pain.csv", IpdSettings(covariates=("age",)))
    assert any("covariates of the [ipd] section (age) are not used" in w for w in data.warnings)
