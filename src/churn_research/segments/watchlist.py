"""The retention playbook and the watchlist: top-N active customers by risk x value with tier,
signals and a suggested action (:func:`build_watchlist`), and :func:`write_watchlist`, which
refuses to write personal data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from churn_research.i18n import _, is_chinese, label
from churn_research.lookup import reindexed
from churn_research.model import ChurnDataError, write_atomic
from churn_research.personal import is_personal_header, looks_personal
from churn_research.playbook import state_actions
from churn_research.segments.rules import (
    PLAYBOOK,
    RESIDUAL_VALUE_COLUMNS,
    WATCHLIST_COLUMNS,
    WATCHLIST_CSV_NAMES,
)
from churn_research.segments.scores import _revenue_column
from churn_research.segments.signals import early_warning_signals


# Playbook and watchlist
# ---------------------------------------------------------------------------------------------
def price_sensitive(features: pd.DataFrame) -> pd.Series:
    """Customers whose likely exit reason is price.

    True if the customer had a price rise (``price_rise`` column); otherwise, when there is no
    such column, a month-to-month contract with monthly revenue in the top quintile (the
    customers most exposed to a cheaper competitor offer). False when neither is available.
    """
    if "price_rise" in features:
        return features["price_rise"].fillna(0).astype(bool).rename("price_sensitive")
    rev_col = _revenue_column(features)
    if "contract" in features and rev_col:
        monthly = features["contract"].astype(str).str.lower().str.contains("month")
        monthly &= ~features["contract"].astype(str).str.lower().str.contains("annual|year")
        rev = features[rev_col].astype(float)
        return (monthly & (rev >= rev.quantile(0.8))).rename("price_sensitive")
    return pd.Series(False, index=features.index, name="price_sensitive")


def suggest_actions(frame: pd.DataFrame) -> pd.DataFrame:
    """The likely reason (first matching trigger of :data:`PLAYBOOK`) and the action of the one
    rule set (:func:`churn_research.playbook.state_actions`, the rules of 60_retention).

    Parameters
    ----------
    frame : DataFrame
        Needs ``tier``, ``high_value`` (bool), ``dominant_signal`` and ``price_sensitive``; uses
        ``contract`` and ``open_complaints`` (count) when present.

    Returns
    -------
    DataFrame with ``likely_reason``, ``rule`` (which action rule fired) and ``action`` (the
    high-value action for high-value customers).
    """
    tier = frame["tier"].astype(str).to_numpy()
    dom = frame["dominant_signal"].astype(str).to_numpy()
    price = frame["price_sensitive"].astype(bool).to_numpy()
    conditions = [dom == "recent_complaint", dom == "low_satisfaction", price,
                  np.isin(dom, ["activity_drop", "falling_frequency"]), tier == "new"]
    reasons = list(PLAYBOOK["likely reason"])
    reason = pd.Series(np.select(conditions, reasons[:-1], default=reasons[-1]), index=frame.index)
    acts = state_actions(frame.assign(likely_reason=reason))
    return pd.DataFrame({"likely_reason": reason, "rule": acts["rule"], "action": acts["action"]},
                        index=frame.index)


def playbook_state(features: pd.DataFrame, ids, *,
                   open_complaints: pd.Series | None = None,
                   all_rows: bool = False) -> pd.DataFrame:
    """What the playbook reads besides tier, value and signals, for the customers ``ids``:
    ``price_sensitive`` (:func:`price_sensitive` among the active customers of ``features``,
    every row of it with ``all_rows``), ``contract`` (when ``features`` has one) and
    ``open_complaints`` (when given; 0 for a customer without one). :func:`build_watchlist` and
    60_retention read the same state. Only the columns :func:`price_sensitive` reads are taken
    from the active rows (not a copy of every feature of theirs)."""
    ids = pd.Index(ids)
    act = _listed(features, all_rows)
    cols = [c for c in ("price_rise", "contract", _revenue_column(features)) if c and c in features]
    out = pd.DataFrame(index=ids)
    out["price_sensitive"] = reindexed(price_sensitive(features.loc[act, cols]), ids,
                                       fill_value=False).astype(bool)
    if "contract" in features:
        out["contract"] = reindexed(features["contract"], ids)
    if open_complaints is not None:
        out["open_complaints"] = reindexed(open_complaints, ids, fill_value=0).astype("int64")
    return out


def playbook_inputs(features: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``features`` that :func:`playbook_state` reads (``active``,
    ``price_rise``, ``contract``, the revenue column): once the watchlist is built, the rest of
    today's features can go (at 10^7 customers, GBs) and the playbook still gives each customer
    the same state."""
    return features[[c for c in ("active", "price_rise", "contract", _revenue_column(features))
                     if c and c in features]]


def _listed(features: pd.DataFrame, all_rows: bool = False) -> np.ndarray:
    """The rows a watchlist may list: the ``active`` ones (every row with ``all_rows``)."""
    if all_rows:
        return np.ones(len(features), bool)
    return features["active"].astype(bool).to_numpy()


def build_watchlist(features: pd.DataFrame, risk: pd.Series, *, tiers: pd.Series,
                    signals: pd.DataFrame | None = None, top_n: int = 100,
                    high_value_min_m: int = 5,
                    open_complaints: pd.Series | None = None,
                    signal_thresholds: dict | None = None,
                    all_rows: bool = False) -> pd.DataFrame:
    """The early-warning watchlist: top-N active customers by risk x value.

    Parameters
    ----------
    features : DataFrame
        :func:`features_at` at the scoring date (only ``active`` customers are listed).
    risk : Series
        Predicted churn probability within the horizon, per customer.
    tiers : Series
        :func:`value_tiers` at the scoring date.
    signals : DataFrame, optional
        :func:`early_warning_signals` at the scoring date. None: computed here with
        ``signal_thresholds`` for the listed customers only (the same signals: a customer's
        depend on their own features only), so no text column is built for every active
        customer.
    top_n : int, default 100
    high_value_min_m : int, default 5
        M score from which a customer counts as high value (the playbook's account-manager rule).
    open_complaints : Series, optional
        Unresolved complaints per customer (:func:`open_complaints`); None: no customer has
        one (the data cannot show them). The action comes from the one rule set
        (:func:`churn_research.playbook.state_actions`) with the customer's contract (when
        ``features`` has one), so 40_segments and 60_retention name the same action.
    signal_thresholds : dict, optional
        The thresholds of :func:`early_warning_signals` when ``signals`` is None.
    all_rows : bool, default False
        Every row of ``features`` counts as active (customers at a training cutoff), as
        ``features.assign(active=True)`` would, without a copy of the frame.

    Returns
    -------
    DataFrame with exactly :data:`WATCHLIST_COLUMNS`: ``rank``, ``customer_id``, ``tier``,
    ``high_value``, ``risk``, ``value`` (trailing 12-month revenue), ``expected_loss``
    (risk x value; the CSV heads them ``annual_revenue`` and ``risk_x_annual_revenue``,
    see :func:`write_watchlist`), ``priority`` (= expected_loss, the sort key), the fired ``signals``,
    ``n_signals``, ``dominant_signal``, ``likely_reason`` and the suggested ``action``.
    Never names, phone numbers or e-mails.

    Only the ranking (risk and risk x value) is computed for every active customer; the
    other columns for the top ``top_n`` rows (the same rows and values as when every column
    is built for every customer first: tested).
    """
    listed = _listed(features, all_rows)
    act = features.index[listed]
    r = reindexed(risk, act).astype(float).to_numpy()
    v = features["value"].astype(float).to_numpy()[listed]
    rank = pd.DataFrame({"priority": r * v, "risk": r, "_row": np.flatnonzero(listed)}, index=act)
    rank = rank.dropna(subset=["priority"]).sort_values(["priority", "risk"], ascending=False,
                                                        kind="stable").head(int(top_n))
    top = rank.index
    sub = features.iloc[rank["_row"].to_numpy()]
    df = pd.DataFrame(index=top)
    df["tier"] = reindexed(tiers, top).astype(str)
    df["high_value"] = sub["m_score"].astype("float64").fillna(0).to_numpy() >= high_value_min_m
    df["risk"] = rank["risk"]
    df["value"] = sub["value"].astype(float).to_numpy()
    df["expected_loss"] = df["risk"] * df["value"]
    df["priority"] = df["expected_loss"]
    if signals is None:
        signals = early_warning_signals(sub, **(signal_thresholds or {}))
    sig = signals.reindex(top)
    df["signals"] = sig["signals"].fillna("")
    df["n_signals"] = sig["n_signals"].fillna(0).astype(int)
    df["dominant_signal"] = sig["dominant_signal"].fillna("none")
    df = df.join(playbook_state(features, top, open_complaints=open_complaints,
                                all_rows=all_rows))
    df = df.join(suggest_actions(df))
    df.index.name = "customer_id"
    df = df.reset_index()
    df["rank"] = np.arange(1, len(df) + 1)
    out = df[WATCHLIST_COLUMNS].copy()
    assert_no_personal_data(out)
    return out


def watchlist_summary(watchlist: pd.DataFrame, features: pd.DataFrame | None = None, *,
                      risk: pd.Series | None = None) -> dict:
    """Key figures of a watchlist: size, value, expected loss and the dominant signals;
    ``risk``: the risks of every active customer scored (``active_mean_risk``, the base the
    watchlist's mean risk is read against)."""
    sig = watchlist["signals"].str.split(", ").explode()
    sig = sig[sig.astype(bool) & sig.notna()]
    out = {
        "size": int(len(watchlist)),
        "annual_value": float(watchlist["value"].sum()),
        "value_at_risk": float(watchlist["expected_loss"].sum()),
        "mean_risk": float(watchlist["risk"].mean()) if len(watchlist) else np.nan,
        "with_any_signal": int((watchlist["n_signals"] > 0).sum()),
        "signal_counts": {k: int(v) for k, v in sig.value_counts().items()},
        "dominant_signal_counts": {k: int(v) for k, v in
                                   watchlist["dominant_signal"].value_counts().items()},
        "action_counts": {k: int(v) for k, v in watchlist["action"].value_counts().items()},
        "tier_counts": {k: int(v) for k, v in watchlist["tier"].value_counts().items()},
    }
    if risk is not None:
        out["active_mean_risk"] = float(risk.mean()) if len(risk) else np.nan
    if features is not None:
        act = features["active"].astype(bool)
        total = features.loc[act, "value"].sum()
        out["share_of_active_value"] = float(watchlist["value"].sum() / total) if total else np.nan
    return out


def assert_no_personal_data(frame: pd.DataFrame) -> None:
    """Raise if ``frame`` has a personal-data column or a cell that looks like an e-mail, phone
    number or ID number (the rules of :mod:`churn_research.personal`)."""
    bad = [c for c in frame.columns if is_personal_header(str(c))]
    if bad:
        raise ChurnDataError("personal data must never reach a report.", table="watchlist",
                             column=bad[0], fix="drop the column.")
    for c in frame.columns:
        if frame[c].dtype == object:
            s = frame[c].dropna().astype(str)
            # each distinct value checked once (tiers, signals and reasons repeat on every row)
            values = pd.unique(s.to_numpy())
            personal = {v for v in values if looks_personal(v) is not None}
            hit = s.isin(personal) if personal else pd.Series(False, index=s.index)
            if hit.any():
                raise ChurnDataError("cells look like e-mail addresses or phone numbers.",
                                     table="watchlist", column=c,
                                     rows=list(frame.index[hit.reindex(frame.index, fill_value=False)]),
                                     fix="never copy personal data into a report.")


def _translated(watchlist: pd.DataFrame) -> pd.DataFrame:
    """The watchlist as a Chinese reader opens it: column names, tiers, signals, reasons and
    actions in the report's language (the numbers and the customer ids as they are)."""
    def signal_list(value) -> str:
        if not isinstance(value, str) or not value:
            return ""
        return "、".join(label(v) for v in value.split(", "))

    out = watchlist.copy()
    for c in ("tier", "likely_reason", "dominant_signal"):
        out[c] = out[c].map(lambda v: label(v) if isinstance(v, str) else v)
    out["signals"] = out["signals"].map(signal_list)
    out["high_value"] = out["high_value"].map(lambda v: label("yes" if v else "no"))
    out["action"] = out["action"].map(lambda v: _(v) if isinstance(v, str) and v else v)
    headers = {"rank": _("rank"), "customer_id": _("customer id"), "tier": _("tier"),
               "high_value": _("high value"), "risk": _("risk"), "value": _("annual revenue"),
               "expected_loss": _("risk × annual revenue"), "priority": _("priority"),
               "signals": _("signals"), "n_signals": _("signals fired"),
               "dominant_signal": _("dominant signal"), "likely_reason": _("likely reason"),
               "action": _("action"), "residual_value": _("residual value"),
               "risk_x_residual_value": _("risk × residual value")}
    return out.rename(columns=headers)


def _signal_words(value) -> str:
    """``"low_satisfaction, activity_drop"`` -> ``"low satisfaction, activity drop"``: the signal
    names as the report shows them."""
    if not isinstance(value, str) or not value:
        return ""
    return ", ".join(label(v.replace("_", " ")) for v in value.split(", "))


def _english(watchlist: pd.DataFrame) -> pd.DataFrame:
    """The watchlist as an English reader opens it: signals in words (as the report shows them)
    and the headers of :data:`WATCHLIST_CSV_NAMES` saying what the columns hold."""
    out = watchlist.copy()
    for c in ("signals", "dominant_signal"):
        out[c] = out[c].map(_signal_words)
    return out.rename(columns=WATCHLIST_CSV_NAMES)


def write_watchlist(watchlist: pd.DataFrame, path: str | Path) -> Path:
    """Write the watchlist CSV (only :data:`WATCHLIST_COLUMNS`, and 60_retention's
    :data:`RESIDUAL_VALUE_COLUMNS`; refuses personal data).

    The columns: ``rank``, ``customer_id``, ``tier``, ``high_value``, ``risk`` (the probability
    the list ranks by), ``annual_revenue`` (trailing 12-month revenue; the frame's ``value``),
    ``risk_x_annual_revenue`` (risk x annual revenue, the frame's ``expected_loss``: a ranking
    score, not an expected loss), ``priority`` (the sort key, = risk_x_annual_revenue), ``signals``
    (in words), ``n_signals``, ``dominant_signal``, ``likely_reason``, ``action``; on 60_retention's
    call list also ``residual_value`` (50_clv's residual value) and ``risk_x_residual_value``
    (risk x residual value: its sum is the watchlist's figure in 60_retention's money section).

    In a Chinese report the column names, tiers, signals, reasons and actions are Chinese and
    the file starts with a byte-order mark (UTF-8 with BOM, so that Excel reads it as UTF-8);
    the English file is plain UTF-8 with English names and signals in words."""
    unknown = [c for c in watchlist.columns if c not in WATCHLIST_COLUMNS + RESIDUAL_VALUE_COLUMNS]
    if unknown:
        raise ChurnDataError(f"unexpected watchlist columns {unknown}.", table="watchlist",
                             fix="build it with build_watchlist().")
    assert_no_personal_data(watchlist)
    if is_chinese():
        text = _translated(watchlist).to_csv(index=False, float_format="%.4f")
        return write_atomic(path, "\ufeff" + text)   # utf-8-sig
    return write_atomic(path, _english(watchlist).to_csv(index=False, float_format="%.4f"))
