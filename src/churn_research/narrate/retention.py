"""Findings and report text of 60_retention: calibrated risk, money at risk, actions that fit
the customer, the likely-reason check and win-back.

:func:`findings` builds the Findings box from the key figures; the other functions build the
sentences (markdown) and the tables a reader sees from the stage's result objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import Markdown

from churn_research.i18n import _, label, t
from churn_research.narrate.definitions import reads_as_probabilities
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import count, get, money, money_ends, pct, pct_ci
from churn_research.retention import measure
from churn_research.retention.calibration import CalibrationResult
from churn_research.retention.measure import CampaignStudy
from churn_research.retention.value import MoneyAtRisk
from churn_research.wording import gap, semicolons, stop


def _ends(row, currency) -> dict:
    """A money-at-risk row's interval ends as ``alo``/``ahi`` (:func:`money_ends`: the unit once)."""
    ends = money_ends(row["ci_low"], row["ci_high"], currency)
    return {"alo": ends["low"], "ahi": ends["high"]}


def _ends_of(figures, currency) -> dict:
    """The whole base's money-at-risk interval from the key figures, as ``lo``/``hi``."""
    ends = money_ends(get(figures, "money_at_risk.all.ci_low"), get(figures, "money_at_risk.all.ci_high"),
                      currency)
    return {"lo": ends["low"], "hi": ends["high"]}


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
    return base + gap() + t("The scores are recalibrated by {how}, cross-fitted over {k} folds "
                            "(each customer's calibrated probability comes from a calibrator that "
                            "did not see them); the calibrated probabilities replace the model's own "
                            "scores only where they improve them (next section).", how=how, k=n_splits)


def calibration_table(cal: CalibrationResult) -> pd.DataFrame:
    m = cal.metrics()
    out = pd.DataFrame({_("Brier score"): m["brier"].map(lambda v: f"{v:.4f}"),
                        _("expected calibration error (percentage points)"): m["ece"].map(lambda v: f"{100 * v:.2f}"),
                        _("mean predicted risk"): m["mean_predicted"].map(pct)})
    out.index = [_("before calibration"), _("after calibration")]
    return out


def calibration_text(cal: CalibrationResult) -> str:
    m = cal.metrics()
    rel = cal.reliability()
    top = rel[(rel["decile"] == 1)].set_index("scores")
    better = m.loc["after", "ece"] < m.loc["before", "ece"]
    brier_worse = m.loc["after", "brier"] > m.loc["before", "brier"]
    verdict = (_("Calibration does not improve on the model's own scores here: its scores were "
                 "already about right.") if not better else
               _("Calibration brings the average risk per decile closer to what happened, but the "
                 "Brier score does not improve: a modest gain, not a better ranking.") if brier_worse
               else _("Calibration brings the predicted risks closer to what happened."))
    verdict += " " + (_("Rule: the calibrated probabilities are used only when they lower both the "
                        "held-out calibration error and the Brier score; they do, so money at risk "
                        "and the watchlist below use them.") if cal.improves else
                      _("Rule: the calibrated probabilities are used only when they lower both the "
                        "held-out calibration error and the Brier score; they do not, so money at "
                        "risk and the watchlist below keep the model's own scores."))
    return t("Deciles are numbered one way throughout: decile 1 is the tenth of customers with the "
             "highest predicted risk, decile 10 the lowest. The expected calibration error (the "
             "customer-weighted mean gap between predicted and observed churn over the deciles) "
             "goes from {before} to {after} percentage points, and the Brier score from {b0} to {b1}. In the "
             "model's decile 1 it predicted {p0} and {o0} churned; in the calibrated "
             "probabilities' decile 1 they predict {p1} and {o1} churned. {verdict}",
             before=f"{100 * m.loc['before', 'ece']:.2f}", after=f"{100 * m.loc['after', 'ece']:.2f}",
             b0=f"{m.loc['before', 'brier']:.4f}", b1=f"{m.loc['after', 'brier']:.4f}",
             p0=pct(top.loc["before", "predicted"]), o0=pct(top.loc["before", "observed"]),
             p1=pct(top.loc["after", "predicted"]), o1=pct(top.loc["after", "observed"]),
             verdict=verdict)


def money_table(mar: MoneyAtRisk, currency: str | None = "", *, calibrated: bool = True,
                kind: str = "contractual", design: str = "prospective",
                calibration: CalibrationResult | None = None) -> pd.DataFrame:
    """The money table; its sum is headed "risk-weighted value" where it is not an expected loss
    (:func:`is_expected_loss`) and "resemblance-weighted value at risk" for one snapshot, as its
    text names it (review s8: one name per figure). ``calibration``: 60_retention's result,
    which sets ``calibrated`` (the calibrated scores are used) and whether the scores in use
    read as probabilities (:func:`scores_in_use`)."""
    calibrated, probabilities = scores_in_use(calibration, calibrated)
    tab = mar.table()
    loss = is_expected_loss(kind=kind, design=design, calibrated=probabilities)
    if design == "cross-sectional":  # a resemblance score, not a probability of leaving
        score = _("mean resemblance score")
        total, share = (_("resemblance-weighted value at risk"),
                        _("share of the base's resemblance-weighted value at risk"))
    else:
        score = _("mean calibrated P(churn)") if calibrated else _("mean P(churn) (model's own scores)")
        total, share = ((_("money at risk"), _("share of the base's money at risk")) if loss else
                        (_("risk-weighted value"), _("share of the base's risk-weighted value")))
    out = pd.DataFrame({
        _("customers"): tab["customers"].map(count),
        _("residual value"): tab["value"].map(lambda v: money(v, currency)),
        score: tab["mean_p_churn"].map(pct),
        total: tab["expected_loss"].map(lambda v: money(v, currency)),
        _("95% interval"): ["{low}–{high}".format(**money_ends(lo, hi, currency))
                            for lo, hi in zip(tab["ci_low"], tab["ci_high"], strict=True)],
        share: tab["share"].map(pct)})
    out.index = [_("watchlist"), _("all active customers")]
    return out


def clv_value_lost(clv_json: Path | str) -> dict | None:
    """50_clv's value lost to churn (its key figures beside this report): ``expected_loss``,
    ``ci_low``, ``ci_high``, ``horizon_months``; None when 50_clv has not written it."""
    path = Path(clv_json)
    if not path.exists():
        return None
    figs = json.loads(path.read_text(encoding="utf-8"))
    if figs.get("money_at_risk.expected_loss") is None:
        return None
    return {"expected_loss": float(figs["money_at_risk.expected_loss"]),
            "ci_low": figs.get("money_at_risk.ci_low"), "ci_high": figs.get("money_at_risk.ci_high"),
            "horizon_months": int(figs.get("money_at_risk.horizon_months", 12))}


def is_expected_loss(*, kind: str, design: str, calibrated: bool) -> bool:
    """Whether risk × residual value reads as the value expected to be lost within the horizon:
    only for probabilities of leaving a contract shown to be right (``calibrated``: the scores in
    use are calibrated, by recalibration or already; a purchase log's churn is the inactivity
    rule, which also counts customers who buy again; scores off by more than the tolerance that
    recalibration did not improve rank customers but are not probabilities; one snapshot's
    score is a resemblance)."""
    return design == "prospective" and kind == "contractual" and calibrated


def _why_not_a_loss(*, kind: str, days, calibrated: bool) -> str:
    """Why risk × residual value is a ranking sum rather than an expected loss."""
    parts = []
    if not calibrated:
        parts.append(_("the churn-risk model's scores rank customers, but recalibration did not "
                       "improve them, so they are not shown to be right as probabilities"))
    if kind != "contractual":
        parts.append(t("churn within {days} days is a lapse under the inactivity rule, which also "
                       "counts customers who will buy again", days=days))
    return semicolons(parts)


def clv_relation_text(total: float, clv: Mapping[str, Any] | None, *, kind: str, days,
                      calibrated: bool, currency: str | None = "") -> str:
    """How the risk-weighted sum relates to 50_clv's value lost to churn, when the sum is not an
    expected loss: which figure is the expected loss, and why the two differ."""
    why = _why_not_a_loss(kind=kind, days=days, calibrated=calibrated)
    if clv is None:
        return t("Read it as where the value at stake sits, not as the value expected to be lost: "
                 "{why}.", why=why)
    return t("Read it as where the value at stake sits, not as the value expected to be lost: "
             "{why}. The expected loss is 50_clv's value lost to churn within {months} months, "
             "{clv} of future profit; this sum ({total} over {days} days) is not a second estimate "
             "of it, which is why the two differ.", why=why, months=clv["horizon_months"],
             clv=money(clv["expected_loss"], currency), total=money(total, currency), days=days)


def scores_in_use(calibration: CalibrationResult | None, calibrated: bool = True) -> tuple[bool, bool]:
    """``(calibrated, probabilities)``: whether the calibrated scores are used, and whether the
    scores in use are shown right as probabilities (calibrated ones, or the model's own when
    already calibrated: :attr:`CalibrationResult.reads_as_probabilities`); without a result,
    both are ``calibrated``."""
    if calibration is None:
        return calibrated, calibrated
    return calibration.improves, calibration.reads_as_probabilities


def money_text(mar: MoneyAtRisk, *, kind: str, currency: str | None = "", design: str = "prospective",
               calibrated: bool = True, clv: Mapping[str, Any] | None = None,
               calibration: CalibrationResult | None = None) -> str:
    """How money at risk is computed. ``design="cross-sectional"`` (one snapshot): the score is a
    resemblance to those who left, so the sum is a resemblance-weighted value at risk, not an
    expected loss within a period; ``calibrated=False``: the model's own scores were kept;
    ``clv``: 50_clv's value lost to churn (:func:`clv_value_lost`), the expected loss the text
    points to when this sum is not one (:func:`is_expected_loss`); ``calibration``: as
    :func:`money_table`."""
    calibrated, probabilities = scores_in_use(calibration, calibrated)
    tab = mar.table()
    model = (_("the survival-based residual lifetime value of 50_clv") if kind == "contractual" else
             _("the BG/NBD × Gamma-Gamma value of 50_clv"))
    w, a = tab.loc["watchlist"], tab.loc["all"]
    if design == "cross-sectional":
        score = (_("the calibrated resemblance score") if calibrated else
                 _("the churn-risk model's own resemblance score (calibration did not improve it)"))
        return t("Resemblance-weighted value at risk = {score} × residual value ({model}), summed over "
                 "customers. In one snapshot the score says how much a customer resembles those who "
                 "left, not their chance of leaving within a period, so this is not an expected loss "
                 "within {days} days and not comparable with 50_clv's value lost within 12 months. The "
                 "whole active base ({n} customers) holds {all} (95% interval {alo}–{ahi}); the {wn} "
                 "watchlist customers hold {wl} ({share} of it). The interval is a bootstrap over "
                 "customers ({reps} resamples, fixed seed).",
                 score=score, model=model, days=mar.horizon_days, n=count(a["customers"]),
                 all=money(a["expected_loss"], currency), **_ends(a, currency), wn=count(w["customers"]),
                 wl=money(w["expected_loss"], currency), share=pct(w["share"]), reps=mar.n_boot)
    numbers = dict(
             days=mar.horizon_days, model=model, n=count(a["customers"]),
             all=money(a["expected_loss"], currency), **_ends(a, currency), wn=count(w["customers"]),
             wl=money(w["expected_loss"], currency), share=pct(w["share"]), reps=mar.n_boot)
    if is_expected_loss(kind=kind, design=design, calibrated=probabilities):
        ece = (None if calibration is None
               else f"{100 * calibration.metrics().loc['before', 'ece']:.1f}")
        score = (t("calibrated P(churn within {days} days)", days=mar.horizon_days) if calibrated else
                 t("P(churn within {days} days), the churn-risk model's own scores (held-out "
                   "calibration error {ece} percentage points, within the 5-point tolerance; "
                   "recalibration did not improve them)", days=mar.horizon_days, ece=ece)
                 if ece is not None else
                 t("P(churn within {days} days), the churn-risk model's own scores (already "
                   "calibrated: recalibration did not improve them)", days=mar.horizon_days))
        return t("Money at risk = {score} × residual value ({model}), summed over customers. The "
                 "whole active base ({n} customers) holds {all} at risk (95% interval {alo}–{ahi}); "
                 "the {wn} watchlist customers hold {wl} ({share} of it). The interval is a bootstrap "
                 "over customers ({reps} resamples, fixed seed); it does not include the value "
                 "model's own uncertainty.", score=score, **numbers)
    score = (t("calibrated P(churn within {days} days)", days=mar.horizon_days) if calibrated else
             t("the churn-risk model's own score for churn within {days} days (calibration did not "
               "improve it)", days=mar.horizon_days))
    first = t("Risk-weighted value = {score} × residual value ({model}), summed over customers. The "
              "whole active base ({n} customers) sums to {all} (95% interval {alo}–{ahi}); the {wn} "
              "top-ranked watchlist customers hold {wl} ({share} of it). The interval is a bootstrap "
              "over customers ({reps} resamples, fixed seed); it does not include the value model's "
              "own uncertainty.", score=score, **numbers)
    return first + gap() + clv_relation_text(a["expected_loss"], clv, kind=kind, days=mar.horizon_days,
                                             calibrated=probabilities, currency=currency)


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
               "get a price offer, all of them price-sensitive.", n=count(n), price=count(price))
             if price else t("Each of the {n} watchlist customers gets the action that fits their "
                             "state.", n=count(n))]
    if previous is not None and long_contract is not None:
        before = int((previous.str.contains("annual", case=False) & long_contract).sum())
        after = int((actions["action"].str.contains("move to an annual", case=False) & long_contract).sum())
        parts.append(t("The playbook of 40_segments offered a move to an annual plan to {before} "
                       "customers already on an annual or longer contract; this playbook offers it "
                       "to {after}.", before=count(before), after=count(after)))
    elif long_contract is not None:
        after = int((actions["action"].str.contains("move to an annual", case=False) & long_contract).sum())
        parts.append(t("The same rules decide the actions of 40_segments' watchlist, so a customer "
                       "gets the same action in both lists; {after} customers already on an annual "
                       "or longer contract are offered a move to an annual plan.",
                       after=count(after)))
    return gap().join(parts)


def reason_table(validation: dict) -> pd.DataFrame:
    c = validation["confusion"].copy()
    c.index = [label(i) for i in c.index]
    c.columns = [label(i) for i in c.columns]
    c.index.name = _("recorded exit reason")
    c.columns.name = _("heuristic's likely reason")
    return c


def _reason_name(reason: str, sources) -> str:
    """A mapped reason, quoted, and the recorded reasons ``reason_map`` folds into it:
    ``'price' (price + competitor under reason_map)``."""
    if isinstance(sources, str):
        sources = [x.strip() for x in sources.split(",") if x.strip()]
    sources = list(sources or [])
    name = f"'{label(reason)}'"
    if not sources or sources == [reason]:
        return name
    return name + gap() + t("({reasons} under reason_map)", reasons=" + ".join(label(x) for x in sources))


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
             "heuristic's reasons) for {acc}; always naming the most frequent reason, {base}, "
             "would match {rate}. {verdict}", n=count(validation["customers"]),
             acc=pct(validation["accuracy"]), base=_reason_name(validation["base_reason"],
                                                                validation.get("base_sources")),
             rate=pct(validation["base_rate"]), verdict=verdict)


def winback_table(winback: pd.DataFrame, currency: str | None = "", rows: int = 15) -> pd.DataFrame:
    """The top ``rows`` of the win-back list. When the loss dates are unknown (one snapshot:
    ``lost_on`` and ``days_since_loss`` empty) those columns are left out, never shown as blank
    or as the snapshot date."""
    out = winback.head(rows).copy()
    unknown = [c for c in ("lost_on", "days_since_loss") if c in out and winback[c].isna().all()]
    out = out.drop(columns=unknown)
    out["lost_value"] = out["lost_value"].map(lambda v: money(v, currency))
    names = {"rank": _("rank"), "customer_id": _("customer id"), "lost_on": _("lost on"),
             "days_since_loss": _("days since the loss"), "lost_value": _("lost revenue (not profit)")}
    for c in out.columns:
        if str(c).startswith("p_return_"):
            months = str(c)[len("p_return_"):-1]
            out[c] = out[c].map(pct)
            names[c] = t("P(return within {months} months)", months=months)
    if "expected_recovered_value" in out:
        out["expected_recovered_value"] = out["expected_recovered_value"].map(lambda v: money(v, currency))
        names["expected_recovered_value"] = _("expected recovered value")
    return out.rename(columns=names).set_index(_("rank"))


def return_model_table(models: Mapping[int, Any]) -> pd.DataFrame | None:
    """Held-out AUC, Brier score and calibration error of the two return-likelihood candidates,
    per window, the chosen one ticked (None when no window is estimable)."""
    rows = []
    names = {"logistic": _("logistic regression"), "band rate": _("return rate per frequency band")}
    for m, r in sorted(models.items()):
        if r is None:
            continue
        for name in ("logistic", "band rate"):
            sc = r.scores.loc[name]
            rows.append({_("window"): t("within {months} months", months=m),
                         _("model"): names[name] + (" ✓" if name == r.chosen else ""),
                         _("held-out AUC"): f"{sc['auc']:.3f}", _("Brier score"): f"{sc['brier']:.4f}",
                         _("expected calibration error"): pct(sc["ece"], 2)})
    return pd.DataFrame(rows).set_index([_("window"), _("model")]) if rows else None


def return_model_text(models: Mapping[int, Any] | None, *, kind: str, has_returns: bool,
                      days: int | None = None) -> str:
    """How likely the lost customers are to come back: the model, its held-out quality and how
    good its ranking is; or plainly why it cannot be estimated."""
    if kind != "non-contractual":
        why = (_("each customer appears once in the data, so no return is recorded") if not has_returns
               else _("returns are recorded, but not the purchase history a customer's state at "
                      "the loss is read from"))
        return t("How likely a lost customer is to come back cannot be estimated for these data: "
                 "{why}. The list is ranked by lost value alone, and it shows no return likelihood "
                 "(unknown, not zero).", why=why)
    usable = {m: r for m, r in sorted((models or {}).items()) if r is not None}
    missing = [m for m, r in sorted((models or {}).items()) if r is None]
    if not usable:
        return _("How likely a lost customer is to come back cannot be estimated: too few past "
                 "lapses are old enough for their window to be over. The list is ranked by lost "
                 "value alone and shows no return likelihood (unknown, not zero).")
    longest = max(usable)
    r = usable[longest]
    model = (_("a logistic regression on the customer's state when the loss was known (purchase "
               "days, revenue of the year before, tenure, time already away)") if r.chosen == "logistic"
             else _("the empirical return rate per band of purchase frequency (a logistic regression "
                    "on the customer's state did not beat it on held-out folds)"))
    other = "band rate" if r.chosen == "logistic" else "logistic"
    cap = r.capture
    text = t("How likely each lost customer is to come back within {months} months is learnt from "
             "the log's own {cases} past lapses ({returned} came back): {model}, chosen over the "
             "alternative by the held-out Brier score of {folds}-fold cross-validation (seeded). On "
             "held-out lapses its AUC is {auc} (the alternative's {auc2}) and its calibration error "
             "{ece}. The list is ranked by the expected recovered value = P(return) × lost value. "
             "How good that ranking is: on held-out lapses, the top {top} of lapses ranked by "
             "expected recovered value held {cap} of the lost value of the lapses that did come back, "
             "against {cap_lv} when ranked by lost value alone and {top} at random.",
             months=longest, cases=count(r.cases), returned=count(r.returned), model=model,
             folds=r.n_folds, auc=f"{r.scores.loc[r.chosen, 'auc']:.3f}",
             auc2=f"{r.scores.loc[other, 'auc']:.3f}", ece=pct(r.scores.loc[r.chosen, "ece"], 2),
             top=pct(r.top_share, 0), cap=pct(cap["by_expected"]), cap_lv=pct(cap["by_lost_value"]))
    if days is not None:
        text += gap() + t("These lapses are counted differently from the historical win-back rate: "
                          "each past lapse is looked at on a day drawn from 0 to {last} days after its "
                          "loss (like the ages on the win-back list) and left out if the customer had "
                          "already come back by then or its window is not over, so fewer lapses count "
                          "and a smaller share of them come back than in the historical rate, which "
                          "counts every loss from its first day.", last=days - 1)
    if r.scores.loc[r.chosen, "auc"] < 0.65:
        text += gap() + _("With a held-out AUC below 0.65 the model separates returners only weakly: "
                        "use the probabilities to size the effort, not to write customers off.")
    if missing:
        text += gap() + t("Within {months} months it cannot be estimated: too few lapses are old "
                        "enough for that window to be over.",
                        months=" / ".join(str(m) for m in missing))
    return text


def mix_table(mix: pd.DataFrame) -> pd.DataFrame:
    """The win-back list beside the past lapses, band by band of purchase days
    (:func:`~churn_research.retention.winback.mix_by_frequency`)."""
    out = pd.DataFrame({
        _("past lapses"): mix["lapses"].map(count),
        _("share of past lapses"): mix["lapse_share"].map(pct),
        _("came back (historical rate)"): mix["rate"].map(lambda v: "–" if pd.isna(v) else pct(v)),
        _("customers on the list"): mix["listed"].map(count),
        _("share of the list"): mix["listed_share"].map(pct),
        _("mean P(return) on the list"): mix["mean_p_return"].map(lambda v: "–" if pd.isna(v) else pct(v)),
    })
    out.index = pd.Index(list(mix.index), name=_("purchase days before the loss"))
    return out


def _mix_reading(f: Mapping[str, Any]) -> str:
    """Whether the list's mix of purchase days accounts for most of the gap between its mean
    P(return) and the historical rate, or only part of it."""
    gap_ = abs(f["list_mean_p_return"] - f["historical_rate"])
    left = abs(f["list_mean_p_return"] - f["rate_for_list_mix"])
    return (_("the mix accounts for most of the difference") if left <= gap_ / 2
            else _("the mix accounts for part of the difference"))


def mix_text(f: Mapping[str, Any] | None) -> str:
    """Why the list's chance of returning differs from the historical win-back rate (``f``:
    :func:`~churn_research.retention.winback.mix_figures`); empty without one."""
    if not f or pd.isna(f.get("list_mean_p_return")) or pd.isna(f.get("historical_rate")):
        return ""
    numbers = dict(p=pct(f["list_mean_p_return"]), months=f["months"], rate=pct(f["historical_rate"]),
                   old=pct(f["one_purchase_day_share_lapses"]), r1=pct(f["one_purchase_day_rate"]))
    if f["one_purchase_day_share_listed"] > 0:
        text = t("The customers on the list have a mean chance of {p} of coming back within {months} "
                 "months, against the historical {rate}: they are not a typical set of past lapses. "
                 "{old} of past lapses were customers with one purchase day, and {r1} of those came "
                 "back; {new} of the list bought on one day only.",
                 new=pct(f["one_purchase_day_share_listed"]), **numbers)
    else:
        text = t("The customers on the list have a mean chance of {p} of coming back within {months} "
                 "months, against the historical {rate}: they are not a typical set of past lapses. "
                 "{old} of past lapses were customers with one purchase day, and {r1} of those came "
                 "back; no one on the list bought on one day only.", **numbers)
    if not pd.isna(f.get("rate_for_list_mix")):
        text += gap() + t("At the historical rate of each band of purchase days, weighted by the list's "
                        "mix, {mix} would come back: {reading}; within a band, the model also counts "
                        "how long a customer has already stayed away (the historical rate counts "
                        "every loss from its first day).",
                        mix=pct(f["rate_for_list_mix"]), reading=_mix_reading(f))
    return text


def winback_intro(*, days: int, kind: str, snapshot: bool) -> str:
    """What the win-back list holds, with the number of days filled in and only the clause that
    applies to the data (one snapshot, or losses with a date), and how it is ranked."""
    if snapshot:
        first = _("The list holds everyone who had left by the snapshot (the data record who had "
                  "left, not when); it is written to `winback.csv` beside this report (customer_id "
                  "only).")
    else:
        first = t("The list holds the customers lost in the last {days} days; it is written to "
                  "`winback.csv` beside this report (customer_id only).", days=days)
    rank = (_("Each listed customer's chance of returning is learnt from the past lapses, and the "
              "list is ranked by the expected recovered value (P(return) × lost revenue).")
            if kind == "non-contractual" else
            _("The list is ranked by the revenue of the customer's last year (without purchases "
              "recorded: the monthly revenue × the months they were on the books in that year, at "
              "most 12)."))
    return first + gap() + rank + gap() + _("Lost value here is revenue, not profit: it is not "
                                            "comparable with the profit figures of money at risk.")


def winback_outputs(wb, *, days: int, kind: str, path: Path | str, currency: str | None = "") -> list:
    """What the report shows of win-back (``wb``: :class:`~churn_research.retention.winback.WinBack`),
    in order: the list, the historical rate, the sentence, the return model's scores and verdict."""
    out = [Markdown(winback_intro(days=days, kind=kind, snapshot=wb.snapshot_date is not None)),
           winback_table(wb.winback, currency)]
    if wb.rate is not None:
        out.append(winback_rate_table(wb.rate))
    out.append(Markdown(winback_text(wb.winback, wb.rate, days=days, kind=kind, path=path,
                                     currency=currency, snapshot_date=wb.snapshot_date)))
    scores = return_model_table(wb.returns)
    if scores is not None:
        out.append(scores)
    out.append(Markdown(return_model_text(wb.returns, kind=kind, has_returns=wb.rate is not None,
                                          days=days)))
    if wb.mix is not None:
        out += [mix_table(wb.mix), Markdown(mix_text(wb.mix_figures()))]
    return out


def winback_rate_table(rate: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({_("losses followed up"): rate["losses"].map(count),
                        _("came back"): rate["returned"].map(count),
                        _("win-back rate (95% CI)"): [pct_ci(r, lo, hi) for r, lo, hi in
                                                      zip(rate["rate"], rate["ci_low"], rate["ci_high"],
                                                          strict=True)]})
    out.index = [t("within {months} months", months=m) for m in rate["months"]]
    return out


def winback_text(winback: pd.DataFrame, rate: pd.DataFrame | None, *, days: int, kind: str,
                 path: Path | str, currency: str | None = "", snapshot_date=None) -> str:
    """Who is on the win-back list and what they took with them, and the historical win-back rate.

    ``snapshot_date``: the data are one snapshot taken that day; the list then holds everyone
    who had left by it, and the sentence says that when each one left is not recorded."""
    if snapshot_date is not None:
        first = t("The data are one snapshot, taken on {date}: they record who had left by then, not "
                  "when each customer left. The list holds the {n} customers who had left by the "
                  "snapshot, who took {value} of revenue of the year before their loss with them; "
                  "it ranks them by that value and is written to `{file}` (customer_id only, no "
                  "loss date).", date=pd.Timestamp(snapshot_date).date().isoformat(),
                  n=count(len(winback)), value=money(winback["lost_value"].sum(), currency),
                  file=Path(path).name)
    elif "expected_recovered_value" in winback:
        months = max(int(str(c)[len("p_return_"):-1]) for c in winback.columns
                     if str(c).startswith("p_return_"))
        first = t("{n} customers were lost in the last {days} days, taking {value} of revenue of the "
                  "year before their loss with them; weighted by each customer's chance of "
                  "returning within {months} months, that is {expected} (expected recovered value). "
                  "Its base is stated, not forecast: a year's revenue at the customer's pre-loss rate "
                  "for each expected return, whether or not a returner buys as much again; revenue, "
                  "not 50_clv's profit value. The list ranks them by it and is written to `{file}` "
                  "(customer_id only).", n=count(len(winback)), days=days, months=months,
                  value=money(winback["lost_value"].sum(), currency),
                  expected=money(winback["expected_recovered_value"].sum(), currency),
                  file=Path(path).name)
    else:
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
    return first + gap() + second


# ---------------------------------------------------------------------------------------------
# a retention campaign: its effect, the uplift model, the targeting policy, the planning tool
# ---------------------------------------------------------------------------------------------
def _points_lower_or_higher(v: float) -> str:
    """A difference of two churn proportions with its sign in words (``7.9 percentage points
    lower``; Chinese ``低 7.9 个百分点``)."""
    size = f"{abs(100 * v):.1f}"
    if size == "0.0":
        return t("{value} percentage points", value=size)
    return (t("{value} percentage points lower", value=size) if v < 0 else
            t("{value} percentage points higher", value=size))


def _signed_pct(v: float) -> str:
    """A difference of two churn proportions, in percentage points (``-9.0 percentage points``):
    not a relative change."""
    return t("{value} percentage points", value=f"{100 * v:+.1f}")


def no_campaign_text() -> str:
    return _("The data record no campaign with a control group (no campaigns table), so no "
             "retention action's effect can be estimated; the uplift model and the targeting "
             "policy need one too.")


def campaign_table(camp: CampaignStudy, currency: str | None = "") -> pd.DataFrame:
    """The campaign's effect on churn within the horizon, one row per figure."""
    e = camp.effect
    rows = {
        _("customers contacted"): count(e.n_treated),
        _("customers held out (control)"): count(e.n_control),
        _("churn of the contacted"): pct(e.churn_treated),
        _("churn of the control group"): pct(e.churn_control),
        _("effect on churn (95% CI)"): f"{_signed_pct(e.difference)} ({_signed_pct(e.ci[0])} – "
                                       f"{_signed_pct(e.ci[1])})",
        _("customers saved (95% CI)"): f"{e.saved:,.0f} ({e.saved_ci[0]:,.0f} – {e.saved_ci[1]:,.0f})",
    }
    if e.money_saved is not None:
        rows[_("value of a customer kept")] = money(e.value_per_customer, currency)
        rows[_("money saved")] = money(e.money_saved, currency)
    if e.cost is not None:
        rows[_("campaign cost")] = money(e.cost, currency)
    if e.net is not None:
        rows[_("money saved minus cost")] = money(e.net, currency)
    if e.roi is not None:
        rows[_("return on the cost (ROI)")] = pct(e.roi, 0)
    return pd.DataFrame({_("value"): list(rows.values())}, index=list(rows))


def campaign_text(camp: CampaignStudy, currency: str | None = "") -> str:
    e = camp.effect
    how = (t("Campaign '{name}' of {date}: {n1} customers on the books were contacted and {n0} held "
             "out at random; churn within {days} days after the date is compared between the two "
             "groups (difference with Newcombe's 95% interval).", name=label(e.campaign),
             date=str(camp.date.date()), n1=count(e.n_treated), n0=count(e.n_control),
             days=camp.horizon_days) if camp.randomised else
           t("Campaign '{name}' of {date}: {n1} customers on the books were contacted and {n0} were "
             "not, chosen by the business (not at random); the effect on churn within {days} days "
             "is a propensity-adjusted (doubly robust) estimate with a bootstrap 95% interval; the "
             "unadjusted difference is {naive}.", name=label(e.campaign), date=str(camp.date.date()),
             n1=count(e.n_treated), n0=count(e.n_control), days=camp.horizon_days,
             naive=_signed_pct(e.naive_difference)))
    if e.ci[1] < 0:
        verdict = t("The campaign kept customers: churn of the contacted was {d} points lower, about "
                    "{saved} customers saved.", d=f"{-e.difference * 100:.1f}", saved=f"{e.saved:,.0f}")
    elif e.ci[0] > 0:
        verdict = _("The contacted customers churned more than the others: the campaign did harm.")
    else:
        verdict = _("The interval includes no effect: these data cannot tell whether the campaign "
                    "kept anyone.")
    money_part = ""
    if e.net is not None:
        money_part = gap() + t("Valued at {value} per customer kept (mean residual value of the "
                               "contacted on the campaign's date, 50_clv's model), the customers saved "
                               "are worth {saved}; minus the cost of {cost} that leaves {net} (ROI {roi}).",
                               value=money(e.value_per_customer, currency),
                               saved=money(e.money_saved, currency), cost=money(e.cost, currency),
                               net=money(e.net, currency),
                               roi=pct(e.roi, 0) if e.roi is not None else "–")
    assumptions = "\n".join(f"- {a}" for a in e.assumptions)
    return f"{how}{gap()}{verdict}{money_part}\n\n" + _("The estimate rests on these assumptions:") + \
        f"\n\n{assumptions}"


def _truth_cell(camp: CampaignStudy, term: str, shown: str) -> str:
    """The generator's truth of one term; for customers saved both the expected number (the true
    effect × the contacted, what the estimate targets) and the number realised in this draw."""
    expected = (camp.truth or {}).get("saved_expected")
    if term != "saved" or expected is None:
        return shown
    return t("{expected} expected (the true effect × the contacted); {realised} realised in this "
             "draw", expected=f"{expected:,.0f}", realised=shown)


def campaign_truth_table(camp: CampaignStudy) -> pd.DataFrame:
    tt = camp.truth_table
    names = {"effect": _("effect on churn (risk difference)"), "saved": _("customers saved")}
    fmt = {"effect": _signed_pct, "saved": lambda v: f"{v:,.0f}"}
    out = pd.DataFrame({
        _("estimate (95% CI)"): [f"{fmt[r.term](r.estimate)} ({fmt[r.term](r.ci_low)} – "
                                 f"{fmt[r.term](r.ci_high)})" for r in tt.itertuples()],
        _("generator's truth"): [_truth_cell(camp, r.term, fmt[r.term](r.truth)) for r in tt.itertuples()],
        _("interval covers the truth"): [_("yes") if c else _("no") for c in tt["covered"]]})
    out.index = [names[k] for k in tt["term"]]
    return out


def campaign_truth_text(camp: CampaignStudy) -> str:
    ok = bool(camp.truth_table["covered"].all())
    return (_("Checked against the generator's truth: the intervals cover the true effect and the "
              "customers the campaign actually kept.") if ok else
            _("Checked against the generator's truth: an interval misses it (expected about one "
              "time in twenty)."))


def uplift_text(camp: CampaignStudy) -> str:
    model = {"logistic": _("logistic regressions"), "gbm": _("gradient boosting")}.get(
        camp.uplift_model, camp.uplift_model)
    qn, lo, hi = camp.qini_normalised
    if lo > 0:
        verdict = _("It finds the customers a contact helps better than chance (the interval "
                    "excludes 0).")
    elif hi < 0:
        verdict = _("It ranks worse than chance: do not target by it.")
    else:
        verdict = _("Its interval includes 0: on these held-out customers it cannot be told from "
                    "contacting at random, so do not rely on it for targeting.")
    return t("The uplift model (a T-learner: one churn model per group, {model}, cross-fitted over "
             "two folds so that each customer is scored by models that never saw them) ranks the "
             "campaign's customers by how much a contact lowers their churn. The Qini curve counts "
             "the customers kept when contacting the top share of that ranking, against contacting "
             "at random (the straight line). The normalised Qini coefficient is {qn} (95% bootstrap "
             "interval {lo} to {hi}, {reps} resamples of the held-out customers, fixed seed): the "
             "area between the model's curve and the random line divided by the same area of a "
             "perfect ranking (Radcliffe 2007; scikit-uplift's qini_auc_score), so 1 is a perfect "
             "ranking and 0 no better than random; per customer the area is {q}. {verdict}",
             model=model, qn=f"{qn:.3f}", lo=f"{lo:.3f}", hi=f"{hi:.3f}", reps=camp.n_boot,
             q=f"{camp.qini_coefficient:.4f}", verdict=verdict)


def _policy_names() -> dict[str, str]:
    return {"uplift": _("by uplift × value − cost"), "risk_value": _("by risk × value"),
            "risk": _("by risk alone")}


def policy_table(camp: CampaignStudy, currency: str | None = "") -> pd.DataFrame:
    p = camp.policy
    out = pd.DataFrame({
        _("customers contacted"): p["contacted"].map(count),
        _("customers kept (model)"): p["kept_expected"].map(lambda v: f"{v:,.1f}"),
        _("value kept (model)"): p["value_expected"].map(lambda v: money(v, currency)),
        _("cost"): p["cost"].map(lambda v: money(v, currency)),
        _("net (model)"): p["net_expected"].map(lambda v: money(v, currency))})
    if "kept_measured" in p:
        out[_("customers kept (measured)")] = p["kept_measured"].map(
            lambda v: "–" if pd.isna(v) else f"{v:,.1f}")
    if "value_true" in p:
        out[_("customers kept (truth)")] = p["kept_true"].map(lambda v: f"{v:,.1f}")
        out[_("value kept (truth)")] = p["value_true"].map(lambda v: money(v, currency))
        out[_("net (truth)")] = p["net_true"].map(lambda v: money(v, currency))
    out.index = [_policy_names()[k] for k in p.index]
    return out


def _overstatement(p: pd.DataFrame, column: str) -> float | None:
    """How much the model's customers kept of the uplift policy exceed ``column`` (relative)."""
    if column not in p or pd.isna(p.loc["uplift", column]) or p.loc["uplift", column] <= 0:
        return None
    return float(p.loc["uplift", "kept_expected"] / p.loc["uplift", column] - 1)


def policy_text(camp: CampaignStudy, currency: str | None = "") -> str:
    p = camp.policy
    first = t("The three policies contact {n} customers each, the same budget ({share} of the "
              "campaign's customers): one picks the largest expected uplift × residual value − cost, "
              "one the largest risk × value, and one the highest risk of churning without a contact.",
              n=count(camp.budget), share=pct(camp.budget / len(camp.frame), 0))
    parts = [first]
    if "value_true" in p:
        u, rv, r = (p.loc[k, "value_true"] for k in ("uplift", "risk_value", "risk"))
        if u > max(rv, r):
            parts.append(t("Targeting by uplift keeps {u} of value according to the generator's known "
                           "truth, against {rv} for risk × value and {r} for risk alone: the customers most likely to leave are not the "
                           "ones a contact keeps.", u=money(u, currency), rv=money(rv, currency),
                           r=money(r, currency)))
        else:
            parts.append(t("Targeting by uplift keeps {u} of value according to the generator's known "
                           "truth, against {rv} for risk × value and {r} for risk alone: here the uplift model does not beat the simpler "
                           "policies.", u=money(u, currency), rv=money(rv, currency), r=money(r, currency)))
        parts.append(_("(Truth: the generator's chance that a contact keeps each customer, times "
                       "their value.)"))
    over_m, over_t = _overstatement(p, "kept_measured"), _overstatement(p, "kept_true")
    pred = f"{p.loc['uplift', 'kept_expected']:,.1f}"
    if over_t is not None:
        parts.append(t("For the customers the uplift policy picks, the model predicts {pred} customers "
                       "kept; the generator's truth is {true} ({rel} {word}) and the campaign's own "
                       "groups among them measure {meas}.", pred=pred,
                       true=f"{p.loc['uplift', 'kept_true']:,.1f}", rel=pct(abs(over_t), 0),
                       word=_("too many") if over_t > 0 else _("too few"),
                       meas=f"{p.loc['uplift', 'kept_measured']:,.1f}" if over_m is not None else "–"))
    elif over_m is not None:
        parts.append(t("For the customers the uplift policy picks, the model predicts {pred} customers "
                       "kept; the campaign's own groups among them (held-out predictions) measure "
                       "{meas}: the model's figure is {rel} {word}.", pred=pred,
                       meas=f"{p.loc['uplift', 'kept_measured']:,.1f}", rel=pct(abs(over_m), 0),
                       word=_("too high") if over_m > 0 else _("too low")))
    if "value_true" not in p:
        parts.append(_("The model's figures are expectations from the uplift model; test the chosen "
                       "policy against a control group before relying on them."))
    return gap().join(parts)


def campaign_outputs(camp: CampaignStudy, currency: str | None = "") -> list:
    """What the report shows of the campaign's effect (tables and Markdown, in order)."""
    out = [campaign_table(camp, currency), Markdown(campaign_text(camp, currency))]
    if camp.truth_table is not None:
        out += [campaign_truth_table(camp), Markdown(campaign_truth_text(camp))]
    return out


def uplift_outputs(camp: CampaignStudy, currency: str | None = "") -> list:
    """The uplift model's verdict and the targeting policies (after the Qini curve)."""
    out = [Markdown(uplift_text(camp))]
    if camp.policy is not None:
        out += [policy_table(camp, currency), Markdown(policy_text(camp, currency))]
    return out


_PERIOD_DAYS = {"month": 365.25 / 12, "quarter": 365.25 / 4, "half-year": 365.25 / 2, "year": 365.25}


def campaign_plan(camp: CampaignStudy, indicators_json: Path | str, *, customers: int) -> dict | None:
    """The planning tool's figures: the churn target of 10_indicators (its key figures beside this
    report) against the campaign's measured effect and cost; None without a churn target."""
    path = Path(indicators_json)
    if not path.exists():
        return None
    figs = json.loads(path.read_text(encoding="utf-8"))
    actual, target = figs.get("target.churn_rate.actual"), figs.get("target.churn_rate.target")
    if actual is None or target is None:
        return None
    period = str(figs.get("freq", "quarter"))
    days = _PERIOD_DAYS.get(period, 365.25 / 4)
    scale = camp.horizon_days / days  # the target rate held over the campaign's horizon
    e = camp.effect
    status = figs.get("target.churn_rate.status")
    out = measure.plan(actual=actual * scale, target=target * scale, customers=customers,
                       effect=e.difference, cost_per_contact=camp.cost_per_contact,
                       value_per_customer=e.value_per_customer, effect_ci=e.ci,
                       within_interval=status == "not distinguishable from target")
    out.update({"period": period, "period_actual": actual, "period_target": target,
                "status": status})
    return out


def _range(lo, hi, fmt) -> str:
    """``lo – hi`` of an interval whose ends may be unbounded (None)."""
    if lo is None and hi is None:
        return "–"
    return f"{fmt(lo) if lo is not None else '–'} – {fmt(hi) if hi is not None else _('no upper bound')}"


def plan_table(plan: dict, currency: str | None = "") -> pd.DataFrame:
    """The plan's figures, each with its interval from the campaign effect's 95% CI."""
    def m(v):
        return money(v, currency) if v is not None else "–"

    has_ci = "contacts_low" in plan
    rows = {_("churn per period now → target"): (f"{pct(plan['period_actual'])} → {pct(plan['period_target'])}", ""),
            _("customers on the books"): (count(plan["customers"]), ""),
            _("customers to save over the campaign's horizon"): (count(plan["to_save"]), ""),
            _("effect on churn per customer contacted"): (
                _signed_pct(plan["effect"]),
                _range(plan.get("effect_ci_low"), plan.get("effect_ci_high"), _signed_pct) if has_ci else ""),
            _("contacts needed at the measured effect"): (
                count(plan["contacts"]) if plan["contacts"] else "–",
                _range(plan.get("contacts_low"), plan.get("contacts_high"), count) if has_ci else ""),
            _("cost of the contacts"): (m(plan["cost"]), _range(plan.get("cost_low"), plan.get("cost_high"), m)
                                        if has_ci else ""),
            _("value of the customers saved"): (m(plan["value"]), ""),
            _("net"): (m(plan["net"]), _range(plan.get("net_low"), plan.get("net_high"), m)
                       if has_ci and (plan.get("net_low") is not None or plan.get("net_high") is not None)
                       else "")}
    out = pd.DataFrame({_("value"): [v for v, _i in rows.values()],
                        _("range over the effect's 95% CI"): [i for _v, i in rows.values()]},
                       index=list(rows))
    return out if has_ci else out.iloc[:, :1]


def _points_above(plan: Mapping[str, Any]) -> str:
    """How far churn per period is above its target, in percentage points (``0.9``)."""
    return f"{100 * (float(plan['period_actual']) - float(plan['period_target'])):.1f}"


def plan_text(plan: dict | None, camp: CampaignStudy, currency: str | None = "") -> str:
    if plan is None:
        return _("The planning tool needs the churn target of 10_indicators (its key figures beside "
                 "this report): render 10_indicators first.")
    if plan["met"] and plan.get("met_how") == "within interval":
        return t("Churn per {period} ({actual}) is not shown to meet the target of 10_indicators "
                 "({target}): the estimate is {above} percentage points above it, though the interval "
                 "of the actual rate still covers the target. Reaching the target would take keeping "
                 "about {save} customers over {days} days: about {contacts} "
                 "contacts at the campaign's measured effect ({lo} to {hi} over its 95% interval), "
                 "costing {cost}.", period=label(plan["period"]), actual=pct(plan["period_actual"]),
                 target=pct(plan["period_target"]), above=_points_above(plan),
                 save=count(plan["to_save"]), days=camp.horizon_days,
                 contacts=count(plan["contacts"]) if plan["contacts"] else "–",
                 lo=count(plan["contacts_low"]) if plan.get("contacts_low") else "–",
                 hi=count(plan["contacts_high"]) if plan.get("contacts_high") else _("no upper bound"),
                 cost=money(plan["cost"], currency) if plan["cost"] is not None else "–")
    if plan["met"]:
        return t("Churn per {period} ({actual}) already meets the target of 10_indicators ({target}): "
                 "no customers need to be saved to reach it.", period=label(plan["period"]),
                 actual=pct(plan["period_actual"]), target=pct(plan["period_target"]))
    if plan["contacts"] is None:
        return t("To bring churn per {period} from {actual} to the target of 10_indicators ({target}), "
                 "about {save} of the {n} customers on the books must be kept over {days} days; the "
                 "campaign's measured effect keeps no one, so it cannot get there.",
                 period=label(plan["period"]), actual=pct(plan["period_actual"]),
                 target=pct(plan["period_target"]), save=count(plan["to_save"]),
                 n=count(plan["customers"]), days=camp.horizon_days)
    ci = ""
    if plan.get("contacts_low") is not None:
        ci = gap() + t("Over the effect's 95% interval that is {lo} to {hi} contacts costing {clo} to "
                     "{chi}.", lo=count(plan["contacts_low"]),
                     hi=count(plan["contacts_high"]) if plan.get("contacts_high") else _("no upper bound"),
                     clo=money(plan["cost_low"], currency) if plan.get("cost_low") is not None else "–",
                     chi=money(plan["cost_high"], currency) if plan.get("cost_high") is not None
                     else _("no upper bound"))
    return t("To bring churn per {period} from {actual} to the target of 10_indicators ({target}) and "
             "hold it there for the campaign's {days} days, about {save} of the {n} customers on the "
             "books must be kept; at the campaign's measured effect ({effect} churn per customer "
             "contacted) that takes about {contacts} contacts costing {cost}, for {value} of value "
             "kept: a net {net}.",
             period=label(plan["period"]), actual=pct(plan["period_actual"]),
             target=pct(plan["period_target"]), days=camp.horizon_days, save=count(plan["to_save"]),
             n=count(plan["customers"]), effect=_signed_pct(plan["effect"]),
             contacts=count(plan["contacts"]),
             cost=money(plan["cost"], currency) if plan["cost"] is not None else "–",
             value=money(plan["value"], currency) if plan["value"] is not None else "–",
             net=money(plan["net"], currency) if plan["net"] is not None else "–") + ci


def plan_outputs(plan: dict | None, camp: CampaignStudy | None, currency: str | None = "") -> list:
    """The planning tool's table and sentence (nothing without a measured campaign)."""
    if camp is None:
        return [Markdown(_("The planning tool needs a campaign measured against a control group (a "
                           "campaigns table): it is not available for these data."))]
    show = plan is not None and not (plan["met"] and plan.get("met_how") == "met")
    return ([plan_table(plan, currency)] if show else []) + [Markdown(plan_text(plan, camp, currency))]


# ---------------------------------------------------------------------------------------------
# findings
# ---------------------------------------------------------------------------------------------
def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: the money at risk in the active base, with its interval."""
    cur = context.get("currency", "")
    keys, unavailable = [], []
    total = get(figures, "money_at_risk.all.expected_loss")
    days = get(figures, "horizon_days")
    kind = str(get(figures, "money_at_risk.value_model", context.get("kind") or "contractual"))
    calibrated = reads_as_probabilities(figures)
    if total is not None and get(figures, "design") == "cross-sectional":
        headline = t("Resemblance-weighted value at risk of the customers active now: {total} (95% "
                     "interval {lo}–{hi}; each customer's residual value weighted by how much they "
                     "resemble those who left in this one snapshot, not an expected loss within a "
                     "period); the watchlist holds {wl} of it.", total=money(total, cur),
                     **_ends_of(figures, cur),
                     wl=money(get(figures, "money_at_risk.watchlist.expected_loss"), cur))
    elif total is not None and not is_expected_loss(kind=kind, design="prospective", calibrated=calibrated):
        headline = t("Weighted by their churn-risk score over {days} days, the residual value of the "
                     "customers active now sums to {total} (95% interval {lo}–{hi}); the {wn} "
                     "top-ranked customers of the watchlist hold {wl} of it. This ranks where the "
                     "value at stake sits; it is not the value expected to be lost: {why}.",
                     total=money(total, cur), days=days,
                     **_ends_of(figures, cur),
                     wn=count(get(figures, "money_at_risk.watchlist.customers")),
                     wl=money(get(figures, "money_at_risk.watchlist.expected_loss"), cur),
                     why=_why_not_a_loss(kind=kind, days=days, calibrated=calibrated))
        clv_loss = get(figures, "clv_value_lost.expected_loss")
        if clv_loss is not None:
            headline += gap() + t("The expected loss is 50_clv's: {clv} of future profit within "
                                  "{months} months.", clv=money(clv_loss, cur),
                                  months=get(figures, "clv_value_lost.horizon_months"))
    elif total is not None:
        headline = t("Customers active now are expected to take {total} of residual value with them "
                     "within {days} days (95% interval {lo}–{hi}); the watchlist holds {wl} of it.",
                     total=money(total, cur), days=days,
                     **_ends_of(figures, cur),
                     wl=money(get(figures, "money_at_risk.watchlist.expected_loss"), cur))
    else:
        headline = _("Money at risk could not be computed: no value model fits these data.")
        unavailable.append(_("Money at risk: 50_clv's value models need contractual data with a "
                             "revenue column or a non-contractual purchase log."))
    e0, e1 = get(figures, "calibration.ece_before"), get(figures, "calibration.ece_after")
    if e0 is not None and e1 is not None:
        used = get(figures, "calibration.used")
        if used is None or used:
            keys.append(Finding(t("Recalibrated risks are off by {after} percentage points on average "
                                  "across risk deciles (expected calibration error, held out), against "
                                  "{before} before.", after=f"{100 * e1:.2f}", before=f"{100 * e0:.2f}"),
                                _("Calibrated risk")))
        else:
            keys.append(Finding(t("Recalibration is used only when it improves both held-out "
                                  "measures, and here it does not (expected calibration error {before} "
                                  "percentage points before, {after} after; Brier score {b0} before, "
                                  "{b1} after), so money at risk and the watchlist keep the model's "
                                  "own scores.",
                                  before=f"{100 * e0:.2f}", after=f"{100 * e1:.2f}",
                                  b0=f"{get(figures, 'calibration.brier_before'):.4f}",
                                  b1=f"{get(figures, 'calibration.brier_after'):.4f}"),
                                _("Calibrated risk")))
    acc, base = get(figures, "reasons.accuracy"), get(figures, "reasons.base_rate")
    if acc is not None:
        keys.append(Finding(t("The likely-reason heuristic matched the recorded exit reason for {acc} "
                              "of churners, against {base} for always naming the most frequent "
                              "reason.", acc=pct(acc), base=pct(base)), _("Actions that fit")))
    else:
        unavailable.append(_("Checking the likely reason: the data record no exit reasons."))
    lost = get(figures, "winback.recently_lost")
    by_snapshot = get(figures, "winback.lost_by_snapshot")
    ret = next((m for m in (12, 6) if get(figures, f"winback.return_{m}m.auc") is not None), None)
    if by_snapshot is not None:
        keys.append(Finding(t("{n} customers had left by the snapshot of {date} (when each one left "
                              "is not recorded), taking {value} of revenue of the year before their "
                              "loss with them: the win-back list ranks them by lost value.",
                              n=count(by_snapshot), date=get(figures, "winback.snapshot_date"),
                              value=money(get(figures, "winback.lost_value"), cur)), _("Win-back")))
        lost = by_snapshot
    elif lost is not None and ret is not None:
        keys.append(Finding(t("{n} customers were lost in the last {days} days; each one's chance of "
                              "returning within {m} months × the revenue of their last year before the "
                              "loss sums to {exp} (expected recovered value: a year's revenue at the "
                              "pre-loss rate per expected return, not a forecast of what returners will "
                              "spend, and revenue, not profit; held-out AUC of the return model {auc}): "
                              "the win-back list ranks them by it.",
                              n=count(lost), days=get(figures, "winback.days"),
                              exp=money(get(figures, "winback.expected_recovered_value"), cur), m=ret,
                              auc=f"{get(figures, f'winback.return_{ret}m.auc'):.2f}"), _("Win-back")))
    elif lost is not None:
        keys.append(Finding(t("{n} customers were lost in the last {days} days: the win-back list "
                              "ranks them by lost value.", n=count(lost),
                              days=get(figures, "winback.days")), _("Win-back")))
    months = [m for m in (12, 6) if get(figures, f"winback.rate_{m}m") is not None]
    if months:
        m = months[0]
        line = t("Historically {rate} of lost customers came back within {months} months.",
                 rate=pct_ci(get(figures, f"winback.rate_{m}m"), get(figures, f"winback.rate_{m}m_ci_low"),
                             get(figures, f"winback.rate_{m}m_ci_high")), months=m)
        mixed, p = get(figures, "winback.mix.rate_for_list_mix"), get(figures, "winback.mix.list_mean_p_return")
        if mixed is not None and p is not None and get(figures, "winback.mix.months") == m:
            listed = get(figures, "winback.mix.one_purchase_day_share_listed") or 0.0
            old = pct(get(figures, "winback.mix.one_purchase_day_share_lapses"))
            line += gap() + (
                t("The customers lost recently bought more often than the typical past lapse ({new} "
                  "with one purchase day, against {old}): at the historical rates of their mix of "
                  "purchase days {mix} would come back, and the return model gives them {p} on "
                  "average.", new=pct(listed), old=old, mix=pct(mixed), p=pct(p)) if listed > 0 else
                t("The customers lost recently bought more often than the typical past lapse (none "
                  "with one purchase day, against {old}): at the historical rates of their mix of "
                  "purchase days {mix} would come back, and the return model gives them {p} on "
                  "average.", old=old, mix=pct(mixed), p=pct(p)))
        keys.append(Finding(line, _("Win-back")))
    elif get(figures, "winback.losses_6m") is not None:
        unavailable.append(_("The win-back rate: no loss is old enough for its window to be over."))
    else:
        unavailable.append(_("The win-back rate: the data cannot show a lost customer coming back."))
    if lost is not None and ret is None:
        unavailable.append(_("How likely a lost customer is to come back: the data record no returns "
                             "it could be learnt from."))
    diff = get(figures, "campaign.difference")
    if diff is None:
        unavailable.append(_("The effect of a retention action: the data record no campaign with a "
                             "control group, so no action's effect can be estimated."))
    else:
        line = t("Campaign '{name}': churn within {days} days {d} for the contacted than for the "
                 "control group (95% CI {lo} to {hi}), about {saved} customers saved",
                 name=label(get(figures, "campaign.campaign")), days=get(figures, "campaign.horizon_days"),
                 d=_points_lower_or_higher(diff), lo=_signed_pct(get(figures, "campaign.ci_low")),
                 hi=_signed_pct(get(figures, "campaign.ci_high")),
                 saved=f"{get(figures, 'campaign.saved'):,.0f}")
        net = get(figures, "campaign.net")
        if net is not None:
            line += t("; net of its cost {net}", net=money(net, cur))
        truth = get(figures, "campaign.truth.ate")
        if truth is not None:
            line += t(" (the generator's true effect: {truth})", truth=_signed_pct(truth))
        keys.append(Finding(line + stop(), _("Measuring a retention campaign")))
        u, r = get(figures, "uplift.policy.uplift.value_true"), get(figures, "uplift.policy.risk.value_true")
        rv = get(figures, "uplift.policy.risk_value.value_true")
        qn = get(figures, "uplift.qini_normalised")
        qtext = (t("normalised Qini {q}, 95% CI {lo} to {hi}", q=f"{qn:.3f}",
                   lo=f"{get(figures, 'uplift.qini_normalised_ci_low'):.3f}",
                   hi=f"{get(figures, 'uplift.qini_normalised_ci_high'):.3f}") if qn is not None else
                 t("Qini coefficient {q}", q=f"{get(figures, 'uplift.qini_coefficient'):.4f}"))
        if u is not None and r is not None and rv is not None:
            keys.append(Finding(t("At the same budget, targeting by uplift × value − cost keeps {u} of "
                                  "value according to the generator's known truth, targeting by risk × value {rv} and by risk alone {r} "
                                  "({qtext}).", u=money(u, cur), rv=money(rv, cur), r=money(r, cur),
                                  qtext=qtext), _("Measuring a retention campaign")))
        elif qn is not None:
            keys.append(Finding(t("The uplift model ranks held-out customers with a {qtext} (1: "
                                  "perfect, 0: no better than contacting at random).", qtext=qtext),
                                _("Measuring a retention campaign")))
        contacts = get(figures, "plan.contacts")
        if get(figures, "plan.met_how") == "within interval":
            keys.append(Finding(t("Churn per {period} ({actual}) is not shown to meet the target of "
                                  "10_indicators ({target}): the estimate is {above} percentage "
                                  "points above it, though its interval still covers the target.",
                                  period=label(str(get(figures, "plan.period"))),
                                  actual=pct(get(figures, "plan.period_actual")),
                                  target=pct(get(figures, "plan.period_target")),
                                  above=_points_above({"period_actual": get(figures, "plan.period_actual"),
                                                       "period_target": get(figures, "plan.period_target")})),
                                _("How many customers must we save?")))
        elif contacts is not None and not get(figures, "plan.met"):
            hi = get(figures, "plan.contacts_high")
            keys.append(Finding(t("Meeting the churn target of 10_indicators takes keeping about {save} "
                                  "customers: about {contacts} contacts at the campaign's measured "
                                  "effect ({lo} to {hi} over its 95% interval).",
                                  save=count(get(figures, "plan.to_save")), contacts=count(contacts),
                                  lo=count(get(figures, "plan.contacts_low")),
                                  hi=count(hi) if hi is not None else _("no upper bound")),
                                _("How many customers must we save?")))
    return StageFindings("60_retention", dataset, headline, keys, unavailable)


def key_figures_text(flat: Mapping[str, Any], output_json) -> str:
    """How many key figures were written, and where (the same message as the other stages)."""
    return t("{n} key figures written to `{file}`.", n=len(flat), file=Path(output_json).name)
