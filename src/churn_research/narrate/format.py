"""How numbers read in every report: percentages, intervals, money, counts, p-values, dates.

One set of formatters so that the same quantity reads the same way in every report, the index
and the summary: counts are integers with thousands separators, money has separators and 0 or 2
decimals, p-values read ``p < 0.001``, missing values read "–".
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping
from typing import Any

from churn_research.i18n import _, is_chinese, label, n_, t
from churn_research.i18n import currency as _currency

#: The mimetype that carries a displayed table's data (:func:`.tables.table_data`) in a notebook
#: output, beside its ``text/html``; report renderers show the HTML and ignore it. Defined here,
#: not in :mod:`.tables`, so that the runner reads it without importing pandas' Styler (which
#: imports matplotlib.pyplot, about 1.5 s).
TABLE_MIME = "application/vnd.churn-research.table+json"

__all__ = ["readable", "MISSING", "is_missing", "pct", "pct_ci", "ratio_ci", "money", "count", "pvalue",
           "number", "get", "plural", "customers", "text", "not_available", "seasonality_sentence"]

#: What a reader sees where a value does not exist (the JSON keeps null).
MISSING = "–"


def is_missing(value: Any) -> bool:
    """None, NaN, an empty string or the "-" placeholder."""
    if value is None or value == "" or value == "-":
        return True
    return isinstance(value, float) and math.isnan(value)


def get(figures: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """``figures[key]`` or ``default`` when it is absent or missing."""
    value = figures.get(key, default)
    return default if is_missing(value) else value


def pct(value: float | None, digits: int = 1) -> str:
    """``0.1234`` -> ``"12.3%"``."""
    if is_missing(value):
        return MISSING
    return f"{100 * float(value):.{digits}f}%"


def pct_ci(value, low, high, digits: int = 1) -> str:
    """``"12.3% (95% CI 11.0–13.6%)"``; without an interval just the percentage."""
    if is_missing(low) or is_missing(high):
        return pct(value, digits)
    return t("{value} (95% CI {low}–{high}%)", value=pct(value, digits),
             low=f"{100 * float(low):.{digits}f}", high=f"{100 * float(high):.{digits}f}")


def ratio_ci(value, low, high, digits: int = 2) -> str:
    """``"1.56 (95% CI 1.32–1.84)"``."""
    if is_missing(value):
        return MISSING
    text = f"{float(value):.{digits}f}"
    if is_missing(low) or is_missing(high):
        return text
    return t("{value} (95% CI {low}–{high})", value=text, low=f"{float(low):.{digits}f}",
             high=f"{float(high):.{digits}f}")


def money(value, currency: str | None = "", *, decimals: int | None = None) -> str:
    """``1234567.8`` -> ``"1,234,568"`` (+ the currency; without one, the report language's
    default: none in English, 元 in Chinese); 2 decimals below 100 by default."""
    if is_missing(value):
        return MISSING
    value = float(value)
    if decimals is None:
        decimals = 2 if abs(value) < 100 else 0
    text = f"{value:,.{decimals}f}"
    currency = _currency(currency)
    return f"{text} {currency}".strip() if currency else text


def money_ends(low, high, currency: str | None = "", *, decimals: int | None = None) -> dict:
    """The two ends of a money interval as every report writes them, ``low``–``high``: the
    unit once, after the high end (``{"low": "103,825", "high": "121,335 元"}``); both with
    :func:`money`'s decimals for the larger end (or ``decimals``)."""
    if decimals is None:
        big = max(abs(float(low)), abs(float(high))) if not (is_missing(low) or is_missing(high)) else 0
        decimals = 2 if big < 100 else 0
    return {"low": MISSING if is_missing(low) else f"{float(low):,.{decimals}f}",
            "high": money(high, currency, decimals=decimals)}


def money_ci(value, low, high, currency: str | None = "") -> str:
    """``"112,352 USD (95% CI 103,410–121,294 USD)"`` (the currency as :func:`money` shows it,
    the interval's ends as :func:`money_ends`); without an interval just :func:`money`."""
    if is_missing(value) or is_missing(low) or is_missing(high):
        return money(value, currency)
    digits = 2 if abs(float(value)) < 100 else 0
    return t("{value} (95% CI {low}–{high})", value=money(value, currency, decimals=digits),
             **money_ends(low, high, currency, decimals=digits))


def count(value) -> str:
    """``12345.0`` -> ``"12,345"``."""
    if is_missing(value):
        return MISSING
    return f"{int(round(float(value))):,}"


def pvalue(p) -> str:
    """``"p < 0.001"`` or ``"p = 0.012"``."""
    if is_missing(p):
        return MISSING
    p = float(p)
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def number(value, digits: int = 1) -> str:
    """A plain number with separators and ``digits`` decimals."""
    if is_missing(value):
        return MISSING
    return f"{float(value):,.{digits}f}"


def plural(n, word: str, words: str | None = None) -> str:
    """``"1 row"``, ``"5,000 rows"`` (English only: translated text uses :func:`i18n.n_`)."""
    n = int(round(float(n)))
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def customers(n) -> str:
    """``"1 customer"``, ``"5,000 customers"`` in the report language."""
    return n_("{n} customer", "{n} customers", n)


def text(value) -> str:
    """A label or date as text, "–" when missing."""
    return MISSING if is_missing(value) else str(value)


def not_available(what: str, why: str) -> str:
    """The one line a section that does not apply to a dataset reads as (every stage uses it)."""
    return t("Not available for this dataset: {what}, because {why}.", what=what, why=why)


def _month_name(month) -> str:
    """A calendar month's name in the report language (December, 12月)."""
    return f"{int(month)}月" if is_chinese() else calendar.month_name[int(month)]


def seasonality_sentence(fit) -> str:
    """How a fitted ITS or control chart handled the season ("" for callers that did not ask,
    ``seasonality="none"``), starting with a space."""
    if getattr(fit, "seasonality", "none") == "none":
        return ""
    text = t(" Seasonal adjustment: {reason}.", reason=fit.seasonality_reason_)
    ratios = getattr(fit, "seasonal_ratios_", None)
    if ratios is not None and len(ratios) > 1:
        rel = ratios / ratios.mean()
        text += t(" Churn is highest in {high} ({hi}× the average month) and lowest in {low} "
                  "({lo}×); the counterfactual keeps this pattern, so a recurring dip or peak is "
                  "not read as an effect of the change.",
                  high=_month_name(rel.idxmax()), hi=f"{rel.max():.2f}",
                  low=_month_name(rel.idxmin()), lo=f"{rel.min():.2f}")
    elif getattr(fit, "seasonal_", False) and not hasattr(fit, "seasonal_ratios_"):
        text += _(" The centre line and limits of each month come from the baseline months of "
                  "the same calendar month, so a recurring dip or peak is not flagged.")
    return text


def readable(value) -> str:
    """A code name from the data or the parameters (an event such as ``rename_and_new_owner``,
    a column such as ``price_rise``) as a reader sees it: its label in the report language, in
    English with underscores as spaces."""
    shown = label(value)
    return shown if is_chinese() else shown.replace("_", " ")
