"""Textbook value formulas: :func:`simple_clv` ("spend x frequency x years x margin"),
:func:`churn_cost` (lost customers, revenue, profit and the cost of replacing them) and
:func:`period_discount_rate`. Both formulas reproduce their standard worked examples exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from churn_research.models.base import scalar_or_array


# ========================================================================================
# textbook formulas
# ========================================================================================
@dataclass(frozen=True)
class SimpleCLV:
    """Result of :func:`simple_clv` (scalars, or arrays for vector inputs).

    Attributes
    ----------
    annual_revenue : spend per purchase x purchases per year.
    lifetime_revenue : revenue over ``years`` (present value when ``discount_rate > 0``).
    clv : lifetime profit, ``lifetime_revenue x margin`` (the customer lifetime value).
    """

    annual_revenue: float
    lifetime_revenue: float
    clv: float

    def key_figures(self) -> dict:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One-column table for display."""
        return pd.DataFrame({"value": pd.Series(self.key_figures())})


def _annuity_factor(years, discount_rate):
    """Sum of ``(1 + d)^-t`` for t = 1..years (end-of-year payments); ``years`` if d = 0."""
    years = np.asarray(years, dtype=float)
    d = np.asarray(discount_rate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(d == 0, years, (1.0 - (1.0 + d) ** (-years)) / np.where(d == 0, 1.0, d))
    return factor


def simple_clv(spend_per_purchase, purchases_per_year, years, margin, discount_rate=0.0) -> SimpleCLV:
    """The textbook CLV: spend x frequency x years x margin.

    Parameters
    ----------
    spend_per_purchase : float or array
        Average revenue per purchase.
    purchases_per_year : float or array
        Purchases per customer per year.
    years : float or array
        Expected customer lifetime in years.
    margin : float or array
        Profit margin (fraction of revenue).
    discount_rate : float, default 0.0
        Annual discount rate. Each year's revenue is received at the end of the year, so the
        lifetime revenue is ``annual x (1 - (1 + d)^-years) / d`` (an ordinary annuity; it is
        ``annual x years`` when ``d = 0``; fractional years are allowed).

    Returns
    -------
    SimpleCLV
        ``annual_revenue``, ``lifetime_revenue`` and ``clv`` (lifetime profit).

    Examples
    --------
    The standard worked example: 100 per week for 50 weeks a year is 5,000 a year; over 10
    years 50,000 of revenue; at a 10% margin 5,000 of profit.

    >>> simple_clv(100, 50, 10, 0.10)
    SimpleCLV(annual_revenue=5000.0, lifetime_revenue=50000.0, clv=5000.0)
    """
    annual = np.asarray(spend_per_purchase, dtype=float) * np.asarray(purchases_per_year, dtype=float)
    if np.any(np.asarray(years, dtype=float) < 0):
        raise ValueError("years must be >= 0.")
    if np.any(np.asarray(discount_rate, dtype=float) <= -1):
        raise ValueError("discount_rate must be > -1 (e.g. 0.1 for 10% a year).")
    revenue = annual * _annuity_factor(years, discount_rate)
    profit = revenue * np.asarray(margin, dtype=float)
    return SimpleCLV(scalar_or_array(annual), scalar_or_array(revenue), scalar_or_array(profit))


@dataclass(frozen=True)
class ChurnCost:
    """Result of :func:`churn_cost` (per period of ``churn_rate``, usually a year).

    Attributes
    ----------
    lost_customers : customers x churn rate.
    lost_revenue : lost customers x revenue per customer.
    lost_profit : lost revenue x margin.
    retention_cost_per_customer : what retaining one customer costs (input; NaN if not given).
    acquisition_cost_per_customer : ``acquisition_cost_multiple`` x the retention cost.
    replacement_cost : lost customers x acquisition cost (what winning as many new customers
        would cost; NaN without a retention cost).
    retention_cost : lost customers x retention cost (what keeping them would have cost).
    """

    lost_customers: float
    lost_revenue: float
    lost_profit: float
    retention_cost_per_customer: float
    acquisition_cost_per_customer: float
    replacement_cost: float
    retention_cost: float

    def key_figures(self) -> dict:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One-column table for display."""
        return pd.DataFrame({"value": pd.Series(self.key_figures())})


def churn_cost(customers, churn_rate, revenue_per_customer, margin, acquisition_cost_multiple=5.0,
               *, retention_cost_per_customer=None) -> ChurnCost:
    """The cost of churn: lost customers, revenue and profit, and the cost of replacing them.

    Parameters
    ----------
    customers : float
        Customers at the start of the period.
    churn_rate : float
        Share lost during the period (e.g. 0.05).
    revenue_per_customer : float
        Revenue of one customer per period.
    margin : float
        Profit margin.
    acquisition_cost_multiple : float, default 5.0
        "Acquiring a customer costs about five times retaining one": the acquisition cost is
        this multiple of ``retention_cost_per_customer``.
    retention_cost_per_customer : float, optional
        What it costs to retain one customer. Without it the replacement cost cannot be put in
        money and is NaN (the rule of thumb only gives the ratio).

    Returns
    -------
    ChurnCost

    Examples
    --------
    5,000 customers with 5% churn lose 250; at 8,000 of revenue each that is 2,000,000 of
    revenue, and at a 10% margin 200,000 of profit.

    >>> c = churn_cost(5000, 0.05, 8000, 0.10)
    >>> c.lost_customers, c.lost_revenue, c.lost_profit
    (250.0, 2000000.0, 200000.0)
    """
    if np.any(np.asarray(churn_rate, dtype=float) < 0) or np.any(np.asarray(churn_rate, dtype=float) > 1):
        raise ValueError(f"churn_rate must be a fraction in [0, 1], got {churn_rate!r}.")
    lost = float(customers) * float(churn_rate)
    lost_revenue = lost * float(revenue_per_customer)
    lost_profit = lost_revenue * float(margin)
    ret = np.nan if retention_cost_per_customer is None else float(retention_cost_per_customer)
    acq = float(acquisition_cost_multiple) * ret
    return ChurnCost(lost, lost_revenue, lost_profit, ret, acq, lost * acq, lost * ret)


def period_discount_rate(annual_rate: float, period_days: float) -> float:
    """Discount rate per period of ``period_days`` days equivalent to ``annual_rate``.

    ``(1 + annual)^(period_days / 365.25) - 1``; e.g. 10% a year is 0.797% a month.
    """
    if annual_rate <= -1:
        raise ValueError("annual discount rate must be > -1.")
    return (1.0 + float(annual_rate)) ** (float(period_days) / 365.25) - 1.0
