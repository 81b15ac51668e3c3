"""Load and validate an aggregate trial table (one row per arm x horizon).

A table in the individual participant format is read by :mod:`bayes_ips.data.ipd`;
:func:`bayes_ips.data.load_trial` tells the two apart.

Errors (exit code 2; the message names file, line, field, value and rule):

- the path is unusable (a control character, too long), or ``package:NAME`` is not a plain
  file name;
- the file is missing, unreadable, larger than :data:`MAX_FILE_BYTES`, binary, UTF-16 or another
  non-UTF-8 encoding, empty, has no data rows or more than :data:`MAX_ROWS` rows;
- a required column is missing, or a column name appears twice;
- an arm label is empty, longer than :data:`MAX_LABEL` characters or holds non-printable
  characters (line breaks, terminal escapes); a source holds control characters other than tab
  and line breaks;
- a count (``employed``, ``n_analysed``, ``n_randomised``) is missing, not a number, not a whole
  number, negative, or above :data:`MAX_COUNT`; ``n_analysed`` is 0;
- ``employed > n_analysed`` or ``n_analysed > n_randomised``;
- ``horizon_months`` is missing, not a number or not positive;
- ``verified`` is not a boolean (true/false, yes/no, 1/0, any case);
- the same arm x horizon appears twice; fewer than two arms; a horizon present for some arms only.

The messages add a hint for the common data-entry mistakes: a count entered as a percentage
("33.3%"), a horizon written with its unit ("12m"), a column name close to a required one
(``horizon`` for ``horizon_months``), and a treatment or control label that differs from an arm
of the table only in case.

Warnings (the analysis runs, the report lists them):

- a cumulative proportion employed that falls at a later horizon (the outcome is "employment
  attained during follow-up", so it should not fall; a falling rate suggests a data-entry error);
- ``n_randomised`` that changes between horizons of one arm;
- an empty ``source`` (the provenance is then shown as "not stated");
- columns beyond the required ones (ignored);
- arms other than the compared treatment and control (kept in the data table, not analysed).
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from bayes_ips.errors import InputError

COLUMNS = ("arm", "horizon_months", "employed", "n_analysed", "n_randomised", "verified", "source")
COUNT_COLUMNS = ("employed", "n_analysed", "n_randomised")
MAX_COUNT = 100_000_000
MAX_FILE_BYTES = 50_000_000
MAX_ROWS = 10_000
MAX_LABEL = 100
PACKAGE_PREFIX = "package:"
BUNDLED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
TRUE_WORDS = {"true", "yes", "1", "t", "y"}
FALSE_WORDS = {"false", "no", "0", "f", "n"}
NOT_STATED = "not stated"
PERCENTAGE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)\s*%$")
"""A count entered as a percentage ("33.3%"): the hint asks for the count."""
WITH_UNIT = re.compile(r"^(?P<number>\d+(\.\d+)?)\s*(m|mo|mos|mth|mths|months?)\.?$", re.IGNORECASE)
"""A horizon written with its unit ("12m", "12 months"): the hint asks for the number alone."""


DIRECTIONS = ("higher", "lower")
"""Which way the outcome is better: ``higher`` (more participants with it, as for employment)
or ``lower`` (fewer, as for death, relapse or readmission)."""


@dataclass(frozen=True)
class Comparison:
    """Which arm is the treatment and which the control, what the outcome is called, and which
    way it is better.

    Benefit means the treatment moves the outcome rate in ``direction``. This is the one
    definition every analysis reads, through :attr:`sign`: P(benefit) = P(sign · RD > 0), a
    benefit threshold d on the RD is sign · RD > d, and one of r on the RR is RR^sign > r (for
    ``lower``: RR < 1/r).
    """

    treatment: str = "IPS"
    control: str = "TAU"
    direction: str = "higher"
    outcome: str = "outcome"
    """The outcome in words, as reports say it ("death within 60 days"); the data column is
    always ``employed``."""

    @property
    def sign(self) -> int:
        """+1 when a higher rate is better, -1 when a lower one is."""
        return 1 if self.direction == "higher" else -1


@dataclass(frozen=True)
class TrialData:
    """A validated aggregate trial table with its provenance.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns :data:`COLUMNS`, sorted by arm then horizon; counts are ``int64``,
        ``verified`` is ``bool``.
    origin : str
        Where the table came from (a path, or ``package:NAME`` for bundled data).
    sha256 : str
        SHA-256 of the file's bytes.
    warnings : tuple of str
        Problems that do not stop an analysis (see the module docstring).
    """

    table: pd.DataFrame
    origin: str
    sha256: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def arms(self) -> list[str]:
        return list(dict.fromkeys(self.table["arm"]))

    @property
    def horizons(self) -> list[int | float]:
        return sorted(set(self.table["horizon_months"]))

    @property
    def all_verified(self) -> bool:
        return bool(self.table["verified"].all())

    def check_comparison(self, comparison: Comparison) -> tuple[str, ...]:
        """Raise if an arm label is unknown; return warnings about arms left out."""
        found = ", ".join(repr(a) for a in self.arms)
        for role, label in (("treatment", comparison.treatment), ("control", comparison.control)):
            if label not in self.arms:
                same = [a for a in self.arms if a.casefold() == label.casefold()]
                hint = f"; did you mean {same[0]!r}? (labels are case-sensitive)" if same else ""
                raise InputError(
                    self.origin,
                    f"the {role} arm is not in the data; arms found: {found}{hint}",
                    field=role,
                    value=label,
                )
        if comparison.treatment == comparison.control:
            raise InputError(
                self.origin,
                "treatment and control must be different arms",
                field="treatment",
                value=comparison.treatment,
            )
        extra = [a for a in self.arms if a not in (comparison.treatment, comparison.control)]
        if extra:
            return (
                f"{self.origin}: arm(s) {', '.join(map(repr, extra))} are not compared "
                f"(treatment {comparison.treatment!r}, control {comparison.control!r}); "
                "they are shown in the data table only",
            )
        return ()

    def verified_only(self) -> TrialData:
        """The same table restricted to rows marked ``verified``."""
        kept = self.table[self.table["verified"]].reset_index(drop=True)
        if kept.empty:
            raise InputError(
                self.origin,
                "no row is marked verified, so a verified-only run has nothing to analyse",
                field="verified",
            )
        return TrialData(kept, self.origin, self.sha256, self.warnings)

    def counts(self, comparison: Comparison) -> xr.Dataset:
        """Counts of the compared arms as a Dataset with dims ``(arm, horizon)``.

        ``arm`` is ``[treatment, control]``; ``horizon`` holds the months. Horizons present for
        only one of the two compared arms are dropped.
        """
        arms = [comparison.treatment, comparison.control]
        sub = self.table[self.table["arm"].isin(arms)]
        common = sorted(
            set.intersection(*(set(g["horizon_months"]) for _, g in sub.groupby("arm")))
        )
        if not common:
            raise InputError(
                self.origin,
                f"arms {arms[0]!r} and {arms[1]!r} share no horizon",
                field="horizon_months",
            )
        sub = sub[sub["horizon_months"].isin(common)].set_index(["arm", "horizon_months"])
        index = pd.MultiIndex.from_product([arms, common], names=["arm", "horizon"])
        sub = sub.reindex(index)
        ds = xr.Dataset(
            {
                name: (("arm", "horizon"), sub[name].to_numpy().reshape(2, len(common)))
                for name in (*COUNT_COLUMNS, "verified")
            },
            coords={"arm": arms, "horizon": common},
        )
        ds["source"] = (("arm", "horizon"), sub["source"].to_numpy().reshape(2, len(common)))
        ds.attrs["origin"] = self.origin
        return ds


def resolve_path(path: str | Path, base: Path | None = None) -> str | Path:
    """Resolve ``package:NAME`` to bundled data and a relative path against ``base``."""
    text = str(path)
    if text.startswith(PACKAGE_PREFIX):
        return text
    p = Path(text).expanduser()
    if not p.is_absolute() and base is not None:
        p = base / p
    return p


def bundled_name(text: str) -> str:
    """The NAME of ``package:NAME``, which must be a plain file name (no folders, no ``..``)."""
    name = text[len(PACKAGE_PREFIX) :]
    if not BUNDLED_NAME.match(name):
        raise InputError(
            text,
            "a bundled file is named by a plain file name (letters, digits, '.', '_', '-'; "
            "no folders)",
        )
    return name


def file_status(path: str | Path, what: str = "file"):
    """``os.stat`` of a user-supplied path, or an input error that names the problem.

    Returns
    -------
    os.stat_result
    """
    text = str(path)
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise InputError(text, f"the {what} path contains a control character")
    try:
        return Path(path).stat()
    except FileNotFoundError:
        raise InputError(text, f"{what} not found") from None
    except OSError as exc:
        raise InputError(text, f"cannot access the {what} ({exc.strerror})") from None


def read_bytes(path: str | Path) -> tuple[bytes, str]:
    text = str(path)
    if text.startswith(PACKAGE_PREFIX):
        res = resources.files("bayes_ips.data").joinpath(bundled_name(text))
        if not res.is_file():
            raise InputError(text, "no bundled data file of that name")
        return res.read_bytes(), text
    p = Path(path)
    status = file_status(p)
    if not stat.S_ISREG(status.st_mode):
        raise InputError(text, "not a regular file")
    if status.st_size > MAX_FILE_BYTES:
        raise InputError(
            text,
            f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB; "
            "an aggregate table has one row per arm and horizon",
        )
    try:
        return p.read_bytes(), text
    except OSError as exc:
        raise InputError(text, f"cannot read the file ({exc.strerror})") from None


def read_frame(raw: bytes, origin: str) -> pd.DataFrame:
    suffix = Path(origin).suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(io.BytesIO(raw))
        except ImportError:
            raise InputError(
                origin, "reading Parquet needs pyarrow (pip install 'bayes_ips[formats]')"
            ) from None
        except Exception:
            raise InputError(origin, "not a readable Parquet file") from None
        return frame.astype(str).replace({"nan": "", "None": "", "<NA>": ""})
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(io.BytesIO(raw), dtype=str, keep_default_na=False)
        except ImportError:
            raise InputError(
                origin, "reading Excel needs openpyxl (pip install 'bayes_ips[formats]')"
            ) from None
        except Exception:
            raise InputError(origin, "not a readable Excel workbook") from None
        return frame
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(raw[:512]):
        raise InputError(origin, "the file is UTF-16 text; save the table as UTF-8 CSV")
    if b"\x00" in raw[:8192]:
        raise InputError(origin, "this is a binary file, not a CSV text table")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            origin, f"not UTF-8 text (bad byte at offset {exc.start}); save the table as UTF-8 CSV"
        ) from None
    if not text.strip():
        raise InputError(origin, "the file is empty; expected a header line and data rows")
    header = [c.strip() for c in next(csv.reader(io.StringIO(text)), [])]
    twice = [c for c in dict.fromkeys(header) if header.count(c) > 1]
    if twice:
        raise InputError(
            origin, "a column name appears more than once in the header", field=twice[0]
        )
    try:
        return pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except pd.errors.ParserError as exc:
        raise InputError(origin, f"not a well-formed CSV table ({str(exc).strip()})") from None


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a byte-order mark: ASCII text with a NUL byte in every other position."""
    even, odd = head[0::2], head[1::2]
    return len(head) >= 8 and (even.count(0) == len(even) or odd.count(0) == len(odd))


def _whole_number(value: str, origin: str, line: int, column: str) -> int:
    text = value.strip()
    if text == "":
        raise InputError(origin, "a count is missing", row=line, field=column, value=value)
    try:
        number = float(text)
    except ValueError:
        rule = "a count must be a number"
        if PERCENTAGE.match(text):
            what = "the number employed" if column == "employed" else "the number of participants"
            rule = f"{rule}; this looks like a percentage: enter {what}"
        raise InputError(origin, rule, row=line, field=column, value=value) from None
    if not np.isfinite(number):
        raise InputError(origin, "a count must be finite", row=line, field=column, value=value)
    if number != int(number):
        raise InputError(
            origin, "a count must be a whole number", row=line, field=column, value=value
        )
    if number < 0:
        raise InputError(origin, "a count cannot be negative", row=line, field=column, value=value)
    if number > MAX_COUNT:
        raise InputError(
            origin,
            f"a count above {MAX_COUNT:,} is implausible for a trial",
            row=line,
            field=column,
            value=value,
        )
    return int(number)


def _horizon(value: str, origin: str, line: int) -> int | float:
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        rule = "horizon_months must be a positive number of months"
        unit = WITH_UNIT.match(text)
        if unit:
            rule += f"; write {unit['number']}"
        raise InputError(origin, rule, row=line, field="horizon_months", value=value) from None
    if not np.isfinite(number) or number <= 0 or number > 1200:
        raise InputError(
            origin,
            "horizon_months must be a positive number of months (at most 1200)",
            row=line,
            field="horizon_months",
            value=value,
        )
    return int(number) if number == int(number) else number


def _boolean(value: str, origin: str, line: int) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InputError(
        origin,
        "verified must be true or false (also yes/no, 1/0)",
        row=line,
        field="verified",
        value=value,
    )


def _label(value: str, origin: str, line: int) -> str:
    arm = value.strip()
    if not arm:
        raise InputError(origin, "arm label is empty", row=line, field="arm", value=value)
    if not arm.isprintable():
        raise InputError(
            origin,
            "an arm label must be printable text (no line breaks, tabs or terminal escapes)",
            row=line,
            field="arm",
            value=value,
        )
    if len(arm) > MAX_LABEL:
        raise InputError(
            origin,
            f"an arm label is at most {MAX_LABEL} characters",
            row=line,
            field="arm",
            value=value,
        )
    return arm


def validate_table(frame: pd.DataFrame, origin: str) -> tuple[pd.DataFrame, list[str]]:
    frame = frame.rename(columns=lambda c: str(c).strip())
    missing = [c for c in COLUMNS if c not in frame.columns]
    separator = next(
        (
            name
            for sep, name in ((";", "';'"), ("\t", "tabs"), ("|", "'|'"))
            if len(frame.columns) == 1 and sep in str(frame.columns[0])
        ),
        None,
    )
    if separator:
        raise InputError(
            origin,
            f"the columns are separated by {separator}, not commas; save the table as a "
            f"comma-separated CSV with the columns {', '.join(COLUMNS)}",
        )
    if missing:
        extra = [str(c) for c in frame.columns if c not in COLUMNS]
        near = {m: difflib.get_close_matches(m, extra, n=1, cutoff=0.6) for m in missing}
        hints = "".join(f"; column {n[0]!r}: did you mean {m}?" for m, n in near.items() if n)
        raise InputError(
            origin,
            f"missing required column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}"
            + hints,
            field=missing[0],
        )
    if frame.empty:
        raise InputError(origin, "the table has a header but no data rows")
    if len(frame) > MAX_ROWS:
        raise InputError(
            origin,
            f"the table has {len(frame):,} rows; an aggregate table has one row per arm and "
            f"horizon (at most {MAX_ROWS:,})",
        )
    warnings: list[str] = []
    extra = [c for c in frame.columns if c not in COLUMNS]
    if extra:
        warnings.append(f"{origin}: extra column(s) {', '.join(map(repr, extra))} ignored")
    rows = []
    for i, rec in enumerate(frame[list(COLUMNS)].to_dict("records")):
        line = i + 2
        arm = _label(str(rec["arm"]), origin, line)
        row = {"arm": arm, "horizon_months": _horizon(str(rec["horizon_months"]), origin, line)}
        for column in COUNT_COLUMNS:
            row[column] = _whole_number(str(rec[column]), origin, line, column)
        if row["n_analysed"] == 0:
            raise InputError(
                origin,
                "n_analysed must be at least 1",
                row=line,
                field="n_analysed",
                value=rec["n_analysed"],
            )
        if row["employed"] > row["n_analysed"]:
            raise InputError(
                origin,
                f"employed ({row['employed']}) cannot exceed n_analysed ({row['n_analysed']})",
                row=line,
                field="employed",
                value=rec["employed"],
            )
        if row["n_analysed"] > row["n_randomised"]:
            raise InputError(
                origin,
                f"n_analysed ({row['n_analysed']}) cannot exceed "
                f"n_randomised ({row['n_randomised']})",
                row=line,
                field="n_analysed",
                value=rec["n_analysed"],
            )
        row["verified"] = _boolean(str(rec["verified"]), origin, line)
        source = str(rec["source"]).strip()
        if any(unicodedata.category(c) == "Cc" and c not in "\t\r\n" for c in source):
            raise InputError(
                origin,
                "the source holds a control character (a terminal escape or NUL?)",
                row=line,
                field="source",
                value=source,
            )
        if not source:
            warnings.append(f"{origin}: line {line} has no source; shown as '{NOT_STATED}'")
            source = NOT_STATED
        row["source"] = source
        row["_line"] = line
        rows.append(row)
    table = pd.DataFrame(rows)
    _check_structure(table, origin)
    warnings.extend(_structure_warnings(table, origin))
    table = table.sort_values(["arm", "horizon_months"], kind="stable").drop(columns="_line")
    for column in COUNT_COLUMNS:
        table[column] = table[column].astype("int64")
    return table.reset_index(drop=True), warnings


def _check_structure(table: pd.DataFrame, origin: str) -> None:
    dup = table.duplicated(["arm", "horizon_months"], keep="first")
    if dup.any():
        first = table[dup].iloc[0]
        raise InputError(
            origin,
            f"arm {first['arm']!r} at {first['horizon_months']} months appears more than once",
            row=int(first["_line"]),
            field="arm",
            value=first["arm"],
        )
    arms = list(dict.fromkeys(table["arm"]))
    if len(arms) < 2:
        raise InputError(
            origin,
            f"need at least two arms to compare; found {len(arms)}",
            field="arm",
            value=arms[0],
        )
    by_arm = {a: set(g["horizon_months"]) for a, g in table.groupby("arm")}
    every = set(table["horizon_months"])
    for arm in arms:
        lacking = sorted(every - by_arm[arm])
        if lacking:
            raise InputError(
                origin,
                f"horizon {lacking[0]} months is present for some arms but "
                f"not for arm {arm!r}; every arm needs every horizon",
                field="horizon_months",
                value=lacking[0],
            )


def _structure_warnings(table: pd.DataFrame, origin: str) -> list[str]:
    warnings = []
    for arm, group in table.sort_values("horizon_months").groupby("arm", sort=False):
        rate = (group["employed"] / group["n_analysed"]).to_numpy()
        months = group["horizon_months"].to_numpy()
        for j in range(1, len(rate)):
            if rate[j] < rate[j - 1] - 1e-12:
                warnings.append(
                    f"{origin}: arm {arm!r}: the proportion employed falls from "
                    f"{rate[j - 1]:.3f} at {months[j - 1]} months to {rate[j]:.3f} at "
                    f"{months[j]} months, although employment attained is cumulative"
                )
        if group["n_randomised"].nunique() > 1:
            warnings.append(f"{origin}: arm {arm!r}: n_randomised differs between horizons")
    return warnings
