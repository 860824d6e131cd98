"""Dates in a user's exports: the project's one date parser (:func:`parse_dates`).

Accepted without being told (each value is read by the first form it fits):

* ISO dates and times: ``2023-01-05``, ``2023-1-5``, ``2023-01-05 10:30``;
* year first with other separators: ``2023/1/5``, ``2023.1.5``, ``2023年1月5日`` (and ``日``
  or ``号`` omitted, optionally followed by a time);
* compact ``20230105`` (``YYYYMMDD``);
* Excel serial day numbers (days since 1899-12-30, e.g. ``44931`` = 2023-01-05) between 10000
  and 99999 (1927–2173), as CSV exports of date cells formatted as numbers hold them;
* day and month before the year (``05/01/2023``) only when the column (or another date column
  of the same table) settles the order: some value has a first number above 12 (then day/month)
  or a second number above 12 (then month/day). When every value fits both orders the column is
  ambiguous and loading stops with a :class:`~churn_research.model.ChurnDataError`: declare
  ``date_format:`` in the mapping;
* anything else pandas reads unambiguously (``Jan 5, 2023``).

``date_format`` (the mapping's ``date_format:``) fixes the form: a ``strftime`` pattern
(``%d/%m/%Y``) or the tokens ``YYYY``, ``MM``, ``DD`` (``DD/MM/YYYY``, ``YYYY年MM月DD日``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from churn_research.model import ChurnDataError, offending_rows

__all__ = ["parse_dates", "day_month_order", "strftime_pattern", "EXCEL_ORIGIN"]

#: Day 0 of Excel's serial dates (1900 date system, with its 1900 leap-year bug absorbed).
EXCEL_ORIGIN = pd.Timestamp("1899-12-30")
_SERIAL_RANGE = (10_000, 100_000)
_TIME = r"(?:\s*[T\s]\s*(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?"
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?" + _TIME + r"\s*$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_DMY = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})" + _TIME + r"\s*$")
#: dd/mm/yy-like values (a two-digit year): day, month and year orders all left open.
_SHORT_YEAR = re.compile(r"^\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{2}(?:\s|$)")
#: A UTC offset after a time (``+08:00``, ``Z``): dropped, the local time kept.
_OFFSET = re.compile(r"(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$")
_DATE_FORMAT_FIX = ("declare the order in the mapping file, e.g. `date_format: DD/MM/YYYY` (or "
                    "MM/DD/YYYY) at the top or under the table, or export ISO dates (YYYY-MM-DD).")


def strftime_pattern(date_format: str) -> str:
    """``date_format`` as a ``strftime`` pattern: ``DD/MM/YYYY`` -> ``%d/%m/%Y`` (a pattern that
    already holds ``%`` is returned as it is)."""
    if "%" in date_format:
        return date_format
    out = date_format
    for token, code in (("YYYY", "%Y"), ("yyyy", "%Y"), ("YY", "%y"), ("yy", "%y"), ("MM", "%m"), ("mm", "%m"),
                        ("DD", "%d"), ("dd", "%d"), ("HH", "%H"), ("SS", "%S")):
        out = out.replace(token, code)
    return out


def _iso(y: pd.Series, m: pd.Series, d: pd.Series, time: pd.Series) -> pd.Series:
    text = y + "-" + m.str.zfill(2) + "-" + d.str.zfill(2)
    text = text.where(time.isna(), text + " " + time.fillna(""))
    return pd.to_datetime(text, format="ISO8601", errors="coerce")


def _as_text(raw: pd.Series) -> pd.Series:
    """Values as stripped strings (NaN where empty); whole floats lose their ``.0``."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        num = pd.to_numeric(raw, errors="coerce")
        whole = num.notna() & np.isclose(num.fillna(0) % 1, 0)
        text = num.astype(str).where(~whole, num.fillna(0).round().astype("int64").astype(str))
        return text.where(num.notna())
    text = raw.astype("string").str.strip()
    return text.mask(text.eq("")).astype(object).where(raw.notna())


def day_month_order(raw: pd.Series, *, table: str, column: str) -> str | None:
    """The order of a column's ``dd/mm/yyyy``-like values as the values settle it: ``"dmy"``,
    ``"mdy"``, or None (no such values, or every one fits both orders). Raises
    :class:`ChurnDataError` when the values mix both orders."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        return None
    dmy = _as_text(raw).dropna().str.extract(_DMY).dropna(subset=[0])
    if dmy.empty:
        return None
    return _day_month_order(dmy[0], dmy[1], table=table, column=column, order=None,
                            settle_only=True)


def _day_month_order(first: pd.Series, second: pd.Series, *, table: str, column: str,
                     order: str | None, settle_only: bool = False) -> str | None:
    """'dmy' or 'mdy' as the values settle it, else ``order``; raises when neither does (returns
    None with ``settle_only``)."""
    a, b = first.astype(int), second.astype(int)
    day_first, month_first = (a > 12).any(), (b > 12).any()
    if day_first and month_first:
        raise ChurnDataError(
            "the dates mix day/month/year and month/day/year (some have a first number above 12, "
            "others a second number above 12).", table=table, column=column, fix=_DATE_FORMAT_FIX)
    if day_first:
        return "dmy"
    if month_first:
        return "mdy"
    if (a == b).all():
        return "dmy"  # 01/01/2023, 05/05/2023: both orders give the same day
    if order is not None or settle_only:
        return order
    example = f"{int(a[a != b].iloc[0]):02d}/{int(b[a != b].iloc[0]):02d}"
    raise ChurnDataError(
        f"{int((a != b).sum())} date(s) such as {example}/yyyy read both as day/month and as "
        "month/day: no value in the column settles the order.",
        table=table, column=column, fix=_DATE_FORMAT_FIX)


def parse_dates(raw: pd.Series, *, table: str, column: str,
                date_format: str | None = None, frame: pd.DataFrame | None = None,
                order: str | None = None) -> pd.Series:
    """Parse a column of dates (see the module docstring for the accepted forms).

    ``order`` (``"dmy"`` or ``"mdy"``) reads ``dd/mm/yyyy``-like values the values themselves
    do not settle (the loader passes the order another date column of the same table settles).
    Returns ``datetime64[ns]`` with NaT for empty values. Raises :class:`ChurnDataError`
    naming ``table``, ``column`` (and rows of ``frame``, the table, when given) for values that cannot be parsed, for an ambiguous
    day/month order and for a mix of both orders.
    """
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw
    text = _as_text(raw)
    present = text.notna()
    if text.dropna().str.match(r".*" + _OFFSET.pattern).any():  # timezone-aware: keep each value's local time
        text = text.str.replace(_OFFSET, r"\1", regex=True)
    if date_format is not None:
        out = pd.to_datetime(text, format=strftime_pattern(str(date_format)), errors="coerce")
        return _check(text, out, frame, table=table, column=column,
                      fix=f"the column does not follow `date_format: {date_format}`: fix the "
                          "listed rows or the format.")
    short = text.dropna().str.contains(_SHORT_YEAR)
    if short.any():
        raise ChurnDataError(
            f"{int(short.sum())} date(s) such as {text.dropna()[short].iloc[0][:10]!r} have a "
            "two-digit year, so neither the day/month order nor the century is certain.",
            table=table, column=column,
            rows=offending_rows(frame if frame is not None else text.to_frame(),
                                text.notna() & text.fillna("").str.contains(_SHORT_YEAR)),
            fix="declare the form in the mapping file, e.g. `date_format: DD/MM/YY` (or "
                "MM/DD/YY), or export four-digit years.")
    out = pd.to_datetime(text, format="ISO8601", errors="coerce")
    iso = present & out.notna()
    todo = present & out.isna()
    if todo.any():
        rest = text[todo]
        ymd = rest.str.extract(_YMD)
        hit = ymd[0].notna()
        if hit.any():
            out.loc[ymd.index[hit]] = _iso(ymd.loc[hit, 0], ymd.loc[hit, 1], ymd.loc[hit, 2],
                                          ymd.loc[hit, 3])
        rest = rest[~hit]
        compact = rest.str.fullmatch(_COMPACT)
        if compact.any():
            out.loc[rest.index[compact]] = pd.to_datetime(rest[compact], format="%Y%m%d",
                                                          errors="coerce")
        rest = rest[~compact]
        serial = rest.str.fullmatch(_SERIAL)
        if serial.any():
            days = pd.to_numeric(rest[serial])
            ok = days.between(*_SERIAL_RANGE, inclusive="left")
            out.loc[days.index[ok]] = EXCEL_ORIGIN + pd.to_timedelta(days[ok], unit="D")
        rest = rest[~serial]
        dmy = rest.str.extract(_DMY)
        hit = dmy[0].notna()
        if hit.any():
            other = int(iso.sum()) + int((present & ~iso).sum()) - int(hit.sum()) - len(rest[~hit])
            if other:
                raise ChurnDataError(
                    f"the column mixes forms: {int(hit.sum())} value(s) such as "
                    f"{rest[hit].iloc[0][:10]!r} give day and month before the year, {other} "
                    "others give the year first (or an Excel date number). A column read in two "
                    "forms is usually one a spreadsheet converted in part (only the values whose "
                    "day is 12 or less), so its day/month order cannot be trusted.",
                    table=table, column=column,
                    rows=offending_rows(frame if frame is not None else text.to_frame(),
                                        text.index.isin(rest.index[hit])),
                    fix="export the column again in one form (ISO YYYY-MM-DD, or as text from "
                        "the source system), then declare `date_format: DD/MM/YYYY` (or "
                        "MM/DD/YYYY) in the mapping file if the day/month order is not clear.")
            dmy = dmy[hit]
            how = _day_month_order(dmy[0], dmy[1], table=table, column=column, order=order)
            day, month = (dmy[0], dmy[1]) if how == "dmy" else (dmy[1], dmy[0])
            out.loc[dmy.index] = _iso(dmy[2], month, day, dmy[3])
        rest = rest[~hit]
        if len(rest):
            out.loc[rest.index] = pd.to_datetime(rest, errors="coerce", format="mixed")
    return _check(text, out, frame, table=table, column=column,
                  fix="use ISO dates (YYYY-MM-DD), declare `date_format:` in the mapping, or fix "
                      "the listed rows.")


def _check(text: pd.Series, out: pd.Series, frame: pd.DataFrame | None, *, table: str,
           column: str, fix: str) -> pd.Series:
    out = pd.to_datetime(out).astype("datetime64[ns]")
    bad = text.notna() & out.isna()
    if bad.any():
        examples = [v[:20] for v in text[bad].astype(str).unique()[:3]]
        raise ChurnDataError(f"cannot parse {int(bad.sum())} date(s), e.g. {examples}.",
                             table=table, column=column, rows=offending_rows(frame if frame is not None else text.to_frame(), bad),
                             fix=fix)
    return out
