"""How the driver model's column and term names read in words (20_causes' driver tables,
warnings, profile rules and figures).

A driver is a customer column (``monthly_charges``); a term is one column of the driver model's
design matrix (``contract[Two year]``, ``monthly_charges_per_10``). :func:`driver_label` and
:func:`term_label` give the words a reader sees; :func:`rule_label` rewrites the column names of a
profile rule. The raw names stay in the key figures, where a researcher looks them up.

In a Chinese report every name and level goes through :func:`churn_research.i18n.label` (the
wordings below are data labels, context ``label``) and the templates through ``t``; English
reports read exactly as the English wordings.
"""

from __future__ import annotations

import re

from churn_research.i18n import is_chinese, label, label_msg, t

#: Model terms with their own wording (the rest: ``var[level]`` -> ``var = level``,
#: ``var_per_unit`` -> ``var (per unit)``).
TERM_NAMES = {
    "complaint_90d": label_msg("a complaint in the last 90 days"),
    "last_csat_per_point": label_msg("satisfaction (per CSAT point)"),
    "log_tenure": label_msg("tenure (log)"),
    "price_rise": label_msg("a price rise"),
    "change": label_msg("the business change"),
    "campaign_contact": label_msg("retention campaign contact"),
    "purchases_first_90d": label_msg("repeat purchases in the first 90 days (per purchase)"),
    "first_amount_log2": label_msg("first purchase amount (per doubling of the amount)"),
    "first_quantity": label_msg("first purchase quantity (per item)"),
}

#: Drivers (customer columns) with their own wording (the rest: underscores -> spaces).
DRIVER_NAMES = {
    "complaint_90d": label_msg("complaint in the last 90 days"),
    "last_csat": label_msg("last CSAT"),
    "price_rise": label_msg("price rise"),
    "change": label_msg("the business change"),
    "campaign_contact": label_msg("retention campaign contact"),
    "purchases_first_90d": label_msg("repeat purchases in the first 90 days"),
    "first_amount_log2": label_msg("first purchase amount"),
    # a profile rule states the amount itself (the tree's split on log2(1 + amount) read back)
    "first_amount": label_msg("first purchase amount"),
    "first_quantity": label_msg("first purchase quantity"),
    "tenure_months": label_msg("tenure (months)"),
}

#: Chinese reports only: drivers whose column name means something else as a coded value
#: (``partner`` is a sales channel in the data model, a spouse or partner in the Telco data).
_DRIVER_KEYS_ZH = {
    "partner": label_msg("has a partner"),
}

#: The two ratios of the driver model (``DriverModel.ratio_name``), as data labels.
RATIO_NAMES = (label_msg("hazard ratio"), label_msg("odds ratio"))

#: Units of scaled numeric terms (``age_per_10y`` -> per 10 years), as data labels.
UNIT_NAMES = (label_msg("10y"), label_msg("year"), label_msg("point"), label_msg("sd"))

#: Drivers measured as log2(1 + x): their levels and effects read per doubling of x.
LOG2_SUFFIX = "_log2"


def driver_label(driver: str) -> str:
    """``monthly_charges`` -> ``monthly charges``; ``first_amount_log2`` -> ``first purchase
    amount``."""
    driver = str(driver)
    if is_chinese():
        key = _DRIVER_KEYS_ZH.get(driver) or DRIVER_NAMES.get(driver) or driver
        return label(key)
    return DRIVER_NAMES.get(driver, driver.replace("_", " "))


def level_label(level) -> str:
    """A driver's level as a reader sees it (``annual`` -> 年付 in Chinese; a duration band
    ``3-6 m`` -> ``3-6 个月``); unchanged in English."""
    text = str(level)
    if not is_chinese():
        return text
    m = re.match(r"^(?P<span>[0-9.+\-]+) m$", text)
    if m:
        return t("{span} months", span=m["span"])
    return label(text)


def term_label(term: str) -> str:
    """``contract[Two year]`` -> ``contract = Two year``; ``monthly_charges_per_10`` ->
    ``monthly charges (per 10)``; named terms as :data:`TERM_NAMES`."""
    term = str(term)
    if term in TERM_NAMES:
        return label(TERM_NAMES[term])
    m = re.match(r"^(?P<var>[^\[]+)\[(?P<level>.+)\]$", term)
    if m:
        return f"{driver_label(m['var'])} = {level_label(m['level'])}"
    m = re.match(r"^(?P<var>.+)_per_(?P<unit>.+)$", term)
    if m:
        unit = m["unit"].replace("_", " ")
        if is_chinese():  # 每年, 每 10 岁
            unit = label(unit)
            unit = f" {unit}" if unit[:1].isdigit() else unit
        return t("{driver} (per {unit})", driver=driver_label(m["var"]), unit=unit)
    return driver_label(term)


def ratio_label(name: str) -> str:
    """``hazard ratio`` / ``odds ratio`` in the report's language."""
    return label(name)


_NAME = re.compile(r"^(?P<lead>[^A-Za-z]*?)(?P<name>[A-Za-z][A-Za-z0-9_]*)(?P<rest>.*)$")


def _rule_part_zh(part: str) -> str:
    """One condition of a profile rule in Chinese: column names and levels as labels."""
    m = re.match(r"^(?P<name>[A-Za-z][A-Za-z0-9_]*) not in \{(?P<levels>.*)\}$", part)
    if m:
        return t("{driver} not in {levels}", driver=driver_label(m["name"]),
                 levels="、".join(level_label(v) for v in m["levels"].split(", ")))
    m = re.match(r"^(?P<name>[A-Za-z][A-Za-z0-9_]*) (?P<op>=|≠) (?P<level>.+)$", part)
    if m:
        return f"{driver_label(m['name'])} {m['op']} {level_label(m['level'])}"
    m = _NAME.match(part)
    if m:
        return f"{m['lead']}{driver_label(m['name'])}{m['rest']}"
    return part


def rule_label(rule: str) -> str:
    """A profile rule with words for its column names: ``purchases_first_90d = 0 &
    first_amount ≤ 44`` -> ``repeat purchases in the first 90 days = 0 & first purchase amount
    ≤ 44`` (level values after ``=``/``≠`` are left as they are; in Chinese they read as labels
    and the conditions are joined by 且)."""
    rule = str(rule)
    if is_chinese():
        if rule == "all customers":
            return label(rule)
        return t(" & ").join(_rule_part_zh(p) for p in rule.split(" & "))
    parts = []
    for part in rule.split(" & "):
        m = _NAME.match(part)
        if m and ("_" in m["name"] or m["name"] in DRIVER_NAMES):
            part = f"{m['lead']}{driver_label(m['name'])}{m['rest']}"
        parts.append(part)
    return " & ".join(parts)


#: The churn outcomes of :func:`churn_research.causes.outcome_label` (kept English in the key
#: figures), as data labels.
OUTCOMES = (label_msg("Churn rate in the snapshot month"),
            label_msg("Share lapsed by the observation end"),
            label_msg("Share churned by the observation end"))


def outcome_text(outcome: str) -> str:
    """The churn outcome of :func:`churn_research.causes.outcome_label` in the report's
    language (``12-month churn rate`` -> 12 个月流失率)."""
    outcome = str(outcome)
    if not is_chinese():
        return outcome
    m = re.match(r"^(?P<n>\d+)-month churn rate$", outcome)
    if m:
        return t("{n}-month churn rate", n=m["n"])
    return label(outcome)
