"""Win-back: the recently lost customers ranked by the value they took with them
(:func:`recently_lost`), and the historical win-back rate, the share of lost customers who came
back within 6 and 12 months, with a Wilson interval (:func:`winback_rate`).

One snapshot (:attr:`~churn_research.model.ChurnData.is_snapshot`, e.g. IBM Telco) records who
had left by the day it was taken, not when each customer left (every churner's end date is the
snapshot date). Its list holds every customer who had left by the snapshot, ranked by lost
value, with ``lost_on`` and ``days_since_loss`` empty (unknown: never the snapshot date or 0).

When a loss is *known*:

* contractual data: at the end date;
* non-contractual data (purchase logs, churn inferred after ``inactivity_days`` without a
  purchase): at the last purchase + ``inactivity_days``, the day the rule can first call the
  customer lost.

"Came back": non-contractual, a purchase after a gap of more than ``inactivity_days`` (every
such gap in the log is a past loss), within 6 / 12 months of the day the loss was known;
contractual, a new start of the same customer id after an end. A customers table with one row
per customer id cannot show a return (a returning subscriber gets a new id or a reopened row):
the rate is then "not measurable" (None), never 0.

Lost value: the customer's revenue in the 365 days before the loss (transactions), or, when
there are no transactions, their monthly revenue x the months they were on the books in that
year (their tenure in whole months, at least 1 and at most 12: a customer who stayed 3 months
took 3 months of revenue, not 12). The list carries ``customer_id`` only.

Expected recovered value (purchase logs): P(return within the window) x lost value, a stated
base (a year's revenue at the customer's pre-loss rate per expected return), not a forecast of
what a returner will spend; revenue, not 50_clv's profit value.

How likely a lost customer is to come back (:func:`return_model`, purchase logs only): every
past lapse of the log is a training case, described by the customer's state when the loss was
known (purchase days so far, revenue of the year before the last purchase, tenure, and how long
the customer has already stayed away without returning), labelled by a return within the window.
A seeded, cross-validated logistic regression is compared with the empirical return rate per
band of purchase frequency on the same held-out folds; the one with the lower held-out Brier
score is used (its held-out AUC and calibration error are reported). Contractual data record
no returns a state could be learnt from: there the return likelihood is None (not estimable),
never 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from churn_research.durations import DAYS_PER_MONTH
from churn_research.i18n import _, is_chinese, t
from churn_research.lookup import reindexed
from churn_research.model import ChurnDataError, write_atomic
from churn_research.personal import is_personal_header, looks_personal
from churn_research.stats import brier_score, expected_calibration_error, wilson_ci

__all__ = ["WINBACK_COLUMNS", "RETURN_COLUMNS", "loss_known_dates", "lost_value", "recently_lost",
           "lapses", "followed_up", "winback_rate", "contractual_returns", "past_losses", "write_winback",
           "lapse_states", "ReturnModel", "return_model", "rank_by_recovery", "listed_states",
           "mix_by_frequency", "mix_figures", "WinBack", "analyse"]

WINBACK_COLUMNS = ["rank", "customer_id", "lost_on", "days_since_loss", "lost_value"]
#: Columns the win-back list gains where the return likelihood can be estimated (``{m}``: the
#: window in months, one column per estimable window).
RETURN_COLUMNS = ["p_return_{m}m", "expected_recovered_value"]
STATE_FEATURES = ["frequency", "value", "tenure_days", "days_since_loss"]
FREQUENCY_BANDS = (0, 1, 2, 4, 9, np.inf)  # purchase days: 1, 2, 3-4, 5-9, 10+
#: The bands' names (purchase days up to the last purchase before the loss).
FREQUENCY_BAND_NAMES = ("1", "2", "3–4", "5–9", "10+")


def loss_known_dates(customers: pd.DataFrame, *, kind: str, inactivity_days: int | None) -> pd.Series:
    """The date each lost customer's loss is known (index ``customer_id``)."""
    has = customers["end_date"].notna().to_numpy()  # the two columns read, not a copy of the rows
    ended = customers.loc[has, "end_date"].set_axis(
        pd.Index(customers["customer_id"].iloc[np.flatnonzero(has)].array, name="customer_id"))
    if kind == "non-contractual" and inactivity_days:
        ended = ended + pd.Timedelta(days=int(inactivity_days))
    return ended.rename("lost_on")


def lost_value(customers: pd.DataFrame, transactions: pd.DataFrame | None, *,
               value_col: str | None = "monthly_revenue", days: int = 365) -> pd.Series:
    """Revenue in the ``days`` before each lost customer's end date; without transactions,
    ``value_col`` (monthly) x the whole months the customer was on the books in those ``days``
    (tenure rounded to months, clipped to 1 .. 12 for a year)."""
    has = customers["end_date"].notna().to_numpy()  # the two columns read, not a copy of the rows
    ended = customers.loc[has, "end_date"].set_axis(
        pd.Index(customers["customer_id"].iloc[np.flatnonzero(has)].array, name="customer_id"))
    if transactions is not None and len(transactions):
        tx = transactions.join(ended.rename("end"), on="customer_id", how="inner")
        tx = tx[(tx["date"] <= tx["end"]) & (tx["date"] > tx["end"] - pd.Timedelta(days=days))]
        return tx.groupby("customer_id")["amount"].sum().reindex(ended.index, fill_value=0.0).rename("lost_value")
    if value_col and value_col in customers:
        c = customers.set_index("customer_id").reindex(ended.index)
        v = c[value_col].astype(float)
        year = days / DAYS_PER_MONTH
        if "start_date" in c:
            tenure = ((c["end_date"] - c["start_date"]).dt.days / DAYS_PER_MONTH).round()
            months = tenure.clip(lower=1, upper=round(year)).fillna(round(year))
        else:
            months = pd.Series(float(round(year)), index=c.index)
        return (months * v).rename("lost_value")
    return pd.Series(np.nan, index=ended.index, name="lost_value")


def recently_lost(lost_on: pd.Series, value: pd.Series, *, observation_end, days: int = 90,
                  snapshot: bool = False) -> pd.DataFrame:
    """Customers whose loss became known in the last ``days`` days, by lost value (highest first).

    ``snapshot``: the data are one snapshot, whose end dates say only that the customer had left
    by ``observation_end``: every customer lost by then is listed (``days`` does not apply), with
    ``lost_on`` and ``days_since_loss`` empty (unknown), ranked by lost value alone.

    Returns exactly :data:`WINBACK_COLUMNS`.
    """
    end = pd.Timestamp(observation_end)
    if snapshot:
        gone = lost_on[lost_on <= end]
        df = pd.DataFrame({"lost_value": reindexed(value, gone.index).astype(float)})
        df = df.sort_values("lost_value", ascending=False, kind="stable")
        df.index.name = "customer_id"
        df = df.reset_index()
        df["rank"] = np.arange(1, len(df) + 1)
        df["lost_on"] = pd.Series([None] * len(df), index=df.index, dtype=object)
        df["days_since_loss"] = pd.array([pd.NA] * len(df), dtype="Int64")
        return df[WINBACK_COLUMNS]
    recent = lost_on[(lost_on <= end) & (lost_on > end - pd.Timedelta(days=int(days)))]
    df = pd.DataFrame({"lost_on": recent, "lost_value": reindexed(value, recent.index).astype(float)})
    df["days_since_loss"] = (end - df["lost_on"]).dt.days.astype("int64")
    df = df.sort_values(["lost_value", "days_since_loss"], ascending=[False, True], kind="stable")
    df.index.name = "customer_id"
    df = df.reset_index()
    df["rank"] = np.arange(1, len(df) + 1)
    df["lost_on"] = df["lost_on"].dt.date
    return df[WINBACK_COLUMNS]


def lapses(transactions: pd.DataFrame, *, inactivity_days: int) -> pd.DataFrame:
    """Every past loss in a purchase log: a gap of more than ``inactivity_days`` after a purchase.

    Returns one row per loss: ``customer_id``, ``last_purchase``, ``lost_on`` (last purchase +
    ``inactivity_days``) and ``returned_on`` (the next purchase; NaT if none)."""
    days = transactions[["customer_id", "date"]].drop_duplicates().sort_values(["customer_id", "date"])
    nxt = days.groupby("customer_id")["date"].shift(-1)
    gap = (nxt - days["date"]).dt.days
    out = pd.DataFrame({"customer_id": days["customer_id"].to_numpy(),
                        "last_purchase": days["date"].to_numpy(), "returned_on": nxt.to_numpy()})
    known = out["last_purchase"] + pd.Timedelta(days=int(inactivity_days))
    out["lost_on"] = known
    keep = (gap.to_numpy() > inactivity_days) | nxt.isna().to_numpy()
    return out[keep].reset_index(drop=True)[["customer_id", "last_purchase", "lost_on", "returned_on"]]


def followed_up(losses: pd.DataFrame, *, observation_end, months: float) -> tuple[pd.DataFrame, np.ndarray]:
    """The losses a window of ``months`` can follow up (known at least that long before
    ``observation_end``) and, for each, whether the customer came back within it: the base and
    the outcome of the historical win-back rate (:func:`winback_rate`, :func:`mix_by_frequency`)."""
    window = pd.Timedelta(days=float(months) * DAYS_PER_MONTH)
    eligible = losses[losses["lost_on"] + window <= pd.Timestamp(observation_end)].reset_index(drop=True)
    back = (eligible["returned_on"].notna()
            & (eligible["returned_on"] <= eligible["lost_on"] + window)).to_numpy(dtype=bool)
    return eligible, back


def winback_rate(losses: pd.DataFrame | None, *, observation_end, months=(6, 12),
                 alpha: float = 0.05) -> pd.DataFrame | None:
    """Share of losses followed by a return within each of ``months`` after the loss was known.

    Only losses known at least that many months before ``observation_end`` count (their window
    is fully observed). ``losses`` needs ``lost_on`` and ``returned_on`` (NaT: no return);
    None (not measurable) when ``losses`` is None.

    Returns one row per window: ``months``, ``losses``, ``returned``, ``rate``, ``ci_low``,
    ``ci_high`` (Wilson).
    """
    if losses is None:
        return None
    rows = []
    for m in months:
        eligible, back = followed_up(losses, observation_end=observation_end, months=m)
        k, n = int(back.sum()), int(len(eligible))
        lo, hi = wilson_ci(k, n, alpha=alpha)
        rows.append({"months": int(m), "losses": n, "returned": k, "rate": k / n if n else np.nan,
                     "ci_low": float(lo), "ci_high": float(hi)})
    return pd.DataFrame(rows)


def contractual_returns(customers: pd.DataFrame) -> pd.DataFrame | None:
    """Losses and returns of contractual data: an end followed by a later start of the same
    customer id. None (not measurable) when every customer id has one row."""
    if customers["customer_id"].is_unique:
        return None
    c = customers.sort_values(["customer_id", "start_date"])
    nxt = c.groupby("customer_id")["start_date"].shift(-1)
    ended = c["end_date"].notna()
    return pd.DataFrame({"customer_id": c.loc[ended, "customer_id"].to_numpy(),
                         "lost_on": c.loc[ended, "end_date"].to_numpy(),
                         "returned_on": nxt[ended].to_numpy()})


def _allowed_columns(columns: list[str]) -> bool:
    if columns[:len(WINBACK_COLUMNS)] != WINBACK_COLUMNS:
        return False
    extra = columns[len(WINBACK_COLUMNS):]
    if not extra:
        return True
    probs = extra[:-1]
    return (extra[-1] == "expected_recovered_value" and len(probs) >= 1
            and all(re.fullmatch(r"p_return_\d+m", c) for c in probs))


def write_winback(winback: pd.DataFrame, path) -> Path:
    """Write the win-back list (only :data:`WINBACK_COLUMNS`, and the return likelihood's
    :data:`RETURN_COLUMNS` where it is estimable: customer_id, never personal data).

    In a Chinese report the headers are Chinese and the file starts with a byte-order mark.
    One snapshot's list (no customer's loss dated: ``lost_on`` and ``days_since_loss`` empty on
    every row) leaves those two columns out rather than write them empty."""
    if not _allowed_columns([str(c) for c in winback.columns]):
        raise ChurnDataError(f"unexpected win-back columns {list(winback.columns)}.", table="winback",
                             fix="build it with recently_lost().")
    undated = [c for c in ("lost_on", "days_since_loss") if len(winback) and winback[c].isna().all()]
    winback = winback.drop(columns=undated)
    bad = [c for c in winback.columns if is_personal_header(str(c))]
    ids = winback["customer_id"].astype(str)
    if bad or ids.map(lambda v: looks_personal(v) is not None).any():
        raise ChurnDataError("personal data must never reach a report.", table="winback",
                             column="customer_id", fix="use an opaque customer id.")
    if is_chinese():
        headers = {"rank": _("rank"), "customer_id": _("customer id"), "lost_on": _("lost on"),
                   "days_since_loss": _("days since the loss"), "lost_value": _("lost value"),
                   "expected_recovered_value": _("expected recovered value")}
        for c in winback.columns:
            m = re.fullmatch(r"p_return_(\d+)m", str(c))
            if m:
                headers[c] = t("P(return within {months} months)", months=m.group(1))
        text = _formatted(winback).rename(columns=headers).to_csv(index=False)
        return write_atomic(path, "\ufeff" + text)
    return write_atomic(path, _formatted(winback).to_csv(index=False))


def _formatted(winback: pd.DataFrame) -> pd.DataFrame:
    """Money with two decimals, probabilities with four."""
    out = winback.copy()
    for c in out.columns:
        if str(c).startswith("p_return_"):
            out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{v:.4f}")
        elif c in ("lost_value", "expected_recovered_value"):
            out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    return out


def past_losses(customers: pd.DataFrame, transactions: pd.DataFrame | None, *, kind: str,
                inactivity_days: int | None) -> pd.DataFrame | None:
    """The losses the data can follow up: every lapse of a purchase log (non-contractual), or
    ends followed by a new start of the same id (contractual); None when not measurable."""
    if kind == "non-contractual" and transactions is not None and inactivity_days:
        return lapses(transactions, inactivity_days=int(inactivity_days))
    return contractual_returns(customers)


# ---------------------------------------------------------------------------------------------
# how likely a lost customer is to come back (purchase logs)
# ---------------------------------------------------------------------------------------------
def lapse_states(transactions: pd.DataFrame, losses: pd.DataFrame, *, days_since_loss=0) -> pd.DataFrame:
    """Each loss's customer state when it was known, from the purchases up to the last one:
    ``frequency`` (purchase days), ``value`` (revenue of the 365 days up to the last purchase),
    ``tenure_days`` (first to last purchase) and ``days_since_loss`` (given: how long the customer
    has already stayed away since the loss was known). Same index as ``losses``."""
    tx = transactions.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    tx = tx.sort_values(["customer_id", "date"]).reset_index(drop=True)
    g = tx.groupby("customer_id")
    tx["frequency"] = g.cumcount() + 1
    tx["cum"] = g["amount"].cumsum()
    tx["first"] = g["date"].transform("min")
    key = losses[["customer_id", "last_purchase"]].rename(columns={"last_purchase": "date"})
    # the same dtype as the purchases' ids (merge_asof's ``by`` requires it: processed data's
    # text is ``str``, losses built elsewhere may hold Python strings)
    key = key.astype({"customer_id": tx["customer_id"].dtype})
    at = key.merge(tx, on=["customer_id", "date"], how="left")
    # revenue up to a year before the last purchase: the cumulative sum at the last purchase day
    # on or before (last purchase - 365 days)
    back = key.assign(date=key["date"] - pd.Timedelta(days=365)).reset_index()
    back = pd.merge_asof(back.sort_values("date"), tx[["customer_id", "date", "cum"]].sort_values("date"),
                         on="date", by="customer_id", direction="backward").set_index("index")
    before = back["cum"].reindex(range(len(key))).fillna(0.0).to_numpy()
    out = pd.DataFrame({"frequency": at["frequency"].to_numpy(dtype=float),
                        "value": at["cum"].to_numpy(dtype=float) - before,
                        "tenure_days": (at["date"] - at["first"]).dt.days.to_numpy(dtype=float),
                        "days_since_loss": np.broadcast_to(np.asarray(days_since_loss, dtype=float),
                                                           (len(key),)).copy()},
                       index=losses.index)
    return out


def _design(states: pd.DataFrame) -> np.ndarray:
    return np.column_stack([np.log1p(states["frequency"]), np.log1p(states["value"].clip(lower=0)),
                            np.log1p(states["tenure_days"]), states["days_since_loss"] / 30.0])


def _bands(states: pd.DataFrame) -> np.ndarray:
    return np.digitize(states["frequency"].to_numpy(), FREQUENCY_BANDS[1:-1], right=True)


class _BandRate:
    """The empirical return rate per band of purchase frequency (the model to beat)."""

    def fit(self, states: pd.DataFrame, y) -> _BandRate:
        y = np.asarray(y, dtype=float)
        b = _bands(states)
        self.overall_ = float(y.mean())
        self.rates_ = {int(k): float(y[b == k].mean()) for k in np.unique(b)}
        return self

    def predict(self, states: pd.DataFrame) -> np.ndarray:
        return np.array([self.rates_.get(int(k), self.overall_) for k in _bands(states)])


class _Logistic:
    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    def fit(self, states: pd.DataFrame, y) -> _Logistic:
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - heavy
        from sklearn.pipeline import make_pipeline  # noqa: PLC0415
        from sklearn.preprocessing import StandardScaler  # noqa: PLC0415

        self.model_ = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(
            _design(states), np.asarray(y, dtype=int))
        return self

    def predict(self, states: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(_design(states))[:, 1]


def _auc(y, p) -> float:
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415

    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


@dataclass
class ReturnModel:
    """P(a lost customer comes back within ``months``), learnt from the log's past lapses.

    ``chosen``: "logistic" or "band rate" (the lower held-out Brier score); ``scores``: held-out
    AUC, Brier score and expected calibration error of both candidates (rows) on the same
    folds; ``capture``: on held-out lapses, the share of the value that actually came back that
    the top ``top_share`` of lapses hold when ranked by expected recovered value, by lost value
    alone, and at random; ``cases``/``returned``: the training lapses and how many came back."""

    months: int
    chosen: str
    scores: pd.DataFrame
    capture: dict
    cases: int
    returned: int
    n_folds: int
    top_share: float
    model: object = field(repr=False, default=None)

    def predict(self, states: pd.DataFrame) -> np.ndarray:
        return self.model.predict(states)

    def key_figures(self) -> dict:
        s = self.scores.loc[self.chosen]
        return {"model": self.chosen, "cases": self.cases, "returned": self.returned,
                "auc": float(s["auc"]), "brier": float(s["brier"]), "ece": float(s["ece"]),
                "auc_logistic": float(self.scores.loc["logistic", "auc"]),
                "auc_band_rate": float(self.scores.loc["band rate", "auc"]),
                **{f"capture_{k}": float(v) for k, v in self.capture.items()}}


def return_model(transactions: pd.DataFrame | None, losses: pd.DataFrame | None, *, observation_end,
                 months: int = 6, max_days_since_loss: int = 90, n_folds: int = 5,
                 top_share: float = 0.2, min_cases: int = 200, min_returns: int = 20,
                 random_state: int = 0) -> ReturnModel | None:
    """Learn P(return within ``months`` | lost ``d`` days ago and not back yet) from the lapses of
    a purchase log (:func:`lapses`).

    Each past lapse becomes one training case seen ``d`` days after its loss was known, ``d``
    drawn (seeded) from 0 to ``max_days_since_loss`` - 1 like the ages of the win-back list;
    lapses that had already returned by then are dropped, and only cases whose window ends by
    ``observation_end`` count. A logistic regression on the state (:func:`lapse_states`) and
    the empirical rate per frequency band are scored on the same ``n_folds`` held-out folds;
    the better Brier score wins. None (not estimable) without a purchase log, or with fewer
    than ``min_cases`` cases or ``min_returns`` returns."""
    if transactions is None or losses is None or "last_purchase" not in losses:
        return None
    end = pd.Timestamp(observation_end)
    rng = np.random.default_rng(random_state)
    d = rng.integers(0, max(int(max_days_since_loss), 1), size=len(losses))
    seen = losses["lost_on"] + pd.to_timedelta(d, unit="D")
    window = pd.Timedelta(days=float(months) * DAYS_PER_MONTH)
    back = losses["returned_on"]
    keep = (seen + window <= end) & ~(back.notna() & (back <= seen))
    if keep.sum() < min_cases:
        return None
    cases = losses[keep]
    y = (back[keep].notna() & (back[keep] <= seen[keep] + window)).to_numpy(dtype=int)
    if y.sum() < min_returns or (len(y) - y.sum()) < min_returns:
        return None
    states = lapse_states(transactions, cases, days_since_loss=d[keep.to_numpy()])
    fold = np.random.default_rng(random_state + 1).permutation(np.arange(len(y)) % n_folds)
    makers = {"logistic": lambda: _Logistic(random_state), "band rate": _BandRate}
    held = {name: np.empty(len(y)) for name in makers}
    for f in range(n_folds):
        test = fold == f
        for name, make in makers.items():
            held[name][test] = make().fit(states[~test], y[~test]).predict(states[test])
    scores = pd.DataFrame({name: {"auc": _auc(y, p), "brier": brier_score(y, p),
                                  "ece": expected_calibration_error(y, p)} for name, p in held.items()}).T
    chosen = "logistic" if scores.loc["logistic", "brier"] < scores.loc["band rate", "brier"] else "band rate"
    value = states["value"].clip(lower=0).to_numpy()
    capture = _capture(held[chosen] * value, value, y * value, top_share=top_share)
    return ReturnModel(months=int(months), chosen=chosen, scores=scores, capture=capture,
                       cases=int(len(y)), returned=int(y.sum()), n_folds=int(n_folds),
                       top_share=float(top_share), model=makers[chosen]().fit(states, y))


def _capture(expected, lost, recovered, *, top_share: float) -> dict:
    """Share of the value that came back held by the top ``top_share`` cases ranked by expected
    recovered value, by lost value alone, and at random (= ``top_share``)."""
    total = float(np.sum(recovered))
    k = int(round(top_share * len(recovered)))
    if total <= 0 or k == 0:
        return {"by_expected": float("nan"), "by_lost_value": float("nan"), "at_random": float(top_share)}

    def top(score):
        return float(np.sum(np.asarray(recovered)[np.argsort(-np.asarray(score), kind="stable")[:k]])) / total

    return {"by_expected": top(expected), "by_lost_value": top(lost), "at_random": float(top_share)}


def listed_states(winback: pd.DataFrame, transactions: pd.DataFrame, losses: pd.DataFrame) -> pd.DataFrame:
    """Each listed customer's state (:func:`lapse_states`) at their open lapse, seen
    ``days_since_loss`` days after the loss; same order as ``winback``."""
    open_ = losses[losses["returned_on"].isna()].drop_duplicates("customer_id", keep="last")
    open_ = open_.set_index("customer_id").reindex(winback["customer_id"])
    return lapse_states(transactions, open_.reset_index(),
                        days_since_loss=winback["days_since_loss"].to_numpy()).set_axis(winback.index)


def rank_by_recovery(winback: pd.DataFrame, models: dict[int, ReturnModel | None],
                     transactions: pd.DataFrame, losses: pd.DataFrame, *,
                     states: pd.DataFrame | None = None) -> pd.DataFrame:
    """The win-back list with P(return) per estimable window and the expected recovered value
    (P(return within the longest estimable window) x lost value), ranked by the latter.

    ``losses``: :func:`lapses` of the log (each listed customer's open lapse gives their state;
    ``states``: those states, :func:`listed_states`, when already computed).
    Without an estimable window the list is returned unchanged (ranked by lost value)."""
    usable = {m: r for m, r in sorted(models.items()) if r is not None}
    if not usable or winback.empty:
        return winback
    if states is None:
        states = listed_states(winback, transactions, losses)
    out = winback.copy()
    for m, r in usable.items():
        out[f"p_return_{m}m"] = r.predict(states)
    longest = max(usable)
    out["expected_recovered_value"] = out[f"p_return_{longest}m"] * out["lost_value"]
    out = out.sort_values(["expected_recovered_value", "lost_value"], ascending=False, kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)


def mix_by_frequency(transactions: pd.DataFrame, losses: pd.DataFrame, listed: pd.DataFrame,
                     p_return, *, observation_end, months: int) -> pd.DataFrame:
    """Why the listed customers' chance of returning differs from the historical win-back rate:
    per band of purchase days (:data:`FREQUENCY_BAND_NAMES`), the past lapses whose ``months``
    window is over (the historical rate's base, :func:`winback_rate`), how many came back and
    their rate, beside the listed customers (``listed``: their :func:`listed_states`) and their
    mean predicted P(return) (``p_return``, same order).

    Columns: ``lapses``, ``returned``, ``rate``, ``lapse_share``, ``listed``, ``listed_share``,
    ``mean_p_return`` (NaN where a band has no case); index: the band names."""
    eligible, back = followed_up(losses, observation_end=observation_end, months=months)
    back = back.astype(float)
    past = _bands(lapse_states(transactions, eligible))
    now = _bands(listed)
    names = list(FREQUENCY_BAND_NAMES)
    k = len(names)
    n_past = np.bincount(past, minlength=k)[:k]
    n_now = np.bincount(now, minlength=k)[:k]
    with np.errstate(invalid="ignore", divide="ignore"):
        returned = np.bincount(past, weights=back, minlength=k)[:k]
        p_sum = np.bincount(now, weights=np.asarray(p_return, dtype=float), minlength=k)[:k]
        out = pd.DataFrame({"lapses": n_past.astype("int64"), "returned": returned.astype("int64"),
                            "rate": returned / n_past, "lapse_share": n_past / max(n_past.sum(), 1),
                            "listed": n_now.astype("int64"), "listed_share": n_now / max(n_now.sum(), 1),
                            "mean_p_return": p_sum / n_now}, index=pd.Index(names, name="purchase days"))
    return out


def mix_figures(mix: pd.DataFrame, *, months: int) -> dict:
    """The reconciliation in numbers: the historical rate (all past lapses), that rate per band
    weighted by the list's mix of purchase days (``rate_for_list_mix``; NaN when a band of the
    list has no past lapse), the list's mean predicted P(return), and the share of past lapses
    and of the list with one purchase day."""
    lapses, listed = mix["lapses"].sum(), mix["listed"].sum()
    covered = (mix["listed"] == 0) | (mix["lapses"] > 0)
    for_mix = (float((mix["listed_share"] * mix["rate"].fillna(0.0)).sum()) if covered.all()
               else float("nan"))
    mean_p = float((mix["mean_p_return"].fillna(0.0) * mix["listed"]).sum() / listed) if listed else float("nan")
    return {"months": int(months), "historical_rate": float(mix["returned"].sum() / lapses) if lapses else float("nan"),
            "rate_for_list_mix": for_mix, "list_mean_p_return": mean_p,
            "one_purchase_day_share_lapses": float(mix["lapse_share"].iloc[0]),
            "one_purchase_day_share_listed": float(mix["listed_share"].iloc[0]),
            "one_purchase_day_rate": float(mix["rate"].iloc[0])}


@dataclass
class WinBack:
    """The win-back section's results: the list (``winback``), the historical win-back rate
    (``rate``, None: not measurable) and the return models per window (``returns``; empty for
    contractual data, a window's model None when not estimable)."""

    winback: pd.DataFrame
    rate: pd.DataFrame | None
    returns: dict
    #: One snapshot: the list holds every customer who had left by ``snapshot_date`` (when each
    #: left is not recorded); None for dated data (the list: the last ``days`` days).
    snapshot_date: pd.Timestamp | None = None
    #: Purchase logs with a return model: :func:`mix_by_frequency` for its longest window (the
    #: list's chance of returning beside the historical rate, band by band); else None.
    mix: pd.DataFrame | None = None
    #: The window of :attr:`mix`, in months.
    mix_months: int | None = None

    def mix_figures(self) -> dict | None:
        """:func:`mix_figures` of :attr:`mix` (None without one)."""
        if self.mix is None:
            return None
        return mix_figures(self.mix, months=int(self.mix_months))

    @property
    def snapshot(self) -> bool:
        return self.snapshot_date is not None


def analyse(data, *, value_col: str | None = "monthly_revenue", days: int = 90,
            months=(6, 12), n_folds: int = 5, random_state: int = 0, lost=None) -> WinBack:
    """The recently lost customers of ``data`` (a :class:`~churn_research.model.ChurnData`; one
    snapshot: every customer who had left by it, see :func:`recently_lost`), ranked by expected
    recovered value where a purchase log shows returns (else by lost value),
    the historical win-back rate and the return models (see the module docstring).

    ``lost``: the lost customers' :func:`lost_value` computed elsewhere (the engine's, which
    reads the transactions in place; None: computed here). With it, contractual data never
    read the transactions (only purchase logs need them, for the lapses and return models)."""
    needs_log = lost is None or data.kind == "non-contractual"
    transactions = data.transactions if needs_log and data.has("transactions") else None
    lost_on = loss_known_dates(data.customers, kind=data.kind, inactivity_days=data.inactivity_days)
    value = lost_value(data.customers, transactions, value_col=value_col) if lost is None else lost
    snapshot = bool(getattr(data, "is_snapshot", False))
    listed = recently_lost(lost_on, value, observation_end=data.observation_end, days=days,
                           snapshot=snapshot)
    losses = past_losses(data.customers, transactions, kind=data.kind, inactivity_days=data.inactivity_days)
    rate = winback_rate(losses, observation_end=data.observation_end)
    returns, mix, longest = {}, None, None
    if data.kind == "non-contractual":
        returns = {m: return_model(transactions, losses, observation_end=data.observation_end, months=m,
                                   max_days_since_loss=days, n_folds=n_folds, random_state=random_state)
                   for m in months}
        usable = [m for m, r in returns.items() if r is not None]
        if usable and not listed.empty:
            states = listed_states(listed, transactions, losses)
            longest = max(usable)
            ranked = rank_by_recovery(listed, returns, transactions, losses, states=states)
            # each listed customer's P(return) as ranked, back in the order of their states
            p = reindexed(ranked[f"p_return_{longest}m"].set_axis(ranked["customer_id"]),
                          listed["customer_id"]).to_numpy()
            mix = mix_by_frequency(transactions, losses, states, p,
                                   observation_end=data.observation_end, months=longest)
            listed = ranked
    return WinBack(winback=listed, rate=rate, returns=returns,
                   snapshot_date=pd.Timestamp(data.observation_end) if snapshot else None, mix=mix,
                   mix_months=longest if mix is not None else None)
