"""Tables as a reviewer reads them: no NaN / None / <NA> (a dash instead), booleans as words,
counts as integers with thousands separators, large amounts with separators and no spurious
decimals, p-values as ``p < 0.001``, dates without a time of day.

:func:`readable` returns such a copy of a DataFrame; :func:`register` makes it how every
DataFrame a notebook displays is rendered (``plots.set_style`` calls it), so the notebooks need
no formatting code of their own. It also puts each displayed table's data beside its HTML in the
notebook's output (:data:`TABLE_MIME`, :func:`table_data`): the runner writes them to
``<stage>.xlsx`` beside the report, for BI tools.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from IPython import get_ipython
from IPython.core.formatters import JSONFormatter
from pandas.api import types
from pandas.io.formats.style import Styler
from traitlets import Unicode

from churn_research.i18n import label, label_msg
from churn_research.narrate.format import MISSING, TABLE_MIME, pvalue

__all__ = ["readable", "register", "table_data", "TABLE_MIME"]


# a p-value column, by its raw name (p_value, glm_p_value) or its header in either language
# ("adjusted p-value", "p-value (rank time)", "校正后 p 值", "p 值（KM 时间）")
_P_VALUE = re.compile(r"(^|[\s_])(p|p[-_ ]?values?|pvalue|p_adj|p_holm|p ?值)(\s*[(（].*[)）])?$",
                      re.IGNORECASE)
_NOT_COUNT = re.compile(r"rate|share|ratio|prob|risk|lift|auc|mean|median|score|pct|percent|"
                        r"gap|hr|coef|se$|ci|lower|upper|effect|value|chi2|stat", re.IGNORECASE)
_YES_NO = {True: label_msg("yes"), False: label_msg("no")}


def _yes_no(v) -> str:
    """A boolean as a word in the report language ("yes" / "no", 是 / 否)."""
    return label(_YES_NO[bool(v)])


def _missing(v) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v))


def _column(s: pd.Series, name: str) -> pd.Series:
    if types.is_bool_dtype(s):
        return s.map(lambda v: MISSING if _missing(v) else _yes_no(v))
    if types.is_datetime64_any_dtype(s):
        return s.map(lambda v: MISSING if _missing(v) else
                     (v.strftime("%Y-%m-%d") if v == v.normalize() else str(v)))
    if types.is_numeric_dtype(s):
        vals = s.astype(float)
        finite = vals[np.isfinite(vals)]
        if _P_VALUE.search(name):
            return vals.map(lambda v: MISSING if np.isnan(v) else pvalue(v).removeprefix("p = ")
                            .replace("p < ", "< "))
        if types.is_integer_dtype(s) or (len(finite) and not _NOT_COUNT.search(name)
                                         and (finite == np.round(finite)).all()):
            return vals.map(lambda v: MISSING if np.isnan(v) else f"{int(round(v)):,}")
        user = pd.get_option("display.float_format")
        if user is not None:
            return vals.map(lambda v: MISSING if np.isnan(v) else user(v))
        big = len(finite) and np.nanmax(np.abs(finite)) >= 1000
        digits = pd.get_option("display.precision")
        return vals.map(lambda v: MISSING if np.isnan(v) else
                        (f"{v:,.0f}" if big else f"{v:,.{digits}f}"))
    values = s.astype(object)
    return values.map(lambda v: MISSING if _missing(v) else
                      (_yes_no(v) if isinstance(v, bool | np.bool_) else v))


def readable(df: pd.DataFrame) -> pd.DataFrame:
    """A display copy of ``df`` with every cell as text a reviewer reads cleanly."""
    index = df.index
    if not isinstance(index, pd.MultiIndex) and (types.is_bool_dtype(index) or (
            index.dtype == object and any(isinstance(v, bool | np.bool_) for v in index))):
        index = pd.Index([_yes_no(v) if isinstance(v, bool | np.bool_) else v for v in index],
                         name=index.name)
    out = pd.DataFrame(index=index, columns=df.columns, dtype=object)
    for i, col in enumerate(df.columns):
        name = col[-1] if isinstance(col, tuple) else col
        out.iloc[:, i] = _column(df.iloc[:, i], str(name)).to_numpy()
    return out


def _html(df: pd.DataFrame) -> str:
    """Full cell text (no "..." truncation); a default 0, 1, 2 ... row index is not shown."""
    plain = (isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1
             and df.index.name is None)
    with pd.option_context("display.max_colwidth", None):
        if plain:
            return readable(df).to_html(index=False, classes="dataframe", border=1)
        return readable(df)._repr_html_()


def _styler_html(styler: Styler) -> str:
    """A notebook's own Styler keeps its formats; booleans read as words, missing as a dash."""
    data = styler.data
    bools = [c for c in data.columns if types.is_bool_dtype(data[c])
             or (data[c].dtype == object and data[c].map(lambda v: isinstance(v, bool | np.bool_)).any())]
    if bools:
        styler = styler.format(lambda v: MISSING if _missing(v) else
                               (_yes_no(v) if isinstance(v, bool | np.bool_) else v),
                               subset=bools)
    return styler.to_html()


def _value(v):
    """A cell as JSON: numbers, text, booleans; None for a missing value; dates as ISO text."""
    if _missing(v):
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v if isinstance(v, str) else str(v)


def _header(col) -> str:
    if isinstance(col, tuple):
        return " ".join(str(c) for c in col if not _missing(c) and str(c) != "")
    return "" if _missing(col) else str(col)


def _shown_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows pandas shows of ``df`` (head and tail of a long table, as ``_repr_html_``)."""
    most = pd.get_option("display.max_rows")
    if most is None or len(df) <= most:
        return df
    n = pd.get_option("display.min_rows") or most
    return pd.concat([df.head(n // 2), df.tail(n - n // 2)])


def table_data(obj) -> dict | None:
    """The data of a displayed DataFrame or Styler as its table in the report shows them: the
    headers as shown (levels joined by a space), the row labels as the first columns when the
    table shows them, then the columns it shows (a Styler's hidden columns left out); values as
    numbers, text and booleans, missing values as None, dates as ISO text (``dates``: their
    column positions). None for anything else."""
    try:
        if isinstance(obj, Styler):
            df = obj.data
            hidden = set(getattr(obj, "hidden_columns", []) or [])
            df = df.iloc[:, [i for i in range(df.shape[1]) if i not in hidden]]
            index = not all(getattr(obj, "hide_index_", [False]))
        elif isinstance(obj, pd.DataFrame):
            df = _shown_rows(obj)
            index = not (isinstance(df.index, pd.RangeIndex) and df.index.start == 0
                         and df.index.step == 1 and df.index.name is None)
        else:
            return None
        columns = [_header(c) for c in df.columns]
        frame = df.copy()
        frame.columns = range(frame.shape[1])
        if index:
            labels = frame.index.to_frame(index=False)
            labels = labels.map(lambda v: _yes_no(v) if isinstance(v, bool | np.bool_) else v)
            columns = [_header(n) for n in df.index.names] + columns
            frame = pd.concat([labels, frame.reset_index(drop=True)], axis=1, ignore_index=True)
        dates = [i for i in range(frame.shape[1])
                 if types.is_datetime64_any_dtype(frame.iloc[:, i])]
        rows = [[_value(v) for v in row] for row in frame.itertuples(index=False, name=None)]
        return {"columns": columns, "rows": rows, "dates": dates}
    except Exception:  # noqa: BLE001 - a table that cannot be exported is still shown
        return None


class _TableFormatter(JSONFormatter):
    """IPython's formatter for :data:`TABLE_MIME` (a dict per displayed table)."""

    format_type = Unicode(TABLE_MIME)


def register() -> bool:
    """Render every DataFrame a notebook displays through :func:`readable`, and Stylers with
    booleans as words and missing values as a dash (HTML), each with its data beside it
    (:data:`TABLE_MIME`); True when running in IPython."""
    ip = get_ipython()
    if ip is None:
        return False
    pd.set_option("styler.format.na_rep", MISSING)
    html = ip.display_formatter.formatters["text/html"]
    html.for_type(pd.DataFrame, _html)
    html.for_type(Styler, _styler_html)
    formatters = ip.display_formatter.formatters
    if TABLE_MIME not in formatters:
        formatters[TABLE_MIME] = _TableFormatter(parent=ip.display_formatter)
    formatters[TABLE_MIME].for_type(pd.DataFrame, table_data)
    formatters[TABLE_MIME].for_type(Styler, table_data)
    return True
