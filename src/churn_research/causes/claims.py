"""Common claims tested on the data at hand (:func:`test_claims`): "long-standing customers churn
less", "older customers churn less", "men churn less than women" and "intermediary/business
customers churn less than end consumers".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from churn_research.causes.frame import customer_frame, person_period, resolve_design
from churn_research.i18n import _, is_chinese, label, label_msg, t
from churn_research.model import ChurnData, ChurnDataError
from churn_research.stats import ratio_test

# =============================================================================================
# common claims
# =============================================================================================
#: The claims tested by :func:`test_claims`: key -> statement (English; a report shows the
#: statement through :func:`churn_research.i18n.label`). The notes, groups and method of the
#: result are written in the report's language.
CLAIMS = {
    "tenure": label_msg("Long-standing customers churn less than new ones"),
    "age": label_msg("Older customers churn less than younger ones"),
    "gender": label_msg("Men churn less than women"),
    "channel": label_msg("Intermediary/business customers churn less than end consumers"),
}

_MALE = {"male", "m", "man", "men", "男", "1"}
_FEMALE = {"female", "f", "woman", "women", "女", "0"}
INTERMEDIARY_LEVELS = ("partner", "intermediary", "reseller", "broker", "agent", "dealer",
                       "wholesale", "distributor", "business", "b2b", "corporate", "enterprise")
CONSUMER_LEVELS = ("online", "direct", "web", "app", "store", "retail", "shop", "phone",
                   "consumer", "b2c", "individual", "private", "personal")


def _channel_definition(ch, ct, inter, cons, intermediary, has_ch, has_ct) -> str:
    def levels(column: str, values) -> str:
        if is_chinese():
            return label(column) + "为" + "/".join(label(v) for v in sorted(values))
        return column + " " + "/".join(sorted(values))

    parts = []
    if has_ch and set(ch) & intermediary:
        parts.append(levels("channel", set(ch) & intermediary))
    if has_ct and set(ct) & intermediary:
        parts.append(levels("customer_type", set(ct) & intermediary))
    others = []
    if has_ch:
        others.append(levels("channel", set(ch[cons])))
    if has_ct:
        others.append(levels("customer_type", set(ct[cons])))
    return t("Intermediary/business = {groups}; end consumers = the others ({others}).",
             groups=_or(parts),
             others=_and(others))


def _or(items: list[str]) -> str:
    return (" 或 " if is_chinese() else " or ").join(items)


def _and(items: list[str]) -> str:
    return ("；" if is_chinese() else " and ").join(items)


def _norm(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().str.lower()


def test_claims(data: ChurnData | pd.DataFrame, *, design: str = "auto", study_start=None,
                tenure_split_months: float = 12, older_age: int = 65, alpha: float = 0.05,
                intermediary_levels: Iterable[str] = INTERMEDIARY_LEVELS,
                consumer_levels: Iterable[str] = CONSUMER_LEVELS) -> pd.DataFrame:
    """Test four claims of the churn-management literature on the data at hand.

    Each claim compares the churn of a group (long-standing, older, male, intermediary/business
    customers) with the churn of its counterpart; the claim is ``supported`` when the group's
    churn is lower at the ``alpha`` level (two-sided Wald test on the log ratio, direction as
    claimed). The comparison is crude (unadjusted), because the claims are about what a manager
    sees, not about effects "other things equal"; the adjusted effects are in :class:`DriverModel`.

    * person-period data (dated churn): ``effect`` is the ratio of monthly churn rates (churn
      events per customer-month at risk), so that customers observed for different lengths of
      time are compared fairly;
    * one snapshot (:func:`is_snapshot`): ``effect`` is the ratio of the churn proportions.

    Definitions:

    ``tenure``
        long-standing = tenure of at least ``tenure_split_months`` months (at the start of the
        month at risk, or at the snapshot), new = less. Not tested when churn is inferred from
        inactivity (non-contractual data): a customer can then only be seen to lapse after the
        last purchase, which ties churn to tenure mechanically.
    ``age``
        older = aged ``older_age`` (65) or more, younger = below. When there is no ``age`` column
        but a senior flag (``senior``, ``senior_citizen``, ``is_senior``), older = flagged senior
        citizens (the Telco data flags customers aged 65 or more) and younger = the rest.
    ``gender``
        men vs women (values male/m/man/男 vs female/f/woman/女).
    ``channel``
        intermediary/business = ``channel`` in ``intermediary_levels`` (partner, reseller,
        broker, agent, ...) or ``customer_type`` in it (business, B2B, ...); end consumers = the
        other customers buying through a direct channel (online, store, ...) as consumers.

    Parameters
    ----------
    data : ChurnData or DataFrame
    design : {"auto", "person-period", "snapshot"}
    study_start : date, optional
    tenure_split_months : float
    older_age : int
    alpha : float
    intermediary_levels, consumer_levels : iterable of str
        Lower-case labels (channel or customer_type values) of each side.

    Returns
    -------
    DataFrame
        One row per claim: ``claim`` (key), ``statement``, ``supported`` (nullable bool; NA if
        untestable), ``effect`` (ratio group / counterpart; < 1 = the group churns less),
        ``ci_low``, ``ci_high``, ``p_value``, ``n`` (customers), ``method``, ``group`` and
        ``reference_group`` (who is compared with whom) and ``note`` (the definition used and the
        verdict, or why the claim could not be tested).
    """
    design = resolve_design(data, design)
    customers = customer_frame(data, study_start=study_start)
    customers = customers[customers["eligible"]]
    if design == "person-period":
        if not isinstance(data, ChurnData):
            raise ChurnDataError("the person-period design needs a ChurnData.",
                                 table="customers")
        cols = [c for c in ("age", "senior", "senior_citizen", "is_senior", "gender", "channel",
                            "customer_type") if c in customers]
        rows = person_period(data, study_start=study_start, columns=cols)
        rows = rows[rows["exposure"] > 0].copy()
        rows["tenure_at_start"] = rows["tenure_start"]
        method = _("ratio of monthly churn rates (events per customer-month), Wald CI on log "
                   "scale")
        kind, time_col = "rate", "time_at_risk"
    else:
        rows = customers.copy()
        rows["event"] = rows["outcome"].astype(int)
        rows["exposure"] = 1.0
        rows["tenure_at_start"] = rows["tenure_months"]
        method = _("ratio of churn proportions (risk ratio), Wald CI on log scale")
        kind, time_col = "risk", "exposure"
    intermediary = {s.lower() for s in intermediary_levels}
    consumer = {s.lower() for s in consumer_levels}
    senior_col = next((c for c in ("senior", "senior_citizen", "is_senior") if c in rows), None)

    def compare(group: pd.Series, other: pd.Series, key: str, labels: tuple[str, str],
                definition: str = "") -> dict[str, Any]:
        g, o = rows.loc[group.fillna(False)], rows.loc[other.fillna(False)]
        n = int(pd.concat([g["customer_id"], o["customer_id"]]).nunique())
        base = {"claim": key, "statement": CLAIMS[key], "n": n, "method": method,
                "group": labels[0], "reference_group": labels[1]}
        if g["customer_id"].nunique() < 10 or o["customer_id"].nunique() < 10:
            return {**base, "supported": pd.NA, "effect": np.nan, "ci_low": np.nan,
                    "ci_high": np.nan, "p_value": np.nan,
                    "note": _("Not testable: fewer than 10 customers on one side.")}
        ratio, lo, hi, p = ratio_test(float(g["event"].sum()), float(g[time_col].sum()),
                                       float(o["event"].sum()), float(o[time_col].sum()),
                                       kind=kind, alpha=alpha)
        supported = bool(p < alpha and ratio < 1)
        if supported:
            verdict = _("Lower churn, significant at the 5% level.")
        elif p < alpha:
            verdict = _("Significant in the opposite direction: this group churns MORE.")
        else:
            verdict = _("No significant difference at the 5% level.")
        note = (definition + verdict) if is_chinese() else f"{definition} {verdict}"
        return {**base, "supported": supported, "effect": ratio, "ci_low": lo, "ci_high": hi,
                "p_value": p, "note": note.strip()}

    def untestable(key: str, why: str) -> dict[str, Any]:
        return {"claim": key, "statement": CLAIMS[key], "supported": pd.NA, "effect": np.nan,
                "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "n": 0,
                "method": method, "group": "", "reference_group": "", "note": why}

    out = []
    # tenure
    tenure = rows["tenure_at_start"]
    split_s = f"{tenure_split_months:g}"
    if isinstance(data, ChurnData) and data.kind == "non-contractual":
        out.append(untestable(
            "tenure", t("Not testable: churn is inferred from inactivity (no purchase for "
                        "{days} days), so a customer can only be seen to lapse after the last "
                        "purchase and churn is tied to tenure by construction.",
                        days=data.inactivity_days)))
    else:
        out.append(compare(tenure >= tenure_split_months, tenure < tenure_split_months, "tenure",
                           (t("customers with {months}+ months' tenure", months=split_s),
                            t("customers in their first {months} months", months=split_s)),
                           t("Long-standing = tenure of {months} months or more.",
                             months=split_s)))
    # age
    if "age" in rows and rows["age"].notna().any():
        a = pd.to_numeric(rows["age"], errors="coerce")
        out.append(compare(a >= older_age, a < older_age, "age",
                           (t("customers aged {age}+", age=older_age),
                            t("customers under {age}", age=older_age)),
                           t("Older = aged {age} or more.", age=older_age)))
    elif senior_col is not None:
        s = rows[senior_col]
        flag = s.astype(str).str.strip().str.lower().isin({"1", "1.0", "true", "yes", "y"})
        out.append(compare(flag & s.notna(), ~flag & s.notna(), "age",
                           (_("senior citizens"), _("other customers")),
                           t("No age column: older = flagged senior citizens ('{column}'; 65+ in "
                             "the Telco data), younger = the rest.", column=senior_col)))
    else:
        out.append(untestable("age", _("Not testable: no 'age' column and no senior flag "
                                       "('senior', 'senior_citizen').")))
    # gender
    if "gender" in rows:
        gnd = _norm(rows["gender"])
        if gnd.isin(_MALE).any() and gnd.isin(_FEMALE).any():
            out.append(compare(gnd.isin(_MALE), gnd.isin(_FEMALE), "gender",
                               (_("men"), _("women"))))
        else:
            out.append(untestable("gender", _("Not testable: 'gender' has no recognisable "
                                              "male and female values.")))
    else:
        out.append(untestable("gender", _("Not testable: no 'gender' column.")))
    # channel / customer type
    has_ch, has_ct = "channel" in rows, "customer_type" in rows
    if has_ch or has_ct:
        ch = _norm(rows["channel"]) if has_ch else pd.Series("", index=rows.index)
        ct = _norm(rows["customer_type"]) if has_ct else pd.Series("", index=rows.index)
        inter = ch.isin(intermediary) | ct.isin(intermediary)
        cons = ~inter & (ch.isin(consumer) if has_ch else True) & (
            ct.isin(consumer) if has_ct else True)
        what = _or([label(c) if is_chinese() else c
                    for c, h in (("channel", has_ch), ("customer_type", has_ct)) if h])
        if inter.any() and cons.any():
            out.append(compare(
                inter, cons, "channel",
                (_("intermediary/business customers"), _("end consumers")),
                _channel_definition(ch, ct, inter, cons, intermediary, has_ch, has_ct)))
        else:
            out.append(untestable("channel", t("Not testable: {columns} has no recognisable "
                                               "intermediary/business and consumer levels.",
                                               columns=what)))
    else:
        out.append(untestable("channel", _("Not testable: no 'channel' or 'customer_type' "
                                           "column.")))
    table = pd.DataFrame(out)
    table["supported"] = table["supported"].astype("boolean")
    cols = ["claim", "statement", "supported", "effect", "ci_low", "ci_high", "p_value", "n",
            "method", "group", "reference_group", "note"]
    return table[cols]


test_claims.__test__ = False  # a library function, not a pytest test
