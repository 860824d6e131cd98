"""The one retention playbook: which action each customer gets, used by every list that names
an action (40_segments' ``watchlist.csv`` and 60_retention's ``retention_watchlist.csv``), so that
a customer gets the same action everywhere.

The rules, first match wins (:data:`ACTION_RULES`, applied by :func:`state_actions`):
1. an unresolved complaint in the look-back window → service recovery (by the account manager
   for a high-value customer);
2. a new customer → onboarding (an account-manager welcome for a high-value one);
3. a price-sensitive customer whose likely reason is price → a price offer: a move to an annual plan at a discount for a
   month-to-month customer, a loyalty discount at renewal for one already on an annual or longer
   contract (never "move to annual" to a customer who has it), an account-manager offer for a
   high-value one;
4. any other high-value customer → an account-manager call;
5. a likely reason of service quality (a recent complaint, resolved) → a service follow-up;
6. dissatisfaction → a satisfaction follow-up;
7. disengagement → re-engagement (usage help, no discount);
8. otherwise → a proactive check-in.

No price offer reaches a customer who is not price-sensitive. The likely reason (price, service
quality, dissatisfaction, disengagement) is the heuristic of ``segments`` (its ``PLAYBOOK``); the
action comes from these rules only. Below ``segments`` and ``retention`` in the import layers,
so both use it (``retention.actions`` re-exports its names).
"""


from __future__ import annotations

import numpy as np
import pandas as pd

from churn_research.i18n import N_, label_msg

__all__ = ["ACTION_RULES", "ACTIONS", "long_contract", "open_complaints", "state_actions"]

#: (rule, action, action for a high-value customer); rule names are data labels (label()).
ACTION_RULES = pd.DataFrame([
    (label_msg("unresolved complaint"),
     N_("Service recovery: call back, resolve the open complaint, follow up in 2 weeks"),
     N_("Account-manager call within 48 h: resolve the open complaint, goodwill credit")),
    (label_msg("new customer"),
     N_("Onboarding check-in: help the customer get value from the product"),
     N_("Account-manager welcome call and onboarding plan")),
    (label_msg("price-sensitive, month-to-month"),
     N_("Price offer: move to an annual plan at a discount"),
     N_("Account-manager call with a retention price offer (annual plan at a discount)")),
    (label_msg("price-sensitive, already on a long contract"),
     N_("Price offer: loyalty discount at renewal (already on an annual or longer contract)"),
     N_("Account-manager call with a loyalty discount at renewal")),
    (label_msg("high value"),
     N_("Account-manager call: review needs, tailor the service"),
     N_("Account-manager call: review needs, tailor the service")),
    (label_msg("service quality"),
     N_("Service follow-up: check that the complaint's fix held"),
     N_("Account-manager call: check that the complaint's fix held")),
    (label_msg("dissatisfaction"),
     N_("Satisfaction follow-up: ask what went wrong, fix it, re-survey"),
     N_("Account-manager call: review what went wrong, agree a fix")),
    (label_msg("disengagement"),
     N_("Re-engagement: usage tips and a personalised offer (no discount)"),
     N_("Account-manager call: review needs, tailor the service")),
    (label_msg("no specific signal"),
     N_("Proactive check-in; monitor next month"),
     N_("Account-manager call: review needs, tailor the service")),
], columns=["rule", "action", "action (high value)"])

ACTIONS = set(ACTION_RULES["action"]) | set(ACTION_RULES["action (high value)"])


def long_contract(contract: pd.Series) -> pd.Series:
    """True for an annual, one-year, two-year (or longer) contract; False for month-to-month
    and for a missing contract."""
    s = contract.astype("object").where(contract.notna(), "").astype(str).str.lower()
    return (s.str.contains("annual|year|年") & ~s.str.contains("month|月")).rename("long_contract")


def open_complaints(tickets: pd.DataFrame | None, at, *, days: int = 90) -> pd.Series:
    """Unresolved complaints per customer filed in the ``days`` before ``at`` (0 if none).

    Needs ``customer_id``, ``date``, ``kind`` and ``resolved``; without a ``resolved`` column
    (or without tickets) every count is 0: the data cannot show open complaints."""
    if tickets is None or not {"kind", "resolved"} <= set(tickets.columns):
        return pd.Series(dtype="int64", name="open_complaints")
    at = pd.Timestamp(at)
    tk = tickets[(tickets["date"] <= at) & (tickets["date"] > at - pd.Timedelta(days=days))]
    tk = tk[(tk["kind"].astype(str).str.lower() == "complaint")
            & ~tk["resolved"].astype("boolean").fillna(False).astype(bool)]
    return tk.groupby("customer_id").size().astype("int64").rename("open_complaints")


def state_actions(frame: pd.DataFrame) -> pd.DataFrame:
    """The action that fits each customer's state (rules in the module docstring).

    Parameters
    ----------
    frame : DataFrame
        ``high_value`` (bool), ``tier``, ``price_sensitive`` (bool), ``likely_reason`` and,
        when the data have them, ``contract`` and ``open_complaints`` (count).

    Returns
    -------
    DataFrame with ``rule`` (which rule fired) and ``action``, indexed like ``frame``.
    """
    n = len(frame)
    high = frame["high_value"].astype(bool).to_numpy()
    complaint = (frame["open_complaints"].fillna(0).to_numpy() > 0 if "open_complaints" in frame
                 else np.zeros(n, bool))
    new = frame["tier"].astype(str).to_numpy() == "new"
    price = frame["price_sensitive"].astype(bool).to_numpy()
    longc = (long_contract(frame["contract"]).to_numpy() if "contract" in frame
             else np.zeros(n, bool))
    reason = frame["likely_reason"].astype(str).to_numpy()
    rules = list(ACTION_RULES["rule"])
    price &= reason == "price"
    conditions = [complaint, new, price & ~longc, price & longc, high,
                  reason == "service quality", reason == "dissatisfaction", reason == "disengagement"]
    rule = np.select(conditions, rules[:-1], default=rules[-1])
    book = ACTION_RULES.set_index("rule")
    action = np.where(high, book.loc[rule, "action (high value)"].to_numpy(),
                      book.loc[rule, "action"].to_numpy())
    return pd.DataFrame({"rule": rule, "action": action}, index=frame.index)
