"""How the stage's column and term names read in words (driver tables, warnings, profile rules).

A driver is a customer column (``monthly_charges``); a term is one column of the driver model's
design matrix (``contract[Two year]``, ``monthly_charges_per_10``). :func:`driver_label` and
:func:`term_label` give the words a reader sees; :func:`rule_label` rewrites the column names of a
profile rule. The raw names stay in the key figures, where a researcher looks them up.
"""

from __future__ import annotations

import re

#: Model terms with their own wording (the rest: ``var[level]`` -> ``var = level``,
#: ``var_per_unit`` -> ``var (per unit)``).
TERM_NAMES = {
    "complaint_90d": "a complaint in the last 90 days",
    "last_csat_per_point": "satisfaction (per CSAT point)",
    "log_tenure": "tenure (log)",
    "price_rise": "a price rise",
    "change": "the business change",
    "purchases_first_90d": "repeat purchases in the first 90 days (per purchase)",
    "first_amount_log2": "first purchase amount (per doubling of the amount)",
    "first_quantity": "first purchase quantity (per item)",
}

#: Drivers (customer columns) with their own wording (the rest: underscores -> spaces).
DRIVER_NAMES = {
    "complaint_90d": "complaint in the last 90 days",
    "last_csat": "last CSAT",
    "price_rise": "price rise",
    "change": "the business change",
    "purchases_first_90d": "repeat purchases in the first 90 days",
    "first_amount_log2": "first purchase amount",
    # a profile rule states the amount itself (the tree's split on log2(1 + amount) read back)
    "first_amount": "first purchase amount",
    "first_quantity": "first purchase quantity",
    "tenure_months": "tenure (months)",
}

#: Drivers measured as log2(1 + x): their levels and effects read per doubling of x.
LOG2_SUFFIX = "_log2"


def driver_label(driver: str) -> str:
    """``monthly_charges`` -> ``monthly charges``; ``first_amount_log2`` -> ``first purchase
    amount``."""
    return DRIVER_NAMES.get(str(driver), str(driver).replace("_", " "))


def term_label(term: str) -> str:
    """``contract[Two year]`` -> ``contract = Two year``; ``monthly_charges_per_10`` ->
    ``monthly charges (per 10)``; named terms as :data:`TERM_NAMES`."""
    term = str(term)
    if term in TERM_NAMES:
        return TERM_NAMES[term]
    m = re.match(r"^(?P<var>[^\[]+)\[(?P<level>.+)\]$", term)
    if m:
        return f"{driver_label(m['var'])} = {m['level']}"
    m = re.match(r"^(?P<var>.+)_per_(?P<unit>.+)$", term)
    if m:
        return f"{driver_label(m['var'])} (per {m['unit'].replace('_', ' ')})"
    return driver_label(term)


def rule_label(rule: str) -> str:
    """A profile rule with words for its column names: ``purchases_first_90d = 0 &
    first_amount ≤ 44`` -> ``repeat purchases in the first 90 days = 0 & first purchase amount
    ≤ 44`` (level values after ``=``/``≠`` are left as they are)."""
    parts = []
    for part in str(rule).split(" & "):
        m = re.match(r"^(?P<lead>[^A-Za-z]*?)(?P<name>[A-Za-z][A-Za-z0-9_]*)(?P<rest>.*)$", part)
        if m and ("_" in m["name"] or m["name"] in DRIVER_NAMES):
            part = f"{m['lead']}{driver_label(m['name'])}{m['rest']}"
        parts.append(part)
    return " & ".join(parts)
