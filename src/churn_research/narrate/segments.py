"""Findings of 40_segments: who is at risk now, how well that can be told, and what to do.

:func:`findings` builds the Findings box from the key figures; the ``*_text`` functions build
the sentences of each report section from the stage's result objects (markdown).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from churn_research.i18n import _, _p, is_chinese, label, label_msg, t
from churn_research.model import ChurnData
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import (
    MISSING,
    count,
    get,
    money,
    not_available,
    pct,
    pct_ci,
    text,
)
from churn_research.narrate.retention import rules_table
from churn_research.narrate.tables import readable
from churn_research.segments.report import (
    WEAK_SIGNAL_LIFT,
    SignalCheck,
    cluster_separation,
    cluster_silhouette,
    risk_consistent,
)
from churn_research.stats import CALIBRATION_TOLERANCE
from churn_research.wording import gap, join, sentences


def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: how well the risk model ranks customers, against the naive baseline."""
    auc, lo, hi = (get(figures, k) for k in ("cv_auc", "cv_auc_ci_low", "cv_auc_ci_high"))
    base = get(figures, "baseline_cv_auc")
    prospective = get(figures, "design") == "prospective"
    keys = []
    if auc is not None:
        numbers = {"auc": f"{auc:.2f}", "low": f"{lo:.2f}", "high": f"{hi:.2f}",
                   "base": f"{base:.2f}"}
        if prospective:
            headline = t("The churn-risk model ranks who will churn in the next {days} days with "
                         "cross-validated AUC {auc} (95% CI {low}–{high}), against {base} for the "
                         "naive one-feature baseline and 0.50 for chance.",
                         days=text(get(figures, "horizon_days")), **numbers)
        else:
            headline = t("The churn-risk model describes who has churned (one snapshot: not a "
                         "forecast) with cross-validated AUC {auc} (95% CI {low}–{high}), against "
                         "{base} for the naive one-feature baseline and 0.50 for chance.", **numbers)
    else:
        headline = _("No churn-risk model could be fitted to these data.")
    size = get(figures, "watchlist.size")
    if size and prospective:
        sentence = t("The watchlist names the {size} active customers with the highest risk × value "
                     "(mean predicted risk {risk}, the model's own score before the calibration of "
                     "60_retention), each with the signals that put them there and a "
                     "suggested action: start retention calls there.",
                     size=count(size), risk=pct(get(figures, "watchlist.mean_risk")))
        base = get(figures, "watchlist.active_mean_risk")
        if base is not None and get(figures, "watchlist.mean_risk") < base:  # review s6/s7: cdnow
            sentence += gap() + t("Its mean risk is below the {base} of all active customers because "
                                  "it ranks by risk × value: valuable customers with a moderate risk "
                                  "come before low-value customers with a high one.", base=pct(base))
        keys.append(Finding(sentence, _("The watchlist")))
    elif size:
        keys.append(Finding(
            t("The watchlist names the {size} current customers who most resemble those who "
              "left, weighted by value (a descriptive score from one snapshot, not a forecast).",
              size=count(size)),
            _("The watchlist")))
    lift = get(figures, "top_decile_lift")
    if lift is not None:
        keys.append(Finding(t("The riskiest tenth of customers churns {lift} times as often as "
                              "the average customer.", lift=f"{lift:.1f}"),
                            _("The churn-risk model")))
    ece = get(figures, "ece")
    if ece is not None and prospective:
        keys.append(Finding(
            t("Predicted risks differ from the observed churn by {points} percentage points on "
              "average across risk deciles (expected calibration error).",
              points=f"{100 * ece:.1f}"), _("The churn-risk model")))
    at_risk = get(figures, "tiers.at risk.churn_rate")
    overall = get(figures, "churn_rate_in_horizon")
    if at_risk is not None and overall is not None:
        values = {"tier": label("at risk"), "customers": count(get(figures, "tiers.at risk.customers")),
                  "rate": pct(at_risk), "days": text(get(figures, "horizon_days")),
                  "overall": pct(overall)}
        if at_risk > 1.2 * overall:
            sentence = t("The rule-based '{tier}' value tier ({customers} customers) churned {rate} "
                         "in the {days} days after the cutoff, against {overall} overall.", **values)
        else:
            sentence = t("The rule-based '{tier}' value tier ({customers} customers) churned {rate} "
                         "in the {days} days after the cutoff, against {overall} overall: the rule "
                         "does not separate churners; use the model's ranking.", **values)
        keys.append(Finding(sentence, _("Value tiers")))
    k = get(figures, "clusters.k")
    if k is not None:
        keys.append(Finding(
            t("{k} behavioural clusters (silhouette {silhouette}); their churn rates range from "
              "{low} to {high}.", k=k, silhouette=f"{get(figures, 'clusters.silhouette'):.2f}",
              low=pct(get(figures, "clusters.churn_rate_min")),
              high=pct(get(figures, "clusters.churn_rate_max"))),
            _("Behavioural clusters")))
    # the watchlist's money at stake is 60_retention's (calibrated risk x residual value): one
    # money-at-risk figure across the reports (the uncalibrated revenue figure stays in the JSON)
    unavailable = []
    if not prospective:
        unavailable.append(not_available(_("early-warning signals and a forward-looking risk model"),
                                         _("the data are one snapshot without an activity history")))
    return StageFindings("40_segments", dataset, headline, keys[:6], unavailable)


# Section sentences (markdown), from the stage's result objects
# ---------------------------------------------------------------------------------------------
def _model_name(name: str) -> str:
    """How a risk model reads (in the report's language)."""
    names = {"logistic": _("logistic regression"), "gradient_boosting": _("gradient boosting"),
             "baseline": _("naive baseline")}
    return names.get(str(name), label(str(name).replace("_", " ")))


def _feature(name) -> str:
    """A feature or column name in words (``tenure_days`` -> ``tenure (days)``)."""
    return _name(name)


def methods_text(design: str) -> str:
    """The method of the stage, for a prospective design (features at a cutoff, churn in the
    horizon after it) or a snapshot (one date, the dataset's own churn flag)."""
    models = _("Logistic regression and gradient boosting are compared with stratified 5-fold "
               "cross-validation against a naive one-feature rule; the AUC interval is a "
               "t-interval over the fold AUCs.")
    rules = _("Rules and thresholds are parameters (shown with each table) and documented in "
              "`churn_research.segments`.")
    if design == "prospective":
        return sentences(
            _("**Methods.** Every feature is computed from the data *as known at a cutoff "
              "date*: the data is truncated first (rows after the cutoff dropped, later "
              "cancellations masked), so nothing from the future can leak into a feature; a "
              "unit test perturbs every post-cutoff row and checks that the features do not "
              "move. The label is *churned within the horizon after the cutoff*, among "
              "customers active at the cutoff."), models,
            _("The watchlist scores today's customers with the best model and ranks them by "
              "risk × trailing 12-month revenue."), rules)
    return sentences(
        _("**Methods.** The data are one snapshot, so there is no cutoff and no later period: "
          "the features are the customers' attributes on the snapshot date (tenure, charges, "
          "contract, services) and the label is the dataset's own churn flag. Where the "
          "sections below speak of \"the cutoff\", read the snapshot date."), models,
        _("The model therefore describes who *has* churned, not who *will*. The watchlist "
          "ranks current customers by their out-of-fold score × 12 months' charges."), rules)


def model_table(model) -> Styler:
    """The risk models side by side: AUC with its interval (2 decimals), the gain over the
    baseline with its interval, calibration (in percentage points), Brier score and the top
    decile; models in words."""
    rows = []
    for name, r in model.summary_.iterrows():
        gain = (MISSING if name == "baseline" else
                t("{gain} ({low} to {high})", gain=f"{r['auc_gain']:+.2f}",
                  low=f"{r['gain_ci_low']:+.2f}", high=f"{r['gain_ci_high']:+.2f}"))
        rows.append({
            _("model"): _model_name(name),
            _("cross-validated AUC (95% CI)"): f"{r['cv_auc']:.2f} ({r['ci_low']:.2f}–{r['ci_high']:.2f})",
            _("AUC gain over baseline (95% CI)"): gain,
            _("calibration error (points)"): f"{100 * r['ece']:.1f}",
            _("largest decile gap (points)"): f"{100 * r['max_calibration_gap']:.1f}",
            _("Brier score"): f"{r['brier']:.3f}",
            _("churners in riskiest 10%"): pct(r["top_decile_capture"]),
            _("lift of riskiest 10%"): f"{r['top_decile_lift']:.2f}×"})
    return pd.DataFrame(rows).style.hide(axis="index")


def score_label(column: str) -> str:
    """``"r_score"`` -> ``"R score"`` (axis and sentence label of an RFM score)."""
    return t("{letter} score", letter=column[0].upper())


def label_text(design: str, horizon_days: int) -> str:
    """What the churn rate of a table is: churn in the horizon, or the dataset's flag."""
    if design == "prospective":
        return t("churn rate in the {days} days after the cutoff", days=horizon_days)
    return _("churn rate (the dataset's churn flag)")


def data_text(data: ChurnData, *, dataset: str, design: str, cutoff, horizon_days: int,
              churned: pd.Series) -> str:
    """The data, the design, the cutoff and the label, with the churn rate it gives."""
    if design == "prospective":
        values = {"cutoff": cutoff.date(), "days": horizon_days, "n": f"{len(churned):,}",
                  "rate": f"{churned.mean():.1%}"}
        if data.kind == "non-contractual":
            what = t("Features are computed at the cutoff **{cutoff}** from data dated on or "
                     "before it; the label is *churned within {days} days after it* (no purchase "
                     "in that window: churn is not observed in a purchase log) among the **{n}** "
                     "customers active at the cutoff, of whom **{rate}** churned.", **values)
        else:
            what = t("Features are computed at the cutoff **{cutoff}** from data dated on or "
                     "before it; the label is *churned within {days} days after it* (a "
                     "cancellation in that window) among the **{n}** customers active at the "
                     "cutoff, of whom **{rate}** churned.", **values)
    else:
        what = t("**Cross-sectional design.** This dataset is one snapshot ({date}) without an "
                 "activity history, so the features are the customers' attributes at the snapshot "
                 "and the label is the dataset's own churn flag ({rate} of {n} customers). The "
                 "model describes who *has* churned, not who *will*: its accuracy is not a "
                 "forecast accuracy.", date=cutoff.date(), rate=f"{churned.mean():.1%}",
                 n=f"{len(churned):,}")
    return sentences(t("**Data:** `{dataset}` ({kind}), observation end {end}.", dataset=dataset,
                        kind=label(data.kind), end=data.observation_end.date()), what)


def rfm_codes_text(data: ChurnData, *, design: str, horizon_days: int) -> str:
    """What the RFM-code table shows and what recency means for this kind of data."""
    if not data.has("transactions"):
        note = _("Without transactions recency is unknown (R = 'x'); F is the number of months as "
                 "a customer and M the monthly revenue times the months billed in the window.")
    elif data.kind == "contractual":
        note = _("Recency carries little information in a subscription business (every active "
                 "subscriber is invoiced monthly), so the R score mostly separates recently lost "
                 "customers from current ones.")
    else:
        note = _("In a purchase log recency is the strongest single sign of lapsing.")
    return sentences(t("The ten most common RFM codes among the customers with a label, with "
                        "their {rate}.", rate=label_text(design, horizon_days)), note)


def rfm_grid_text(grid: pd.DataFrame) -> str:
    """Where churn is highest and lowest in the RFM grid (:func:`segments.rfm_grid`)."""
    cells = grid.stack()
    row = grid.index.name[0].upper()
    hot, cold = cells.idxmax(), cells.idxmin()
    return t("Churn rate by {score} and {f_score}: the highest churn ({high}) is at {row} = {hot_row}, "
             "F = {hot_f}; the lowest ({low}) at {row} = {cold_row}, F = {cold_f}.",
             score=score_label(grid.index.name), f_score=score_label("f_score"),
             high=f"{cells.max():.0%}", row=row, hot_row=hot[0], hot_f=hot[1],
             low=f"{cells.min():.0%}", cold_row=cold[0], cold_f=cold[1])


def tier_churn_text(tiers: pd.DataFrame, *, has_transactions: bool) -> str:
    """The tiers that churn most and least (:func:`segments.tier_summary`), and the empty ones."""
    rated = tiers.dropna(subset=["churn_rate"])
    rated = rated.loc[rated["customers"] > 0]
    worst, best = rated["churn_rate"].idxmax(), rated["churn_rate"].idxmin()
    out = t("Churn is highest in the **{worst}** tier ({rate}, 95% CI {low}–{high}) and lowest in "
            "the **{best}** tier ({best_rate}).", worst=label(worst),
            rate=f"{rated.loc[worst, 'churn_rate']:.1%}",
            low=f"{rated.loc[worst, 'churn_ci_low']:.1%}",
            high=f"{rated.loc[worst, 'churn_ci_high']:.1%}", best=label(best),
            best_rate=f"{rated.loc[best, 'churn_rate']:.1%}")
    empty = [label(t_) for t_ in tiers.index[tiers["customers"] == 0]]
    if empty:
        out = sentences(out, (t("Empty tiers: {tiers}.", tiers=join(empty)) if has_transactions
                               else t("Empty tiers: {tiers} — a snapshot has no purchase history "
                                      "to show who is slipping or already gone.",
                                      tiers=join(empty))))
    return out


def tier_revenue_text(tiers: pd.DataFrame) -> str:
    """How much of the revenue the high-value and at-risk tiers hold, and the at-risk check."""
    hv, ar = tiers.loc["high value"], tiers.loc["at risk"]
    values = {"share": f"{hv['share']:.0%}", "revenue": f"{hv['revenue_share']:.0%}",
              "at_risk": f"{ar['revenue_share']:.0%}"}
    if ar["customers"]:
        out = t("The high-value tier is {share} of customers but holds **{revenue}** of the "
                "trailing revenue; the at-risk tier holds {at_risk} of it.", **values)
    else:
        out = t("The high-value tier is {share} of customers but holds **{revenue}** of the "
                "trailing revenue.", **values)
    return out + tier_check_sentence(tiers)


def clusters_text(clusters, *, n_customers: int) -> str:
    """The chosen number of clusters, how separated they are, and the sample they were fitted on.

    ``clusters`` is a fitted :class:`segments.CustomerClusters`; ``n_customers`` the customers
    clustered.
    """
    sil = cluster_silhouette(clusters)
    reading = {
        "clear": _("clearly separated groups."),
        "moderate": _("moderately separated groups."),
        "weak": _("weak structure — the customer base is more a continuum than distinct "
                  "groups, so read the clusters as a convenient partition.")}[cluster_separation(sil)]
    parts = [t("Chosen: **k = {k}** on {features}. Mean silhouette {silhouette}: {reading}",
               k=clusters.k_, features=join(map(_feature, clusters.columns_)),
               silhouette=f"{sil:.2f}", reading=reading)]
    if clusters.k_ == max(clusters.k_range) and cluster_separation(sil) == "weak":
        parts.append(_("The silhouette is still rising at the largest k tried; with so little "
                       "structure, more clusters would only cut the continuum finer."))
    if clusters.n_fit_ < n_customers:
        parts.append(t("The clusters were fitted on a random sample of {n_fit} of the {n} "
                       "customers (seed {seed}) and every customer assigned to the nearest centre.",
                       n_fit=f"{clusters.n_fit_:,}", n=f"{n_customers:,}",
                       seed=clusters.random_state))
    return sentences(*parts)


def cluster_profiles_text(profiles: pd.DataFrame) -> str:
    """The clusters that churn most and least (:meth:`CustomerClusters.profiles`)."""
    hi, lo = profiles["churn_rate"].idxmax(), profiles["churn_rate"].idxmin()
    return t("Cluster {hi} churns most ({hi_rate}; {hi_profile}); cluster {lo} least ({lo_rate}; "
             "{lo_profile}).", hi=hi, hi_rate=f"{profiles.loc[hi, 'churn_rate']:.1%}",
             hi_profile=profiles.loc[hi, "distinguishing"], lo=lo,
             lo_rate=f"{profiles.loc[lo, 'churn_rate']:.1%}",
             lo_profile=profiles.loc[lo, "distinguishing"])


def model_text(model, *, n_customers: int) -> str:
    """The best model's cross-validated AUC against the baseline, with the paired gain.

    ``model`` is a fitted :class:`segments.ChurnRiskModel`; ``n_customers`` the labelled customers.
    """
    best = model.summary_.loc[model.best_name_]
    base = model.summary_.loc["baseline"]
    verdict = (_("; the gain is clear") if best["gain_ci_low"] > 0 else
               _("; the interval includes zero, so this sample cannot show a clear gain"))
    parts = [
        t("Best model: **{model}**, cross-validated AUC **{auc}** (95% t-interval over {folds} "
          "folds {low}–{high}) against {base} for the naive baseline ({feature} only; parameter "
          "`baseline_feature`) and 0.50 for random ranking.", model=_model_name(model.best_name_),
          auc=f"{best['cv_auc']:.2f}", folds=model.n_splits, low=f"{best['ci_low']:.2f}",
          high=f"{best['ci_high']:.2f}", base=f"{base['cv_auc']:.2f}",
          feature=_feature(model.baseline_feature)),
        t("Paired over the same folds, it gains **{gain}** AUC over the baseline (95% CI {low} to "
          "{high}{verdict}).", gain=f"{best['auc_gain']:+.2f}", low=f"{best['gain_ci_low']:+.2f}",
          high=f"{best['gain_ci_high']:+.2f}", verdict=verdict),
        t("Inputs: {numeric} numeric and {categorical} categorical features.",
          numeric=len(model.numeric_), categorical=len(model.categorical_))]
    if model.n_fit_ < n_customers:
        parts.append(t("Trained and cross-validated on a random sample of {n_fit} of the {n} "
                       "customers (seed {seed}; parameter `max_model_customers`), which is ample "
                       "for these few features; the watchlist scores every active customer.",
                       n_fit=f"{model.n_fit_:,}", n=f"{n_customers:,}", seed=model.random_state))
    return sentences(*parts)


def calibration_text(model, cal: pd.DataFrame) -> str:
    """Calibration error of the best model and how its probabilities can be read."""
    best = model.summary_.loc[model.best_name_]
    return sentences(
        t("Calibration of the {model} model: expected calibration error **{ece} percentage "
          "points** (customer-weighted mean gap between predicted and observed churn over risk "
          "deciles), largest decile gap {gap} points.", model=_model_name(model.best_name_),
          ece=f"{100 * best['ece']:.1f}", gap=f"{100 * best['max_calibration_gap']:.1f}"),
        calibration_sentence(cal, ece=best["ece"]))


def gains_text(model, gains: pd.DataFrame) -> str:
    """Share of churners reached by contacting the riskiest 10% and 30% (:meth:`gains`)."""
    best = model.summary_.loc[model.best_name_]
    return t("Contacting the riskiest 10% of customers reaches **{top10}** of the churners (lift "
             "{lift}×); the riskiest 30% reach {top30}.", top10=f"{best['top_decile_capture']:.0%}",
             lift=f"{best['top_decile_lift']:.1f}", top30=f"{gains.loc[2, 'cum_capture']:.0%}")


def signals_unavailable_text(check: SignalCheck) -> str:
    """"Not available for this dataset: …, because …" for the signals that cannot be computed."""
    missing = check.missing
    if missing.empty:
        return ""
    if check.validation is None:
        return ""
    parts = [t("{signal} (it needs the {table} table)", signal=label(_words(s)), table=label(tb))
             for s, tb in missing.items()]
    if len(parts) > 1:
        return t("Not available for this dataset: the signals {signals} and {last}, because this "
                 "dataset does not have those tables.", signals=join(parts[:-1]), last=parts[-1])
    return t("Not available for this dataset: the signal {signal}, because this dataset does not "
             "have that table.", signal=parts[0])


def signals_text(check: SignalCheck) -> str:
    """The strongest signal with its churn rates, and the weak ones (empty when none computed)."""
    top = check.strongest()
    if top is None:
        return ""
    v, weak = check.validated, check.weak()
    return sentences(
        t("The strongest single signal is **{signal}**: customers with it churned at {fired} vs "
          "{not_fired} for comparable customers without it (×{lift}); it fired for {share} of the "
          "customers it could fire for.", signal=label(_words(top)),
          fired=f"{v.loc[top, 'churn_rate_fired']:.1%}",
          not_fired=f"{v.loc[top, 'churn_rate_not_fired']:.1%}", lift=f"{v.loc[top, 'lift']:.1f}",
          share=f"{v.loc[top, 'share_fired']:.1%}"),
        (t("Weak signals here (lift below {threshold}): {signals}.", threshold=WEAK_SIGNAL_LIFT,
           signals=join(label(_words(w)) for w in weak)) if weak else ""),
        _("Signals explain *why* a customer is flagged; the model combines them with everything "
          "else to rank."))


def watchlist_text(summary: dict, *, risk: pd.Series, features: pd.DataFrame, churned: pd.Series,
                   design: str, horizon_days: int, path) -> str:
    """Size, value and risk-weighted value of the watchlist, its risks against the observed churn, its
    signals and the most common action.

    ``summary`` is :func:`segments.watchlist_summary`; ``risk`` and ``features`` are today's
    scores and features (:func:`segments.score_customers`); ``churned`` the training label.
    """
    dom = {k: v for k, v in summary["dominant_signal_counts"].items() if k != "none"}
    actions = summary["action_counts"]
    top_action = max(actions, key=actions.get)
    prospective = design == "prospective"
    if prospective:
        values = {"observed": f"{churned.mean():.1%}", "days": horizon_days}
        if risk_consistent(risk.mean(), churned.mean()):
            compare = t(", against {observed} churn observed in the {days} days after the training "
                        "cutoff — within 3 points, consistent", **values)
        else:
            compare = t(", against {observed} churn observed in the {days} days after the training "
                        "cutoff — a gap of more than 3 points: the base at the scoring date "
                        "differs from the one at the training cutoff, so read the risks as a "
                        "ranking more than as probabilities", **values)
    else:
        compare = _("; one snapshot, so there is no later period to compare with")
    loss = (_("risk-weighted annual value (risk × value), the score the watchlist ranks by")
            if prospective else
            _("risk-weighted annual value (risk × value), the score the watchlist ranks by (a "
              "descriptive score from one snapshot, not a forecast of revenue lost)"))
    numbers = {"size": summary["size"], "active": f"{int(features['active'].sum()):,}",
               "value": money(summary["annual_value"]),
               "share": f"{summary['share_of_active_value']:.1%}", "loss": loss,
               "at_risk": money(summary["value_at_risk"]),
               "mean": f"{summary['mean_risk']:.1%}", "all": f"{risk.mean():.1%}",
               "compare": compare}
    parts = [t("The watchlist holds **{size}** of {active} active customers with **{value}** of "
               "annual revenue ({share} of the active base's); {loss}: **{at_risk}**.", **numbers),
             (t("Mean predicted risk {mean} (all active customers: {all}{compare}).", **numbers)
              if prospective else
              t("Mean score {mean} (all active customers: {all}{compare}).", **numbers))]
    if summary["mean_risk"] < risk.mean():  # review s5 (cdnow): reads oddly unless explained
        parts.append(_("The watchlist's mean risk is below the base's because it ranks by risk × "
                       "value: valuable customers with a moderate risk come before low-value "
                       "customers with a high one."))
    no_signals = not dom and summary["with_any_signal"] == 0
    if not (no_signals and not prospective):
        with_signal = f"{summary['with_any_signal']:,}"
        if dom:
            dominant = [t("{signal} ({n})", signal=label(_words(k)), n=v) for k, v in dom.items()]
            parts.append(t("{n} have at least one warning signal; the dominant ones are "
                           "{signals}.", n=with_signal, signals=join(dominant)))
        else:
            parts.append(t("{n} have at least one warning signal.", n=with_signal))
    parts.append(t("Most common action: *{action}* ({n}).", action=_(top_action),
                   n=actions[top_action]))
    parts.append(t("Written to `{file}` next to the key figures.", file=Path(path).name))
    parts.append(_("The risk × value score only ranks the watchlist. 60_retention weighs each "
                   "active customer's residual value by their churn score and says whether that "
                   "total is an expected loss; 50_clv gives the value expected to be lost to churn "
                   "within its horizon."))
    return sentences(*parts)


def key_figures_text(flat: Mapping[str, Any], output_json) -> str:
    """How many key figures were written, and where."""
    return t("{n} key figures written to `{file}`.", n=len(flat), file=Path(output_json).name)


def calibration_sentence(cal: pd.DataFrame, *, ece: float,
                         tolerance: float = CALIBRATION_TOLERANCE) -> str:
    """What the calibration table means for reading the risks, in one sentence.

    ``cal`` is :func:`churn_research.segments.calibration_table` (decile 1 = highest risk). Within ``tolerance`` on
    average and in every decile: read as probabilities. Within on average only: name the decile
    with the largest gap and, when it is the riskiest one (where a watchlist comes from), whether
    its risks are over- or understated. Otherwise: recalibrate.
    """
    if ece > tolerance:
        return _("The probabilities should be recalibrated before being read literally.")
    worst = cal.loc[cal["gap"].abs().idxmax()]
    if abs(worst["gap"]) <= tolerance:
        return _("The probabilities can be read as churn probabilities in every risk decile.")
    values = {"decile": int(worst["decile"]), "deciles": len(cal),
              "predicted": f"{worst['predicted']:.0%}", "observed": f"{worst['observed']:.0%}"}
    if int(worst["decile"]) != 1:
        return t("On average the probabilities can be read as churn probabilities, but in risk "
                 "decile {decile} of {deciles} (1 = highest risk) the model predicts {predicted} "
                 "against {observed} observed.", **values)
    if worst["predicted"] > worst["observed"]:
        return t("On average the probabilities can be read as churn probabilities, but in risk "
                 "decile {decile} of {deciles} (1 = highest risk) the model predicts {predicted} "
                 "against {observed} observed — the riskiest customers, from whom the watchlist "
                 "is drawn, so its risks and risk-weighted values are likely overstated.", **values)
    return t("On average the probabilities can be read as churn probabilities, but in risk "
             "decile {decile} of {deciles} (1 = highest risk) the model predicts {predicted} "
             "against {observed} observed — the riskiest customers, from whom the watchlist "
             "is drawn, so its risks and risk-weighted values are likely understated.", **values)


def tier_check_sentence(tiers: pd.DataFrame) -> str:
    """A caveat when the rule-based "at risk" tier does not churn more than another active tier.

    ``tiers`` is :func:`churn_research.segments.tier_summary` with a ``churn_rate`` column; empty string otherwise.
    """
    if "churn_rate" not in tiers or "at risk" not in tiers.index:
        return ""
    ar = tiers.loc["at risk"]
    if not ar["customers"] or pd.isna(ar["churn_rate"]):
        return ""
    others = tiers.drop(index=["at risk", "lost"], errors="ignore")
    others = others[(others["customers"] > 0) & others["churn_rate"].notna()]
    if others.empty or ar["churn_rate"] > others["churn_rate"].max():
        return ""
    top = others["churn_rate"].idxmax()
    return gap() + t(
        "On these data the at-risk rule does not single out the riskiest customers: its tier "
        "churns {rate}, the {tier} tier {tier_rate}; for targeting, use the risk model's ranking "
        "below rather than the tier.", rate=f"{ar['churn_rate']:.0%}", tier=label(top),
        tier_rate=f"{others.loc[top, 'churn_rate']:.0%}")


# Tables as displayed: words for column names, rates in %, no empty rows, no row numbers
# ---------------------------------------------------------------------------------------------
def _column_words() -> dict[str, str]:
    """Column names a reader meets in the tables of 40_segments, in the report's language."""
    return {
        "recency_days": _("days since last purchase"), "r_score": _("R score"),
        "f_score": _("F score"), "m_score": _("M score"), "rfm_code": _("RFM code"),
        "churn_rate": _("churn rate"), "churn_ci_low": _("churn 95% CI low"),
        "churn_ci_high": _("churn 95% CI high"), "revenue_share": _("share of revenue"),
        "mean_value": _("mean value"), "value_share": _("share of value"),
        "cv_auc": _("cross-validated AUC"), "ci_low": _("95% CI low"), "ci_high": _("95% CI high"),
        "fold_sd": _("SD over folds"), "oof_auc": _("out-of-fold AUC"),
        "ece": _("calibration error (ECE)"), "max_calibration_gap": _("largest decile gap"),
        "brier": _("Brier score"), "top_decile_capture": _("churners in riskiest 10%"),
        "top_decile_lift": _("lift of riskiest 10%"), "auc_gain": _("AUC gain over baseline"),
        "gain_ci_low": _("gain 95% CI low"), "gain_ci_high": _("gain 95% CI high"),
        "cum_share": _("cumulative share of customers"),
        "cum_capture": _("cumulative share of churners"),
        "share_fired": _("share fired (of eligible)"), "churn_rate_fired": _("churn rate, fired"),
        "churn_rate_not_fired": _("churn rate, not fired"),
        "expected_loss": _("risk-weighted value (risk × value)"), "high_value": _("high value"),
        "n_signals": _("signals fired"), "dominant_signal": _("dominant signal"),
        "likely_reason": _("likely reason"), "tenure_days": _("tenure (days)"),
        "freq_trend": _("purchase trend"), "complaints_365": _("complaints (last 365 days)"),
        "csat_mean": _("mean CSAT"), "activity_ratio": _("recent activity ratio"),
        "customer_id": _("customer id"),
        # the other columns read as their names (in English); in words here for other languages
        "customers": _("customers"), "share": _("share"), "churned": _p("segments", "churned"),
        "revenue": _("revenue"), "frequency": _("frequency"), "monetary": _("monetary"),
        "mean": _("mean"), "25%": _("25%"), "50%": _("50%"), "75%": _("75%"), "max": _("max"),
        "tier": _("tier"), "rule": _("rule"), "parameters": _("parameters"),
        "cluster": _("cluster"), "distinguishing": _("distinguishing"), "decile": _("decile"),
        "churners": _("churners"), "lift": _("lift"), "signal": _("signal"), "needs": _("needs"),
        "definition": _("definition"), "eligible": _("eligible"), "fired": _("fired"),
        "recall": _("recall"), "rank": _("rank"), "risk": _("risk"), "value": _p("segments", "value"),
        "priority": _("priority"), "signals": _("signals"), "action": _("action"),
        "likely reason": _("likely reason"), "trigger": _("trigger"),
        "action (high value)": _("action (high value)"),
    }


def _name(name) -> str:
    """A column name in words, in the report's language (``tenure_days`` -> ``tenure (days)``);
    a column this stage does not know reads as its data label."""
    words = _column_words()
    return words[name] if name in words else label(_words(name))


#: Columns shown as percentages.
_PERCENT = {"share", "churn_rate", "churn_ci_low", "churn_ci_high", "revenue_share", "value_share",
            "top_decile_capture", "cum_share", "cum_capture", "share_fired", "churn_rate_fired",
            "churn_rate_not_fired", "recall", "risk"}
#: Columns shown as money (separators, 0 or 2 decimals).
_MONEY = {"revenue", "mean_value", "value", "expected_loss", "priority", "monetary",
          "monthly_charges"}
#: Columns whose cells are data labels (tiers, signals, reasons, tables) and messages (playbook
#: text), translated when shown.
_LABEL_CELLS = {"tier", "likely_reason", "likely reason", "needs"}
_MESSAGE_CELLS = {"trigger", "action", "action (high value)"}
#: Signal names and the kinds of data as data labels (their Chinese is in the catalog).
_LABEL_WORDS = (label_msg("recent complaint"), label_msg("low satisfaction"),
                label_msg("activity drop"), label_msg("falling frequency"), label_msg("none"),
                label_msg("contractual"), label_msg("non-contractual"),
                # a snapshot's own numeric attributes clustered on (telco)
                label_msg("monthly charges"), label_msg("total charges"))


def _words(name) -> str:
    return str(name).replace("_", " ")


def _signal_cell(value) -> str:
    """A cell of signal names (``"low_satisfaction, activity_drop"``) in words, or a dash."""
    if not isinstance(value, str) or not value:
        return "–"
    return join(label(_words(v)) for v in value.split(", "))


def shown(df: pd.DataFrame, *, index: bool = True, drop_empty: str | None = None) -> Styler:
    """``df`` as a reader sees it: rates in %, missing as a dash, counts as integers, words for
    the column names (and the index name); without the row numbers when ``index`` is False;
    without the rows where ``drop_empty`` is 0 or missing (e.g. empty tiers). Tiers, signals,
    reasons and playbook text read in the report's language."""
    if drop_empty is not None and drop_empty in df:
        df = df[df[drop_empty].fillna(0) != 0]
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            try:
                out[c] = pd.to_numeric(out[c])
            except (TypeError, ValueError):
                pass
        if c in _PERCENT and pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].map(lambda v: pct(v))
        elif c in _MONEY and pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].map(lambda v: money(v))
    if "customer_id" in out:  # an identifier, not a number: no thousands separator
        out["customer_id"] = out["customer_id"].astype(str)
    for c in ("dominant_signal", "signal", "signals"):
        if c in out and out[c].dtype == object:
            out[c] = out[c].map(_signal_cell)
    if is_chinese():
        for c in out.columns:
            if out[c].dtype == bool:
                out[c] = out[c].map(lambda v: label("yes" if v else "no"))
            elif c in _LABEL_CELLS and out[c].dtype != bool:
                out[c] = out[c].map(lambda v: label(v) if isinstance(v, str) else v)
            elif c in _MESSAGE_CELLS:
                out[c] = out[c].map(lambda v: _(v) if isinstance(v, str) and v else v)
    if out.index.dtype == object:
        words = _name if is_chinese() else _words
        out.index = out.index.map(lambda v: words(v) if isinstance(v, str) else v)
    elif is_chinese() and isinstance(out.index.dtype, pd.CategoricalDtype):   # tiers
        out.index = pd.Index([_name(v) if isinstance(v, str) else v for v in out.index],
                             name=out.index.name)
    table = readable(out).rename(columns=_name)
    table.index.name = out.index.name and _name(out.index.name)
    styler = table.style
    return styler if index else styler.hide(axis="index")


def rfm_overview_table(overview: pd.DataFrame) -> Styler:
    """The RFM distribution without the rows the data cannot fill (no recency in a snapshot)."""
    return shown(overview, drop_empty="customers")


def tier_table(tiers: pd.DataFrame) -> Styler:
    """The tier summary without empty tiers (:func:`tier_churn_text` names them)."""
    return shown(tiers, drop_empty="customers")


def signals_heading(check: SignalCheck) -> str:
    """The heading and method of the early-warning section, or one line when no signal can be
    computed (a snapshot of attributes)."""
    if check.validation is None:
        return not_available(_("early-warning signals"),
                             _("the data have no transactions, tickets or surveys to compute "
                               "them from (one snapshot of attributes)"))
    return _("## Early-warning signals\n\n"
             "*Which observable warning signs precede churn?* Each signal is a simple, "
             "explainable rule on the customer's own history (thresholds: `signal_thresholds`; "
             "windows: `windows`). They are evaluated at the cutoff and checked against who "
             "actually churned in the following horizon.")


def signal_definitions(check: SignalCheck) -> Styler | None:
    """The definitions of the signals this dataset can compute (None when none)."""
    if check.validation is None:
        return None
    d = check.definitions[check.definitions["available"]].drop(columns="available")
    return shown(d, index=False)


def signal_table(check: SignalCheck) -> Styler | None:
    """The validation of the signals this dataset can compute (None when none)."""
    v = check.validated
    return None if v.empty else shown(v.drop(columns="available"))


def action_rules_table(rules: pd.DataFrame) -> pd.DataFrame:
    """The one playbook's action rules (:data:`churn_research.playbook.ACTION_RULES`), shown as
    60_retention shows them: the watchlist's actions come from these rules."""
    return rules_table(rules)


def watchlist_table(watchlist: pd.DataFrame, *, rows: int = 15) -> Styler:
    """The top of the watchlist; without the signal columns when no signal can be computed."""
    w = watchlist.head(rows)
    if (watchlist["n_signals"] == 0).all():
        w = w.drop(columns=["signals", "n_signals", "dominant_signal"], errors="ignore")
    return shown(w, index=False)


# Sensitivity to the churn definition (non-contractual data)
# ---------------------------------------------------------------------------------------------
def _driver_cell(drivers) -> str:
    """``[("frequency", -0.8), ...]`` -> ``frequency (−), ...``: the sign is the direction of
    the effect on the odds of churn."""
    if not drivers:
        return MISSING
    cell = "{}（{}）" if is_chinese() else "{} ({})"
    return join(cell.format(_driver_name(name), "+" if c > 0 else "−") for name, c in drivers)


def _driver_name(name: str) -> str:
    words = {"tx_recent": _("purchases in the recent window"),
             "tx_baseline": _("purchases in the baseline window")}
    return words.get(name) or _feature(name)


def _months_span(row) -> str:
    if not row["months"]:
        return _("no month fits before this window's end")
    span = t("{start} to {end}", start=pd.Timestamp(row["window_start"]).date().isoformat(),
             end=pd.Timestamp(row["window_end"]).date().isoformat())
    if int(row["months"]) == 12:
        return span
    return t("{span} ({months} months, annualised)", span=span, months=int(row["months"]))


def _median_cell(row) -> str:
    """The median lifetime, said for what it is when it is 0 (over half lost at the start)."""
    median = row["median_lifetime"]
    if median == float("inf"):
        return _("not reached")
    if median == 0:
        return t("0 ({share} never bought again)", share=pct(row["lost_at_start"]))
    return f"{median:.1f}"


def sensitivity_caption(result) -> str:
    """The table's caption: the one period over which every window's annual churn is measured."""
    first = result.table.iloc[0]
    return t("Every row's annual churn is measured over the same period, {span}: the latest one "
             "in which a lapse under the longest window ({days} days) is visible for every "
             "customer, so the rows differ by the definition only.", span=_months_span(first),
             days=count(result.extra.get("longest", result.table["inactivity_days"].max())))


def sensitivity_table(result) -> Styler | None:
    """One row per inactivity window: annual churn with its interval (over the common period,
    named in the caption), median lifetime, customers at risk now and the strongest drivers, as
    display-ready text (None without a table)."""
    if not result.available or result.table.empty:
        return None
    rows = []
    for _i, r in result.table.iterrows():
        days = count(r["inactivity_days"])
        rows.append({
            _("inactivity window (days)"): (t("{days} (this dataset's)", days=days) if r["own"]
                                            else days),
            _("annual churn (95% CI)"): pct_ci(r["annual_churn"], r["ci_low"], r["ci_high"]),
            t("median lifetime ({unit})", unit=label(result.unit)): _median_cell(r),
            _("customers at risk now"): count(r["at_risk_now"]),
            _("active customers now"): count(r["active_now"]),
            _("strongest drivers (direction of churn odds)"): _driver_cell(r["drivers"]),
        })
    return pd.DataFrame(rows).style.hide(axis="index").set_caption(sensitivity_caption(result))


def sensitivity_text(result) -> str:
    """What depends on the choice of the inactivity window, in one sentence, and how each
    figure was measured; one line for contractual data."""
    if not result.available:
        return _("The churn date is recorded in these data (contractual), so the definition of "
                 "churn has no inactivity window to vary: none of the figures depends on such a "
                 "choice.")
    tab = result.table
    first, last = tab.iloc[0], tab.iloc[-1]
    days = {"short": count(first["inactivity_days"]), "long": count(last["inactivity_days"])}
    medians = tab["median_lifetime"]
    unit = label(result.unit)
    if medians.nunique() == 1:
        fixed = t("the median lifetime ({m} {unit}) does not depend on it",
                  m=f"{medians.iloc[0]:.1f}" if medians.iloc[0] else "0", unit=unit)
    else:
        def life(m: float) -> str:
            return _("not reached") if m == float("inf") else f"{m:.1f} {unit}"

        fixed = t("the median lifetime goes from {a} ({short} days) to {b} ({long} days)",
                  a=life(first["median_lifetime"]), b=life(last["median_lifetime"]), **days)
    tops = [r["drivers"][0][0] for _i, r in tab.iterrows() if r["drivers"]]
    if tops and len(set(tops)) == 1 and len(tops) == len(tab):
        fixed += t("; the strongest driver ({feature}) is the same under every window",
                   feature=_driver_name(tops[0]))
    elif tops:
        fixed += _("; the strongest driver changes with the window")
    risk = {"r1": count(first["at_risk_now"]), "r2": count(last["at_risk_now"])}
    churn = tab["annual_churn"].dropna()
    if len(churn) >= 2 and churn.round(6).nunique() == 1:
        lead = t("**What depends on the choice:** the customers at risk now run from {r1} "
                 "({short} days) to {r2} ({long} days); {fixed}. The annual churn does not: over "
                 "the same period it is {a} under every window, because the rule dates a loss to "
                 "the last purchase, and a customer whose last purchase falls in a period every "
                 "window can see has lapsed under all of them; a window changes how recent a "
                 "period can be measured, not the churn of that period.",
                 a=pct(churn.iloc[0]), fixed=fixed, **days, **risk)
    elif len(churn) >= 2:
        lead = t("**What depends on the choice:** the annual churn runs from {a} ({short} days) "
                 "to {b} ({long} days) and the customers at risk now from {r1} to {r2}; {fixed}.",
                 a=pct(first["annual_churn"]), b=pct(last["annual_churn"]), fixed=fixed,
                 **days, **risk)
    else:
        lead = t("**What depends on the choice:** the customers at risk now run from {r1} "
                 "({short} days) to {r2} ({long} days); {fixed}.", fixed=fixed, **days, **risk)
    notes = [lead]
    if medians.min() == 0:
        zero = tab[tab["median_lifetime"] == 0].iloc[0]
        notes.append(t("A median lifetime of 0 is what the rule gives here, not a gap in the data: "
                       "{share} of the customers never bought again after their first purchase, "
                       "and the rule dates their loss to that purchase, so more than half are lost "
                       "at month 0 under every window.", share=pct(zero["lost_at_start"])))
    own = result.extra.get("dataset")
    if own is not None and np.isfinite(own.rate):
        notes.append(t("The dataset's own annual churn in 00_data and 10_indicators, {rate}, is "
                       "measured over its latest window, {span}, and so differs from the common "
                       "period's.", rate=pct_ci(own.rate, own.ci_low, own.ci_high),
                       span=_months_span({"months": own.months, "window_start": own.window_start,
                                          "window_end": own.window_end})))
    notes.append(t(
        "A shorter window calls customers lost sooner: fewer customers remain active to be "
        "flagged at risk. Each row re-derives churn from the same purchase log (no purchase for "
        "that many days); the row of the dataset's own window ({own} days) repeats the median "
        "lifetime of 30_survival and the at-risk tier of the customers scored for the watchlist "
        "above. Drivers: the largest standardised coefficients of the risk model's logistic "
        "regression, with the features on the common period's last day and the label \"no "
        "purchase in the following window\".", own=count(result.own_days)))
    return sentences(*notes)
