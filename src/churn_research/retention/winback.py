"""Win-back: the recently lost customers ranked by the value they took with them
(:func:`recently_lost`), and the historical win-back rate, the share of lost customers who came
back within 6 and 12 months, with a Wilson interval (:func:`winback_rate`).

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

Lost value: the customer's revenue in the 365 days before the loss (transactions), or 12 x
their monthly revenue when there are no transactions. The list carries ``customer_id`` only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from churn_research.durations import DAYS_PER_MONTH
from churn_research.i18n import _, is_chinese
from churn_research.model import ChurnDataError, write_atomic
from churn_research.personal import is_personal_header, looks_personal
from churn_research.stats import wilson_ci

__all__ = ["WINBACK_COLUMNS", "loss_known_dates", "lost_value", "recently_lost", "lapses",
           "winback_rate", "contractual_returns", "past_losses", "write_winback"]

WINBACK_COLUMNS = ["rank", "customer_id", "lost_on", "days_since_loss", "lost_value"]


def loss_known_dates(customers: pd.DataFrame, *, kind: str, inactivity_days: int | None) -> pd.Series:
    """The date each lost customer's loss is known (index ``customer_id``)."""
    ended = customers.dropna(subset=["end_date"]).set_index("customer_id")["end_date"]
    if kind == "non-contractual" and inactivity_days:
        ended = ended + pd.Timedelta(days=int(inactivity_days))
    return ended.rename("lost_on")


def lost_value(customers: pd.DataFrame, transactions: pd.DataFrame | None, *,
               value_col: str | None = "monthly_revenue", days: int = 365) -> pd.Series:
    """Revenue in the ``days`` before each lost customer's end date (or 12 x ``value_col``)."""
    ended = customers.dropna(subset=["end_date"]).set_index("customer_id")["end_date"]
    if transactions is not None and len(transactions):
        tx = transactions.join(ended.rename("end"), on="customer_id", how="inner")
        tx = tx[(tx["date"] <= tx["end"]) & (tx["date"] > tx["end"] - pd.Timedelta(days=days))]
        return tx.groupby("customer_id")["amount"].sum().reindex(ended.index, fill_value=0.0).rename("lost_value")
    if value_col and value_col in customers:
        v = customers.set_index("customer_id")[value_col].reindex(ended.index).astype(float)
        return (12.0 * v).rename("lost_value")
    return pd.Series(np.nan, index=ended.index, name="lost_value")


def recently_lost(lost_on: pd.Series, value: pd.Series, *, observation_end, days: int = 90) -> pd.DataFrame:
    """Customers whose loss became known in the last ``days`` days, by lost value (highest first).

    Returns exactly :data:`WINBACK_COLUMNS`.
    """
    end = pd.Timestamp(observation_end)
    recent = lost_on[(lost_on <= end) & (lost_on > end - pd.Timedelta(days=int(days)))]
    df = pd.DataFrame({"lost_on": recent, "lost_value": value.reindex(recent.index).astype(float)})
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
    end = pd.Timestamp(observation_end)
    rows = []
    for m in months:
        window = pd.Timedelta(days=float(m) * DAYS_PER_MONTH)
        eligible = losses[losses["lost_on"] + window <= end]
        back = eligible["returned_on"].notna() & (eligible["returned_on"] <= eligible["lost_on"] + window)
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


def write_winback(winback: pd.DataFrame, path) -> Path:
    """Write the win-back list (only :data:`WINBACK_COLUMNS`: customer_id, never personal data).

    In a Chinese report the headers are Chinese and the file starts with a byte-order mark."""
    if list(winback.columns) != WINBACK_COLUMNS:
        raise ChurnDataError(f"unexpected win-back columns {list(winback.columns)}.", table="winback",
                             fix="build it with recently_lost().")
    bad = [c for c in winback.columns if is_personal_header(str(c))]
    ids = winback["customer_id"].astype(str)
    if bad or ids.map(lambda v: looks_personal(v) is not None).any():
        raise ChurnDataError("personal data must never reach a report.", table="winback",
                             column="customer_id", fix="use an opaque customer id.")
    if is_chinese():
        headers = {"rank": _("rank"), "customer_id": _("customer id"), "lost_on": _("lost on"),
                   "days_since_loss": _("days since the loss"), "lost_value": _("lost value")}
        text = winback.rename(columns=headers).to_csv(index=False, float_format="%.2f")
        return write_atomic(path, "\ufeff" + text)
    return write_atomic(path, winback.to_csv(index=False, float_format="%.2f"))


def past_losses(customers: pd.DataFrame, transactions: pd.DataFrame | None, *, kind: str,
                inactivity_days: int | None) -> pd.DataFrame | None:
    """The losses the data can follow up: every lapse of a purchase log (non-contractual), or
    ends followed by a new start of the same id (contractual); None when not measurable."""
    if kind == "non-contractual" and transactions is not None and inactivity_days:
        return lapses(transactions, inactivity_days=int(inactivity_days))
    return contractual_returns(customers)
