"""Measuring a retention campaign: did contacting customers keep any of them, and did it pay?

The data record a campaign in the optional ``campaigns`` table (``customer_id``, ``date``,
``campaign``, ``treated`` 1/0, optionally ``cost``; README, data model). :func:`outcomes` turns it
into one row per customer of the campaign with the outcome: churned within ``horizon_days``
after the campaign's date. Then

* :func:`randomised_effect` — a randomised holdout (control customers held out at random):
  churn of the treated minus churn of the controls (a risk difference) with Newcombe's hybrid
  score interval (from the arms' Wilson intervals), the customers saved
  (``-difference x treated``), the money saved minus the campaign's cost and its ROI;
* :func:`adjusted_effect` — a campaign whose customers were chosen (not at random): a
  propensity-adjusted estimate (logistic propensity with scikit-learn; inverse probability
  weighting or the doubly robust AIPW), customers outside the overlap trimmed, a bootstrap
  interval, and the assumptions the estimate rests on as sentences in the report language.

Everything takes frames and arrays: this package never imports the loaders or another research
question's package (the notebook composes them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from churn_research.i18n import _, t
from churn_research.lookup import positions
from churn_research.model import ChurnDataError, require_columns
from churn_research.stats import wilson_ci

__all__ = ["CampaignEffect", "outcomes", "newcombe_ci", "randomised_effect", "adjusted_effect",
           "propensity", "randomised_assumptions"]

#: Default horizon: churn counted within this many days after the campaign's date.
DEFAULT_HORIZON_DAYS = 180


@dataclass
class CampaignEffect:
    """The measured effect of one campaign on churn within the horizon.

    ``difference`` is churn of the treated minus churn of the controls (negative = the campaign
    kept customers), with its interval ``ci``; ``saved`` = ``-difference x n_treated`` (and
    ``saved_ci``); ``money_saved`` = ``saved x value_per_customer``, ``net`` = money saved minus
    ``cost``, ``roi`` = ``net / cost`` (None where a value or cost is not given). ``method``:
    ``"randomised"``, ``"ipw"`` or ``"aipw"``; ``trimmed``: customers left out for lack of
    overlap; ``assumptions``: sentences for the report.
    """

    campaign: str
    method: str
    n_treated: int
    n_control: int
    churn_treated: float
    churn_control: float
    difference: float
    ci: tuple[float, float]
    saved: float
    saved_ci: tuple[float, float]
    level: float = 0.95
    value_per_customer: float | None = None
    cost: float | None = None
    money_saved: float | None = None
    net: float | None = None
    roi: float | None = None
    naive_difference: float | None = None
    trimmed: int = 0
    assumptions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Flat figures (for key figures JSON)."""
        out = asdict(self)
        out["ci_low"], out["ci_high"] = out.pop("ci")
        out["saved_low"], out["saved_high"] = out.pop("saved_ci")
        return out


def outcomes(customers: pd.DataFrame, campaigns: pd.DataFrame, *, observation_end,
             horizon_days: int = DEFAULT_HORIZON_DAYS, campaign: str | None = None) -> pd.DataFrame:
    """One row per customer of ``campaign``: ``customer_id``, ``treated`` (0/1), ``cost`` (0 when
    not recorded), ``date`` and ``churned`` (1 = left within ``horizon_days`` after the date).

    Only customers on the books on their campaign date count (a customer already lost cannot be
    kept). ``campaign`` may be left out when the table holds one campaign. Raises
    :class:`ChurnDataError` when the horizon reaches past ``observation_end`` (the outcome would
    be unknown for everyone) or the campaign has no treated or no control customers.
    """
    require_columns(campaigns, "campaigns", ("customer_id", "date", "campaign", "treated"))
    names = pd.unique(campaigns["campaign"])
    if campaign is None:
        if len(names) != 1:
            raise ChurnDataError(f"the campaigns table holds {len(names)} campaigns.",
                                 table="campaigns", column="campaign",
                                 fix=f"name the one to measure (campaign=...; one of "
                                     f"{[str(n) for n in names[:5]]}).")
        campaign = names[0]
    rows = campaigns[campaigns["campaign"] == campaign]
    if rows.empty:
        raise ChurnDataError(f"no rows for campaign {campaign!r}.", table="campaigns",
                             column="campaign", fix=f"use one of {[str(n) for n in names[:5]]}.")
    dates = pd.to_datetime(rows["date"]).to_numpy()
    last = pd.Timestamp(dates.max()) + pd.Timedelta(days=int(horizon_days))
    if last > pd.Timestamp(observation_end):
        raise ChurnDataError(
            f"campaign {campaign!r}: {horizon_days} days after its last date "
            f"({pd.Timestamp(dates.max()).date()}) reach past observation_end "
            f"({pd.Timestamp(observation_end).date()}), so churn within the horizon is unknown.",
            table="campaigns", column="date",
            fix="choose a shorter horizon (horizon_days) or data observed for longer.")
    # each row's customer: positions in the table (only its dates are read, not a copy of it)
    at = positions(pd.Index(customers["customer_id"]), pd.Index(rows["customer_id"]))
    if (at < 0).any():
        raise ChurnDataError(
            f"campaign {campaign!r}: {int((at < 0).sum())} of its rows name a customer who is not "
            "in the customers table.", table="campaigns", column="customer_id",
            fix="every customer a campaign reached must be a row of the customers table.")
    start = pd.to_datetime(customers["start_date"]).to_numpy()[at]
    end = pd.Series(pd.to_datetime(customers["end_date"]).to_numpy()[at])
    active = (start <= dates) & (end.isna() | (end.to_numpy() > dates)).to_numpy()
    churned = (end.notna().to_numpy() & (end.to_numpy() <= dates + np.timedelta64(int(horizon_days), "D")))
    out = pd.DataFrame({
        "customer_id": rows["customer_id"].array,  # as the table holds them (Arrow text stays)
        "date": dates,
        "treated": rows["treated"].astype(int).to_numpy(),
        "cost": (rows["cost"].fillna(0.0).to_numpy(dtype=float) if "cost" in rows
                 else np.zeros(len(rows))),
        "churned": churned.astype(int),
    })[active].reset_index(drop=True)
    for arm, what in ((1, "treated"), (0, "control")):
        if not (out["treated"] == arm).any():
            raise ChurnDataError(
                f"campaign {campaign!r} has no {what} customers on the books on its date, so "
                "its effect cannot be measured.", table="campaigns", column="treated",
                fix="a campaign's effect needs both contacted customers (treated 1) and a "
                    "control group (treated 0).")
    out.attrs["campaign"] = str(campaign)
    return out


def newcombe_ci(x1: int, n1: int, x0: int, n0: int, *, level: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``x1/n1 - x0/n0`` (method 10 of Newcombe 1998),
    built from the two Wilson intervals (:func:`churn_research.stats.wilson_ci`)."""
    alpha = 1 - level
    p1, p0 = x1 / n1, x0 / n0
    (l1, l0), (u1, u0) = wilson_ci(np.array([x1, x0]), np.array([n1, n0]), alpha=alpha)
    d = p1 - p0
    low = d - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return float(low), float(high)


def _money(effect: CampaignEffect, frame: pd.DataFrame, value_per_customer, cost_per_contact):
    """Fill money saved, cost, net and ROI (cost: ``cost_per_contact`` x treated when given,
    else the table's recorded costs of the treated)."""
    treated = frame["treated"] == 1
    cost = (float(cost_per_contact) * int(treated.sum()) if cost_per_contact is not None
            else float(frame.loc[treated, "cost"].sum()) if frame["cost"].gt(0).any() else None)
    effect.cost = cost
    if value_per_customer is not None:
        effect.value_per_customer = float(value_per_customer)
        effect.money_saved = effect.saved * float(value_per_customer)
        if cost is not None:
            effect.net = effect.money_saved - cost
            effect.roi = effect.net / cost if cost > 0 else None
    return effect


def randomised_assumptions() -> list[str]:
    """What a randomised holdout's estimate rests on (sentences in the report language)."""
    return [
        _("Customers were assigned to the campaign or to the control group at random, so the "
          "control group shows how many would have left without the campaign."),
        _("A customer's churn does not depend on whether other customers were contacted."),
        _("Churn is counted the same way in both groups, over the same horizon after the "
          "campaign's date."),
    ]


def randomised_effect(frame: pd.DataFrame, *, value_per_customer: float | None = None,
                      cost_per_contact: float | None = None, level: float = 0.95) -> CampaignEffect:
    """The effect of a randomised campaign on churn within the horizon (``frame`` from
    :func:`outcomes`): churn treated minus churn control with Newcombe's interval, customers
    saved (``-difference x n_treated``), money saved minus the cost, ROI.

    ``value_per_customer``: what keeping one customer is worth (e.g. their residual value from
    the CLV stage); ``cost_per_contact``: the cost of one contact (default: the table's ``cost``).
    """
    tr = frame.loc[frame["treated"] == 1, "churned"]
    co = frame.loc[frame["treated"] == 0, "churned"]
    x1, n1, x0, n0 = int(tr.sum()), len(tr), int(co.sum()), len(co)
    low, high = newcombe_ci(x1, n1, x0, n0, level=level)
    d = x1 / n1 - x0 / n0
    effect = CampaignEffect(
        campaign=str(frame.attrs.get("campaign", "")), method="randomised", n_treated=n1,
        n_control=n0, churn_treated=x1 / n1, churn_control=x0 / n0, difference=d,
        ci=(low, high), saved=-d * n1, saved_ci=(-high * n1, -low * n1), level=level,
        naive_difference=d, assumptions=randomised_assumptions())
    return _money(effect, frame, value_per_customer, cost_per_contact)


def _design(covariates: pd.DataFrame) -> np.ndarray:
    """Covariates as a standardised numeric matrix (categories one-hot, gaps filled)."""
    x = covariates.copy()
    for col in x.columns:
        if pd.api.types.is_bool_dtype(x[col]) or str(x[col].dtype) == "boolean":
            x[col] = x[col].astype(float)
    x = pd.get_dummies(x, drop_first=True, dummy_na=False, dtype=float)
    x = x.astype(float)
    x = x.fillna(x.mean())
    sd = x.std(ddof=0).replace(0, 1.0)
    return ((x - x.mean()) / sd).to_numpy()


def propensity(x: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """P(treated | covariates) from a logistic regression (scikit-learn, lightly penalised)."""
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - heavy import

    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(x, treated)
    return model.predict_proba(x)[:, 1]


def _outcome_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(churned | covariates) within one arm, predicted for everyone (or the arm's mean when
    the arm's outcomes do not vary)."""
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    return LogisticRegression(C=1.0, max_iter=1000).fit(x, y)


def _estimate(x, a, y, method: str, trim: tuple[float, float]) -> tuple[float, int]:
    e = propensity(x, a)
    keep = (e >= trim[0]) & (e <= trim[1])
    x, a, y, e = x[keep], a[keep], y[keep], e[keep]
    w1, w0 = a / e, (1 - a) / (1 - e)
    if method == "ipw":  # normalised (Hajek) weights
        return float((w1 * y).sum() / w1.sum() - (w0 * y).sum() / w0.sum()), int((~keep).sum())
    m1 = _predict(x, a == 1, y)
    m0 = _predict(x, a == 0, y)
    mu1 = m1 + w1 * (y - m1)
    mu0 = m0 + w0 * (y - m0)
    return float(mu1.mean() - mu0.mean()), int((~keep).sum())


def _predict(x, arm, y):
    if len(np.unique(y[arm])) < 2:
        return np.full(len(y), float(y[arm].mean()))
    return _outcome_fit(x[arm], y[arm]).predict_proba(x)[:, 1]


def adjusted_effect(frame: pd.DataFrame, covariates: pd.DataFrame, *, method: str = "aipw",
                    trim: tuple[float, float] = (0.05, 0.95), n_boot: int = 200,
                    level: float = 0.95, random_state: int = 0,
                    value_per_customer: float | None = None,
                    cost_per_contact: float | None = None) -> CampaignEffect:
    """A propensity-adjusted effect of a campaign that chose its customers (not at random).

    ``frame`` from :func:`outcomes`; ``covariates``: one row per row of ``frame`` (same order),
    the customer attributes that may explain who was contacted and who leaves (known on the
    campaign's date). The propensity P(treated | covariates) is a logistic regression;
    customers whose propensity lies outside ``trim`` are left out (no comparable customers in
    the other group: the estimate is for the rest). ``method``: ``"ipw"`` (normalised inverse
    probability weights) or ``"aipw"`` (augmented IPW with a logistic outcome model per arm:
    right if either model is). The interval is a percentile bootstrap over customers (``n_boot``
    resamples, every model refitted, seeded). ``naive_difference``: the unadjusted one.
    """
    if method not in ("ipw", "aipw"):
        raise ValueError(f"method must be 'ipw' or 'aipw', got {method!r}.")
    if len(covariates) != len(frame):
        raise ValueError("covariates must have one row per row of frame.")
    x = _design(covariates.reset_index(drop=True))
    a = frame["treated"].to_numpy(dtype=int)
    y = frame["churned"].to_numpy(dtype=float)
    est, trimmed = _estimate(x, a, y, method, trim)
    rng = np.random.default_rng(random_state)
    boots = []
    for _i in range(int(n_boot)):
        i = rng.integers(0, len(a), len(a))
        if a[i].min() == a[i].max():
            continue
        boots.append(_estimate(x[i], a[i], y[i], method, trim)[0])
    alpha = 1 - level
    low, high = (np.quantile(boots, [alpha / 2, 1 - alpha / 2]) if boots else (np.nan, np.nan))
    n1, n0 = int(a.sum()), int((1 - a).sum())
    naive = float(y[a == 1].mean() - y[a == 0].mean())
    assumptions = [
        _("Every reason why a customer was contacted that also affects churn is among the "
          "covariates used (no unmeasured confounding); the estimate is only as good as this."),
        t("Every kind of customer had a chance both to be contacted and not to be (overlap): "
          "{n} customers with a propensity outside {low} to {high} were left out, so the "
          "estimate is for the others.", n=f"{trimmed:,}", low=f"{trim[0]:.2f}",
          high=f"{trim[1]:.2f}"),
        (_("The propensity model (a logistic regression) describes how customers were chosen.")
         if method == "ipw" else
         _("Either the propensity model or the churn models (logistic regressions) describe the "
           "data well (the estimate is doubly robust).")),
        _("A customer's churn does not depend on whether other customers were contacted."),
    ]
    effect = CampaignEffect(
        campaign=str(frame.attrs.get("campaign", "")), method=method, n_treated=n1, n_control=n0,
        churn_treated=float(y[a == 1].mean()), churn_control=float(y[a == 0].mean()),
        difference=est, ci=(float(low), float(high)), saved=-est * n1,
        saved_ci=(-float(high) * n1, -float(low) * n1), level=level, naive_difference=naive,
        trimmed=trimmed, assumptions=assumptions)
    return _money(effect, frame, value_per_customer, cost_per_contact)
