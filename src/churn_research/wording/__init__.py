"""How text is put together in the report language: sentences, lists, brackets, dates, and the
derived labels every stage and figure shares (model terms, tenure bands, retention scenarios).

English and Chinese punctuate differently: sentences follow each other with a space in English
and without one in Chinese; lists use ``, `` and ``、``; brackets and colons are full-width in
Chinese. Every sentence builder and figure uses these helpers (one home), and the messages
themselves stay whole sentences in the catalogs (:mod:`churn_research.i18n`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from churn_research.i18n import _, is_chinese, label, t

__all__ = ["sentences", "gap", "stop", "join", "semicolons", "bracket", "paren", "colon", "month_year", "term_label", "band_label",
           "scenario_name"]


def gap() -> str:
    """What separates two sentences: a space in English, nothing in Chinese."""
    return "" if is_chinese() else " "


def stop() -> str:
    """The full stop that ends a sentence (``.``; Chinese ``。``)."""
    return "。" if is_chinese() else "."


def sentences(*parts: str) -> str:
    """Sentences one after another (empty parts skipped)."""
    return gap().join(p for p in parts if p)


def join(items: Iterable[Any]) -> str:
    """A list in running text or a cell: ``a, b, c`` (Chinese: ``a、b、c``)."""
    return ("、" if is_chinese() else ", ").join(str(i) for i in items)


def semicolons(items: Iterable[Any]) -> str:
    """A list of clauses: ``a; b`` (Chinese: ``a；b``)."""
    return ("；" if is_chinese() else "; ").join(str(i) for i in items)


def bracket(inner: Any) -> str:
    """`` (inner)`` after a word (Chinese: full-width parentheses without the space)."""
    return f"（{inner}）" if is_chinese() else f" ({inner})"


def paren(text: Any, inner: Any) -> str:
    """``text (inner)`` (Chinese: full-width parentheses, ``text（inner）``)."""
    return f"{text}{bracket(inner)}"


def colon(name: Any, value: Any) -> str:
    """``name: value`` (Chinese: a full-width colon, ``name：value``)."""
    return f"{name}：{value}" if is_chinese() else f"{name}: {value}"


def month_year(value) -> str:
    """``January 2024`` (Chinese: ``2024年1月``)."""
    ts = pd.Timestamp(value)
    return f"{ts.year}年{ts.month}月" if is_chinese() else f"{ts:%B %Y}"


def term_label(term: Any) -> str:
    """A regression term as a reader sees it, with the column and level labels: ``contract[One
    year]`` reads ``contract = One year`` (Chinese 合同类型[年付]), ``age_per_10y`` ``age (per
    10y)`` (年龄（每 10y）), ``x @ [0, 12)`` keeps its band."""
    term = str(term)
    if " @ " in term:
        head, band = term.split(" @ ", 1)
        return f"{term_label(head)} @ {band_label(band)}"
    if term.endswith("]") and "[" in term:
        column, level = term[:-1].split("[", 1)
        if not is_chinese():
            return f"{label(column)} = {label(level)}"
        return f"{label(column)}[{label(level)}]"
    if "_per_" in term:
        column, k = term.rsplit("_per_", 1)
        return t("{column} (per {k})", column=label(column), k=k)
    return label(term)


def band_label(band: Any) -> str:
    """A tenure band ``[24, inf)`` (Chinese: ``[24, ∞)``)."""
    band = str(band)
    return band.replace("inf", "∞") if is_chinese() else band


def scenario_name(name: Any) -> str:
    """A retention scenario's name (``baseline``, ``churn -5 pts``) in the report language."""
    name = str(name)
    if not is_chinese():
        return name
    if name == "baseline":
        return _("baseline")
    m = re.fullmatch(r"churn -(.+) pts", name)
    return t("churn -{points} pts", points=m[1]) if m else label(name)
