"""Findings of 40_segments: who is at risk now, how well that can be told, and what to do.

:func:`findings` builds the Findings box from the key figures; the ``*_text`` functions build
the sentences of each report section from the stage's result objects (markdown).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from churn_research.model import ChurnData
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import MISSING, count, get, money, not_available, pct, text
from churn_research.narrate.tables import readable
from churn_research.segments.report import (
    CALIBRATION_TOLERANCE,
    WEAK_SIGNAL_LIFT,
    SignalCheck,
    cluster_separation,
    cluster_silhouette,
    risk_consistent,
)


def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: how well the risk model ranks customers, against the naive baseline."""
    auc, lo, hi = (get(figures, k) for k in ("cv_auc", "cv_auc_ci_low", "cv_auc_ci_high"))
    base = get(figures, "baseline_cv_auc")
    prospective = get(figures, "design") == "prospective"
    keys = []
    if auc is not None:
        what = ("ranks who will churn in the next "
                f"{text(get(figures, 'horizon_days'))} days" if prospective else
                "describes who has churned (one snapshot: not a forecast)")
        headline = (f"The churn-risk model {what} with cross-validated AUC {auc:.2f} (95% CI "
                    f"{lo:.2f}–{hi:.2f}), against {base:.2f} for the naive one-feature baseline "
                    "and 0.50 for chance.")
    else:
        headline = "No churn-risk model could be fitted to these data."
    size = get(figures, "watchlist.size")
    cur = context.get("currency", "")
    if size and prospective:
        keys.append(Finding(
            f"The watchlist names the {count(size)} active customers with the highest risk × value "
            f"(mean predicted risk {pct(get(figures, 'watchlist.mean_risk'))}), each with the "
            "signals that put them there and a suggested action: start retention calls there.",
            "The watchlist"))
    elif size:
        keys.append(Finding(
            f"The watchlist names the {count(size)} current customers who most resemble those who "
            "left, weighted by value (a descriptive score from one snapshot, not a forecast).",
            "The watchlist"))
    lift = get(figures, "top_decile_lift")
    if lift is not None:
        keys.append(Finding(f"The riskiest tenth of customers churns {lift:.1f} times as often as "
                            "the average customer.", "The churn-risk model"))
    ece = get(figures, "ece")
    if ece is not None and prospective:
        keys.append(Finding(
            f"Predicted risks differ from the observed churn by {100 * ece:.1f} percentage points on "
            "average across risk deciles (expected calibration error).", "The churn-risk model"))
    at_risk = get(figures, "tiers.at risk.churn_rate")
    overall = get(figures, "churn_rate_in_horizon")
    if at_risk is not None and overall is not None:
        days = text(get(figures, "horizon_days"))
        separates = at_risk > 1.2 * overall
        keys.append(Finding(
            f"The rule-based 'at risk' value tier ({count(get(figures, 'tiers.at risk.customers'))} "
            f"customers) churned {pct(at_risk)} in the {days} days after the cutoff, against "
            f"{pct(overall)} overall" + ("." if separates else
                                        ": the rule does not separate churners; use the model's ranking."),
            "Value tiers"))
    k = get(figures, "clusters.k")
    if k is not None:
        keys.append(Finding(
            f"{k} behavioural clusters (silhouette {get(figures, 'clusters.silhouette'):.2f}); their "
            f"churn rates range from {pct(get(figures, 'clusters.churn_rate_min'))} to "
            f"{pct(get(figures, 'clusters.churn_rate_max'))}.", "Behavioural clusters"))
    value = get(figures, "watchlist.value_at_risk")
    if value is not None and size and prospective:
        keys.append(Finding(
            f"Expected revenue lost if nothing is done: {money(value, cur)} a year (predicted risk × "
            f"value), of the {money(get(figures, 'watchlist.annual_value'), cur)} a year these "
            f"{count(size)} customers bring.", "The watchlist"))
    unavailable = []
    if not prospective:
        unavailable.append(not_available("early-warning signals and a forward-looking risk model",
                                         "the data are one snapshot without an activity history"))
    return StageFindings("40_segments", dataset, headline, keys[:6], unavailable)


# Section sentences (markdown), from the stage's result objects
# ---------------------------------------------------------------------------------------------
#: How the risk models read.
MODEL_NAMES = {"logistic": "logistic regression", "gradient_boosting": "gradient boosting",
               "baseline": "naive baseline"}


def _model_name(name: str) -> str:
    return MODEL_NAMES.get(str(name), str(name).replace("_", " "))


def _feature(name) -> str:
    """A feature or column name in words (``tenure_days`` -> ``tenure (days)``)."""
    return COLUMN_WORDS.get(str(name), _words(name))


def methods_text(design: str) -> str:
    """The method of the stage, for a prospective design (features at a cutoff, churn in the
    horizon after it) or a snapshot (one date, the dataset's own churn flag)."""
    models = ("Logistic regression and gradient boosting are compared with stratified 5-fold "
              "cross-validation against a naive one-feature rule; the AUC interval is a "
              "t-interval over the fold AUCs. ")
    rules = ("Rules and thresholds are parameters (shown with each table) and documented in "
             "`churn_research.segments`.")
    if design == "prospective":
        return ("**Methods.** Every feature is computed from the data *as known at a cutoff "
                "date*: the data is truncated first (rows after the cutoff dropped, later "
                "cancellations masked), so nothing from the future can leak into a feature; a "
                "unit test perturbs every post-cutoff row and checks that the features do not "
                "move. The label is *churned within the horizon after the cutoff*, among "
                "customers active at the cutoff. " + models + "The watchlist scores today's "
                "customers with the best model and ranks them by risk × trailing 12-month "
                "revenue. " + rules)
    return ("**Methods.** The data are one snapshot, so there is no cutoff and no later period: "
            "the features are the customers' attributes on the snapshot date (tenure, charges, "
            "contract, services) and the label is the dataset's own churn flag. Where the "
            "sections below speak of \"the cutoff\", read the snapshot date. " + models
            + "The model therefore describes who *has* churned, not who *will*. The watchlist "
            "ranks current customers by their out-of-fold score × 12 months' charges. " + rules)


def model_table(model) -> Styler:
    """The risk models side by side: AUC with its interval (2 decimals), the gain over the
    baseline with its interval, calibration (in percentage points), Brier score and the top
    decile; models in words."""
    rows = []
    for name, r in model.summary_.iterrows():
        gain = (MISSING if name == "baseline" else
                f"{r['auc_gain']:+.2f} ({r['gain_ci_low']:+.2f} to {r['gain_ci_high']:+.2f})")
        rows.append({
            "model": _model_name(name),
            "cross-validated AUC (95% CI)": f"{r['cv_auc']:.2f} ({r['ci_low']:.2f}–{r['ci_high']:.2f})",
            "AUC gain over baseline (95% CI)": gain,
            "calibration error (points)": f"{100 * r['ece']:.1f}",
            "largest decile gap (points)": f"{100 * r['max_calibration_gap']:.1f}",
            "Brier score": f"{r['brier']:.3f}",
            "churners in riskiest 10%": pct(r["top_decile_capture"]),
            "lift of riskiest 10%": f"{r['top_decile_lift']:.2f}×"})
    return pd.DataFrame(rows).style.hide(axis="index")


def score_label(column: str) -> str:
    """``"r_score"`` -> ``"R score"`` (axis and sentence label of an RFM score)."""
    return f"{column[0].upper()} score"


def label_text(design: str, horizon_days: int) -> str:
    """What the churn rate of a table is: churn in the horizon, or the dataset's flag."""
    if design == "prospective":
        return f"churn rate in the {horizon_days} days after the cutoff"
    return "churn rate (the dataset's churn flag)"


def data_text(data: ChurnData, *, dataset: str, design: str, cutoff, horizon_days: int,
              churned: pd.Series) -> str:
    """The data, the design, the cutoff and the label, with the churn rate it gives."""
    if design == "prospective":
        label = ("(no purchase in that window: churn is not observed in a purchase log) "
                 if data.kind == "non-contractual" else "(a cancellation in that window) ")
        what = (f"Features are computed at the cutoff **{cutoff.date()}** from data dated on or "
                f"before it; the label is *churned within {horizon_days} days after it* {label}"
                f"among the **{len(churned):,}** customers active at the cutoff, of whom "
                f"**{churned.mean():.1%}** churned.")
    else:
        what = (f"**Cross-sectional design.** This dataset is one snapshot ({cutoff.date()}) "
                "without an activity history, so the features are the customers' attributes at "
                "the snapshot and the label is the dataset's own churn flag "
                f"({churned.mean():.1%} of {len(churned):,} customers). The model describes who "
                "*has* churned, not who *will*: its accuracy is not a forecast accuracy.")
    return (f"**Data:** `{dataset}` ({data.kind}), observation end {data.observation_end.date()}. "
            + what)


def rfm_codes_text(data: ChurnData, *, design: str, horizon_days: int) -> str:
    """What the RFM-code table shows and what recency means for this kind of data."""
    if not data.has("transactions"):
        note = ("Without transactions recency is unknown (R = 'x'); F is the number of months as "
                "a customer and M the monthly revenue times the months billed in the window.")
    elif data.kind == "contractual":
        note = ("Recency carries little information in a subscription business (every active "
                "subscriber is invoiced monthly), so the R score mostly separates recently lost "
                "customers from current ones.")
    else:
        note = "In a purchase log recency is the strongest single sign of lapsing."
    return (f"The ten most common RFM codes among the customers with a label, with their "
            f"{label_text(design, horizon_days)}. {note}")


def rfm_grid_text(grid: pd.DataFrame) -> str:
    """Where churn is highest and lowest in the RFM grid (:func:`segments.rfm_grid`)."""
    cells = grid.stack()
    row = grid.index.name[0].upper()
    hot, cold = cells.idxmax(), cells.idxmin()
    return (f"Churn rate by {row} score and F score: the highest churn ({cells.max():.0%}) is at "
            f"{row} = {hot[0]}, F = {hot[1]}; the lowest ({cells.min():.0%}) at {row} = {cold[0]}, "
            f"F = {cold[1]}.")


def tier_churn_text(tiers: pd.DataFrame, *, has_transactions: bool) -> str:
    """The tiers that churn most and least (:func:`segments.tier_summary`), and the empty ones."""
    rated = tiers.dropna(subset=["churn_rate"])
    rated = rated.loc[rated["customers"] > 0]
    worst, best = rated["churn_rate"].idxmax(), rated["churn_rate"].idxmin()
    out = (f"Churn is highest in the **{worst}** tier ({rated.loc[worst, 'churn_rate']:.1%}, 95% "
           f"CI {rated.loc[worst, 'churn_ci_low']:.1%}–{rated.loc[worst, 'churn_ci_high']:.1%}) "
           f"and lowest in the **{best}** tier ({rated.loc[best, 'churn_rate']:.1%}).")
    empty = [str(t) for t in tiers.index[tiers["customers"] == 0]]
    if empty:
        out += f" Empty tiers: {', '.join(empty)}" + (
            "." if has_transactions else
            " — a snapshot has no purchase history to show who is slipping or already gone.")
    return out


def tier_revenue_text(tiers: pd.DataFrame) -> str:
    """How much of the revenue the high-value and at-risk tiers hold, and the at-risk check."""
    hv, ar = tiers.loc["high value"], tiers.loc["at risk"]
    return (f"The high-value tier is {hv['share']:.0%} of customers but holds "
            f"**{hv['revenue_share']:.0%}** of the trailing revenue"
            + (f"; the at-risk tier holds {ar['revenue_share']:.0%} of it." if ar["customers"]
               else ".")
            + tier_check_sentence(tiers))


def clusters_text(clusters, *, n_customers: int) -> str:
    """The chosen number of clusters, how separated they are, and the sample they were fitted on.

    ``clusters`` is a fitted :class:`segments.CustomerClusters`; ``n_customers`` the customers
    clustered.
    """
    sil = cluster_silhouette(clusters)
    out = (f"Chosen: **k = {clusters.k_}** on {', '.join(map(_feature, clusters.columns_))}. "
           "Mean silhouette "
           f"{sil:.2f}: " + {
               "clear": "clearly separated groups.",
               "moderate": "moderately separated groups.",
               "weak": "weak structure — the customer base is more a continuum than distinct "
                       "groups, so read the clusters as a convenient partition."}[
               cluster_separation(sil)])
    if clusters.k_ == max(clusters.k_range) and cluster_separation(sil) == "weak":
        out += (" The silhouette is still rising at the largest k tried; with so little "
                "structure, more clusters would only cut the continuum finer.")
    if clusters.n_fit_ < n_customers:
        out += (f" The clusters were fitted on a random sample of {clusters.n_fit_:,} of the "
                f"{n_customers:,} customers (seed {clusters.random_state}) and every customer "
                "assigned to the nearest centre.")
    return out


def cluster_profiles_text(profiles: pd.DataFrame) -> str:
    """The clusters that churn most and least (:meth:`CustomerClusters.profiles`)."""
    hi, lo = profiles["churn_rate"].idxmax(), profiles["churn_rate"].idxmin()
    return (f"Cluster {hi} churns most ({profiles.loc[hi, 'churn_rate']:.1%}; "
            f"{profiles.loc[hi, 'distinguishing']}); cluster {lo} least "
            f"({profiles.loc[lo, 'churn_rate']:.1%}; {profiles.loc[lo, 'distinguishing']}).")


def model_text(model, *, n_customers: int) -> str:
    """The best model's cross-validated AUC against the baseline, with the paired gain.

    ``model`` is a fitted :class:`segments.ChurnRiskModel`; ``n_customers`` the labelled customers.
    """
    best = model.summary_.loc[model.best_name_]
    base = model.summary_.loc["baseline"]
    out = (f"Best model: **{_model_name(model.best_name_)}**, cross-validated AUC "
           f"**{best['cv_auc']:.2f}** (95% t-interval over {model.n_splits} folds "
           f"{best['ci_low']:.2f}–{best['ci_high']:.2f}) against {base['cv_auc']:.2f} for the "
           f"naive baseline ({_feature(model.baseline_feature)} only; parameter "
           "`baseline_feature`) and 0.50 for random ranking. Paired "
           f"over the same folds, it gains **{best['auc_gain']:+.2f}** AUC over the baseline "
           f"(95% CI {best['gain_ci_low']:+.2f} to {best['gain_ci_high']:+.2f}"
           + ("; the gain is clear" if best["gain_ci_low"] > 0 else
              "; the interval includes zero, so this sample cannot show a clear gain")
           + f"). Inputs: {len(model.numeric_)} numeric and {len(model.categorical_)} categorical "
           "features.")
    if model.n_fit_ < n_customers:
        out += (f" Trained and cross-validated on a random sample of {model.n_fit_:,} of the "
                f"{n_customers:,} customers (seed {model.random_state}; parameter "
                "`max_model_customers`), which is ample for these few features; the watchlist "
                "scores every active customer.")
    return out


def calibration_text(model, cal: pd.DataFrame) -> str:
    """Calibration error of the best model and how its probabilities can be read."""
    best = model.summary_.loc[model.best_name_]
    return (f"Calibration of the {_model_name(model.best_name_)} model: expected calibration "
            f"error **{100 * best['ece']:.1f} percentage points** (customer-weighted mean gap "
            f"between predicted and observed churn over risk deciles), largest decile gap "
            f"{100 * best['max_calibration_gap']:.1f} points. "
            + calibration_sentence(cal, ece=best["ece"]))


def gains_text(model, gains: pd.DataFrame) -> str:
    """Share of churners reached by contacting the riskiest 10% and 30% (:meth:`gains`)."""
    best = model.summary_.loc[model.best_name_]
    return (f"Contacting the riskiest 10% of customers reaches **{best['top_decile_capture']:.0%}**"
            f" of the churners (lift {best['top_decile_lift']:.1f}×); the riskiest 30% reach "
            f"{gains.loc[2, 'cum_capture']:.0%}.")


def signals_unavailable_text(check: SignalCheck) -> str:
    """"Not available for this dataset: …, because …" for the signals that cannot be computed."""
    missing = check.missing
    if missing.empty:
        return ""
    if check.validation is None:
        return ""
    parts = [f"{_words(s)} (it needs the {t} table)" for s, t in missing.items()]
    what = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    return (f"Not available for this dataset: the signal{'s' if len(parts) > 1 else ''} {what}, "
            "because this dataset does not have " + ("those tables." if len(parts) > 1 else
                                                     "that table."))


def signals_text(check: SignalCheck) -> str:
    """The strongest signal with its churn rates, and the weak ones (empty when none computed)."""
    top = check.strongest()
    if top is None:
        return ""
    v, weak = check.validated, check.weak()
    return (f"The strongest single signal is **{_words(top)}**: customers with it churned at "
            f"{v.loc[top, 'churn_rate_fired']:.1%} vs {v.loc[top, 'churn_rate_not_fired']:.1%} "
            f"for comparable customers without it (×{v.loc[top, 'lift']:.1f}); it fired for "
            f"{v.loc[top, 'share_fired']:.1%} of the customers it could fire for. "
            + (f"Weak signals here (lift below {WEAK_SIGNAL_LIFT}): "
               f"{', '.join(map(_words, weak))}. "
               if weak else "")
            + "Signals explain *why* a customer is flagged; the model combines them with "
            "everything else to rank.")


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
    if design == "prospective":
        compare = (f", against {churned.mean():.1%} churn observed in the {horizon_days} days "
                   "after the training cutoff"
                   + (" — within 3 points, consistent" if risk_consistent(risk.mean(),
                                                                          churned.mean()) else
                      " — a gap of more than 3 points: the base at the scoring date differs from "
                      "the one at the training cutoff, so read the risks as a ranking more than "
                      "as probabilities"))
    else:
        compare = "; one snapshot, so there is no later period to compare with"
    loss = ("risk-weighted annual value (risk × value), the score the watchlist ranks by"
            + ("" if design == "prospective" else
               " (a descriptive score from one snapshot, not a forecast of revenue lost)"))
    no_signals = not dom and summary["with_any_signal"] == 0
    return (f"The watchlist holds **{summary['size']}** of {int(features['active'].sum()):,} "
            f"active customers with **{money(summary['annual_value'])}** of annual revenue "
            f"({summary['share_of_active_value']:.1%} of the active base's); {loss}: "
            f"**{money(summary['value_at_risk'])}**. Mean "
            f"{'predicted risk' if design == 'prospective' else 'score'} "
            f"{summary['mean_risk']:.1%} (all active customers: {risk.mean():.1%}{compare}). "
            + ("" if no_signals and design != "prospective" else
               f"{summary['with_any_signal']:,} have at least one warning signal"
               + ("; the dominant ones are " + ", ".join(f"{_words(k)} ({v})"
                                                           for k, v in dom.items())
                  if dom else "") + ". ")
            + f"Most common action: *{top_action}* ({actions[top_action]}). "
            f"Written to `{Path(path).name}` next to the key figures.")


def key_figures_text(flat: Mapping[str, Any], output_json) -> str:
    """How many key figures were written, and where."""
    return f"{len(flat)} key figures written to `{Path(output_json).name}`."


def calibration_sentence(cal: pd.DataFrame, *, ece: float,
                         tolerance: float = CALIBRATION_TOLERANCE) -> str:
    """What the calibration table means for reading the risks, in one sentence.

    ``cal`` is :func:`churn_research.segments.calibration_table` (decile 1 = highest risk). Within ``tolerance`` on
    average and in every decile: read as probabilities. Within on average only: name the decile
    with the largest gap and, when it is the riskiest one (where a watchlist comes from), whether
    its risks are over- or understated. Otherwise: recalibrate.
    """
    if ece > tolerance:
        return "The probabilities should be recalibrated before being read literally."
    worst = cal.loc[cal["gap"].abs().idxmax()]
    if abs(worst["gap"]) <= tolerance:
        return "The probabilities can be read as churn probabilities in every risk decile."
    text = (f"On average the probabilities can be read as churn probabilities, but in risk decile "
            f"{int(worst['decile'])} of {len(cal)} (1 = highest risk) the model predicts "
            f"{worst['predicted']:.0%} against {worst['observed']:.0%} observed")
    if int(worst["decile"]) != 1:
        return text + "."
    direction = "overstated" if worst["predicted"] > worst["observed"] else "understated"
    return (text + " — the riskiest customers, from whom the watchlist is drawn, so its risks and "
            f"risk-weighted values are likely {direction}.")


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
    return (f" On these data the at-risk rule does not single out the riskiest customers: its tier "
            f"churns {ar['churn_rate']:.0%}, the {top} tier {others.loc[top, 'churn_rate']:.0%}; for "
            "targeting, use the risk model's ranking below rather than the tier.")


# Tables as displayed: words for column names, rates in %, no empty rows, no row numbers
# ---------------------------------------------------------------------------------------------
#: Column names a reader meets in the tables of 40_segments.
COLUMN_WORDS = {
    "recency_days": "days since last purchase", "r_score": "R score", "f_score": "F score",
    "m_score": "M score", "rfm_code": "RFM code", "churn_rate": "churn rate",
    "churn_ci_low": "churn 95% CI low", "churn_ci_high": "churn 95% CI high",
    "revenue_share": "share of revenue", "mean_value": "mean value", "value_share": "share of value",
    "cv_auc": "cross-validated AUC", "ci_low": "95% CI low", "ci_high": "95% CI high",
    "fold_sd": "SD over folds", "oof_auc": "out-of-fold AUC", "ece": "calibration error (ECE)",
    "max_calibration_gap": "largest decile gap", "brier": "Brier score",
    "top_decile_capture": "churners in riskiest 10%", "top_decile_lift": "lift of riskiest 10%",
    "auc_gain": "AUC gain over baseline", "gain_ci_low": "gain 95% CI low",
    "gain_ci_high": "gain 95% CI high", "cum_share": "cumulative share of customers",
    "cum_capture": "cumulative share of churners", "share_fired": "share fired (of eligible)",
    "churn_rate_fired": "churn rate, fired", "churn_rate_not_fired": "churn rate, not fired",
    "expected_loss": "risk-weighted value (risk × value)", "high_value": "high value",
    "n_signals": "signals fired", "dominant_signal": "dominant signal",
    "likely_reason": "likely reason", "tenure_days": "tenure (days)",
    "freq_trend": "purchase trend", "complaints_365": "complaints (last 365 days)",
    "csat_mean": "mean CSAT", "activity_ratio": "recent activity ratio",
    "customer_id": "customer id",
}
#: Columns shown as percentages.
_PERCENT = {"share", "churn_rate", "churn_ci_low", "churn_ci_high", "revenue_share", "value_share",
            "top_decile_capture", "cum_share", "cum_capture", "share_fired", "churn_rate_fired",
            "churn_rate_not_fired", "recall", "risk"}
#: Columns shown as money (separators, 0 or 2 decimals).
_MONEY = {"revenue", "mean_value", "value", "expected_loss", "priority", "monetary",
          "monthly_charges"}


def _words(name) -> str:
    return str(name).replace("_", " ")


def shown(df: pd.DataFrame, *, index: bool = True, drop_empty: str | None = None) -> Styler:
    """``df`` as a reader sees it: rates in %, missing as a dash, counts as integers, words for
    the column names (and the index name); without the row numbers when ``index`` is False;
    without the rows where ``drop_empty`` is 0 or missing (e.g. empty tiers)."""
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
            out[c] = out[c].map(lambda v: _words(v) if isinstance(v, str) and v else "–")
    if out.index.dtype == object:
        out.index = out.index.map(lambda v: _words(v) if isinstance(v, str) else v)
    table = readable(out).rename(columns=lambda c: COLUMN_WORDS.get(c, _words(c)))
    table.index.name = COLUMN_WORDS.get(out.index.name, out.index.name and _words(out.index.name))
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
        return not_available("early-warning signals",
                             "the data have no transactions, tickets or surveys to compute "
                             "them from (one snapshot of attributes)")
    return ("## Early-warning signals\n\n"
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


def watchlist_table(watchlist: pd.DataFrame, *, rows: int = 15) -> Styler:
    """The top of the watchlist; without the signal columns when no signal can be computed."""
    w = watchlist.head(rows)
    if (watchlist["n_signals"] == 0).all():
        w = w.drop(columns=["signals", "n_signals", "dominant_signal"], errors="ignore")
    return shown(w, index=False)
