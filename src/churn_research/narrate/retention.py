"""Findings and report text of 60_retention: calibrated risk, money at risk, actions that fit
the customer, the likely-reason check and win-back.

:func:`findings` builds the Findings box from the key figures; the other functions build the
sentences (markdown) and the tables a reader sees from the stage's result objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from churn_research.i18n import _, label, t
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import count, get, money, pct, pct_ci
from churn_research.retention.calibration import CalibrationResult
from churn_research.retention.value import MoneyAtRisk


# ---------------------------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------------------------
def setting_text(*, dataset: str, design: str, horizon_days: int, method: str, n_splits: int) -> str:
    if design == "prospective":
        base = t("Dataset **{dataset}**. Risk is the probability of churning within the next "
                 "{days} days, from the churn-risk model of 40_segments (features at a cutoff, "
                 "label: churned in the following {days} days, out-of-fold scores).",
                 dataset=dataset, days=horizon_days)
    else:
        base = t("Dataset **{dataset}**. One snapshot: risk is the churn-risk model's out-of-fold "
                 "score of resembling the customers who left (a description, not a forecast).",
                 dataset=dataset)
    how = {"isotonic": _("isotonic regression"), "platt": _("Platt scaling")}.get(method, method)
    return base + " " + t("The scores are recalibrated by {how}, cross-fitted over {k} folds: each "
                          "customer's calibrated probability comes from a calibrator that did not "
                          "see them.", how=how, k=n_splits)


def calibration_table(cal: CalibrationResult) -> pd.DataFrame:
    m = cal.metrics()
    out = pd.DataFrame({_("Brier score"): m["brier"].map(lambda v: f"{v:.4f}"),
                        _("expected calibration error"): m["ece"].map(lambda v: pct(v, 2)),
                        _("mean predicted risk"): m["mean_predicted"].map(pct)})
    out.index = [_("before calibration"), _("after calibration")]
    return out


def calibration_text(cal: CalibrationResult) -> str:
    m = cal.metrics()
    rel = cal.reliability()
    top = rel[(rel["decile"] == 1)].set_index("scores")
    better = m.loc["after", "ece"] < m.loc["before", "ece"]
    verdict = (_("Calibration brings the predicted risks closer to what happened.") if better else
               _("Calibration does not improve on the model's own scores here: its scores were "
                 "already about right."))
    return t("Deciles are numbered one way throughout: decile 1 is the tenth of customers with the "
             "highest predicted risk, decile 10 the lowest. The expected calibration error (the "
             "customer-weighted mean gap between predicted and observed churn over the deciles) "
             "goes from {before} to {after}, and the Brier score from {b0} to {b1}. In decile 1 "
             "the model predicted {p0}, the calibrated probability is {p1}, and {obs} churned. "
             "{verdict}",
             before=pct(m.loc["before", "ece"], 2), after=pct(m.loc["after", "ece"], 2),
             b0=f"{m.loc['before', 'brier']:.4f}", b1=f"{m.loc['after', 'brier']:.4f}",
             p0=pct(top.loc["before", "predicted"]), p1=pct(top.loc["after", "predicted"]),
             obs=pct(top.loc["after", "observed"]), verdict=verdict)


def money_table(mar: MoneyAtRisk, currency: str | None = "") -> pd.DataFrame:
    tab = mar.table()
    out = pd.DataFrame({
        _("customers"): tab["customers"].map(count),
        _("residual value"): tab["value"].map(lambda v: money(v, currency)),
        _("mean calibrated P(churn)"): tab["mean_p_churn"].map(pct),
        _("money at risk"): tab["expected_loss"].map(lambda v: money(v, currency)),
        _("95% interval"): [f"{money(lo, currency)} – {money(hi, currency)}"
                            for lo, hi in zip(tab["ci_low"], tab["ci_high"], strict=True)],
        _("share of the base's money at risk"): tab["share"].map(pct)})
    out.index = [_("watchlist"), _("all active customers")]
    return out


def money_text(mar: MoneyAtRisk, *, kind: str, currency: str | None = "") -> str:
    tab = mar.table()
    model = (_("the survival-based residual lifetime value of 50_clv") if kind == "contractual" else
             _("the BG/NBD × Gamma-Gamma value of 50_clv"))
    w, a = tab.loc["watchlist"], tab.loc["all"]
    return t("Money at risk = calibrated P(churn within {days} days) × residual value ({model}), "
             "summed over customers. The whole active base ({n} customers) holds {all} at risk "
             "(95% interval {alo} – {ahi}); the {wn} watchlist customers hold {wl} ({share} of it). "
             "The interval is a bootstrap over customers ({reps} resamples, fixed seed); it does "
             "not include the value model's own uncertainty.",
             days=mar.horizon_days, model=model, n=count(a["customers"]),
             all=money(a["expected_loss"], currency), alo=money(a["ci_low"], currency),
             ahi=money(a["ci_high"], currency), wn=count(w["customers"]),
             wl=money(w["expected_loss"], currency), share=pct(w["share"]), reps=mar.n_boot)


def no_value_text() -> str:
    return _("Money at risk is not available: 50_clv's value models need contractual data with a "
             "revenue column or a non-contractual purchase log.")


def rules_table(rules: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({_("rule (first match wins)"): rules["rule"].map(label),
                        _("action"): rules["action"].map(_),
                        _("action (high value)"): rules["action (high value)"].map(_)})
    out.index = range(1, len(out) + 1)
    return out


def actions_table(frame: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """Watchlist customers per rule and action (with the contract when the data have it)."""
    d = actions.copy()
    cols = ["rule", "action"]
    if "contract" in frame:
        d["contract"] = frame["contract"].astype(str).map(label)
        cols.append("contract")
    out = d.groupby(cols).size().rename(_("customers")).reset_index()
    out["rule"] = out["rule"].map(label)
    out["action"] = out["action"].map(_)
    return out.rename(columns={"rule": _("rule"), "action": _("action"), "contract": label("contract")})


def actions_text(frame: pd.DataFrame, actions: pd.DataFrame, *, previous: pd.Series | None,
                 long_contract: pd.Series | None) -> str:
    n = len(actions)
    price = actions["rule"].astype(str).str.startswith("price-sensitive").sum()
    parts = [t("Each of the {n} watchlist customers gets the action that fits their state; {price} "
               "get a price offer, all of them price-sensitive.", n=count(n), price=count(price))]
    if previous is not None and long_contract is not None:
        before = int((previous.str.contains("annual", case=False) & long_contract).sum())
        after = int((actions["action"].str.contains("move to an annual", case=False) & long_contract).sum())
        parts.append(t("The playbook of 40_segments offered a move to an annual plan to {before} "
                       "customers already on an annual or longer contract; this playbook offers it "
                       "to {after}.", before=count(before), after=count(after)))
    return " ".join(parts)


def reason_table(validation: dict) -> pd.DataFrame:
    c = validation["confusion"].copy()
    c.index = [label(i) for i in c.index]
    c.columns = [label(i) for i in c.columns]
    c.index.name = _("recorded exit reason")
    c.columns.name = _("heuristic's likely reason")
    return c


def reason_text(validation: dict | None) -> str:
    if validation is None:
        return _("The data record no exit reasons, so the likely-reason heuristic cannot be checked "
                 "against them.")
    worse = validation["accuracy"] < validation["base_rate"]
    verdict = (_("The heuristic does worse than always naming the most frequent reason: treat its "
                 "\"likely reason\" as a prompt for the call, not as a diagnosis.") if worse else
               _("The heuristic does better than always naming the most frequent reason."))
    return t("Among the {n} customers who churned after the cutoff and recorded an exit reason, the "
             "heuristic's likely reason at the cutoff matched the recorded one (mapped onto the "
             "heuristic's reasons) for {acc}; always naming the most frequent reason, '{base}', "
             "would match {rate}. {verdict}", n=count(validation["customers"]),
             acc=pct(validation["accuracy"]), base=label(validation["base_reason"]),
             rate=pct(validation["base_rate"]), verdict=verdict)


def winback_table(winback: pd.DataFrame, currency: str | None = "", rows: int = 15) -> pd.DataFrame:
    out = winback.head(rows).copy()
    out["lost_value"] = out["lost_value"].map(lambda v: money(v, currency))
    return out.rename(columns={"rank": _("rank"), "customer_id": _("customer id"),
                               "lost_on": _("lost on"), "days_since_loss": _("days since the loss"),
                               "lost_value": _("lost value")}).set_index(_("rank"))


def winback_rate_table(rate: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({_("losses followed up"): rate["losses"].map(count),
                        _("came back"): rate["returned"].map(count),
                        _("win-back rate (95% CI)"): [pct_ci(r, lo, hi) for r, lo, hi in
                                                      zip(rate["rate"], rate["ci_low"], rate["ci_high"],
                                                          strict=True)]})
    out.index = [t("within {months} months", months=m) for m in rate["months"]]
    return out


def winback_text(winback: pd.DataFrame, rate: pd.DataFrame | None, *, days: int, kind: str,
                 path: Path | str, currency: str | None = "") -> str:
    first = t("{n} customers were lost in the last {days} days, taking {value} of revenue of the "
              "year before their loss with them; the list ranks them by that value and is written "
              "to `{file}` (customer_id only).", n=count(len(winback)), days=days,
              value=money(winback["lost_value"].sum(), currency), file=Path(path).name)
    if rate is None:
        second = _("The historical win-back rate is not measurable: each customer appears once in "
                   "the data, so a returning customer cannot be told from a new one.")
    elif not (rate["losses"] > 0).any():
        second = _("The historical win-back rate is not measurable yet: no loss is old enough for its "
                   "window to be over.")
    else:
        r6 = rate[rate["losses"] > 0].set_index("months")
        pieces = [t("{rate} within {months} months", rate=pct_ci(row["rate"], row["ci_low"],
                                                                 row["ci_high"]), months=m)
                  for m, row in r6.iterrows()]
        how = (_("a purchase after a gap long enough to count as a loss") if kind == "non-contractual"
               else _("a new start after an end"))
        second = t("Historically, lost customers came back ({how}) {rates}.", how=how,
                   rates="; ".join(pieces))
    return first + " " + second


# ---------------------------------------------------------------------------------------------
# findings
# ---------------------------------------------------------------------------------------------
def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: the money at risk in the active base, with its interval."""
    cur = context.get("currency", "")
    keys, unavailable = [], []
    total = get(figures, "money_at_risk.all.expected_loss")
    days = get(figures, "horizon_days")
    if total is not None:
        headline = t("Customers active now are expected to take {total} of residual value with them "
                     "within {days} days (95% interval {lo} – {hi}); the watchlist holds {wl} of it.",
                     total=money(total, cur), days=days,
                     lo=money(get(figures, "money_at_risk.all.ci_low"), cur),
                     hi=money(get(figures, "money_at_risk.all.ci_high"), cur),
                     wl=money(get(figures, "money_at_risk.watchlist.expected_loss"), cur))
    else:
        headline = _("Money at risk could not be computed: no value model fits these data.")
        unavailable.append(_("Money at risk: 50_clv's value models need contractual data with a "
                             "revenue column or a non-contractual purchase log."))
    e0, e1 = get(figures, "calibration.ece_before"), get(figures, "calibration.ece_after")
    if e0 is not None and e1 is not None:
        keys.append(Finding(t("Recalibrated risks are off by {after} on average across risk deciles "
                              "(expected calibration error, held out), against {before} before.",
                              after=pct(e1, 2), before=pct(e0, 2)), _("Calibrated risk")))
    acc, base = get(figures, "reasons.accuracy"), get(figures, "reasons.base_rate")
    if acc is not None:
        keys.append(Finding(t("The likely-reason heuristic matched the recorded exit reason for {acc} "
                              "of churners, against {base} for always naming the most frequent "
                              "reason.", acc=pct(acc), base=pct(base)), _("Actions that fit")))
    else:
        unavailable.append(_("Checking the likely reason: the data record no exit reasons."))
    lost = get(figures, "winback.recently_lost")
    if lost is not None:
        keys.append(Finding(t("{n} customers were lost in the last {days} days: the win-back list "
                              "ranks them by lost value.", n=count(lost),
                              days=get(figures, "winback.days")), _("Win-back")))
    months = [m for m in (12, 6) if get(figures, f"winback.rate_{m}m") is not None]
    if months:
        m = months[0]
        keys.append(Finding(t("Historically {rate} of lost customers came back within {months} months.",
                              rate=pct_ci(get(figures, f"winback.rate_{m}m"),
                                          get(figures, f"winback.rate_{m}m_ci_low"),
                                          get(figures, f"winback.rate_{m}m_ci_high")), months=m),
                            _("Win-back")))
    elif get(figures, "winback.losses_6m") is not None:
        unavailable.append(_("The win-back rate: no loss is old enough for its window to be over."))
    else:
        unavailable.append(_("The win-back rate: the data cannot show a lost customer coming back."))
    unavailable.append(_("The effect of a retention action: the data record no campaign with a "
                         "control group, so no action's effect can be estimated."))
    return StageFindings("60_retention", dataset, headline, keys, unavailable)


def key_figures_text(flat: Mapping[str, Any], output_json) -> str:
    """How many key figures were written, and where (the same message as the other stages)."""
    return t("{n} key figures written to `{file}`.", n=len(flat), file=Path(output_json).name)
