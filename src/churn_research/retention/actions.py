"""Actions that fit the customer: the watchlist playbook made state-aware
(:func:`state_actions`), open complaints at a date (:func:`open_complaints`), and the check of
the "likely reason" heuristic against the exit reasons the data record
(:func:`reason_validation`).

The rules, first match wins (:data:`ACTION_RULES`):

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

No price offer reaches a customer who is not price-sensitive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_research.i18n import N_, label_msg

__all__ = ["ACTION_RULES", "ACTIONS", "long_contract", "open_complaints", "state_actions",
           "reason_validation", "DEFAULT_REASON_MAP"]

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

#: recorded exit reason (synthetic data's churn_reason) -> the heuristic's reason it corresponds to
DEFAULT_REASON_MAP = {"price": "price", "competitor": "price", "service_quality": "service quality",
                      "product_quality": "dissatisfaction", "needs_changed": "disengagement"}


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


def states_available(state: pd.DataFrame, *, has_tickets: bool) -> list[str]:
    """The customer states the playbook can read in these data, in the order the report names
    them: ``contract`` (a contract column), ``value``, ``tenure``, ``open complaints`` (a
    tickets table) and ``price sensitivity`` (some customer is price-sensitive)."""
    out = ["contract"] if "contract" in state else []
    out += ["value", "tenure"]
    if has_tickets:
        out.append("open complaints")
    if "price_sensitive" in state and bool(state["price_sensitive"].fillna(False).astype(bool).any()):
        out.append("price sensitivity")
    return out


def reason_validation(heuristic: pd.Series, recorded: pd.Series, *,
                      mapping: dict | None = None) -> dict | None:
    """The likely-reason heuristic against the recorded exit reasons of the same customers.

    ``recorded`` reasons are mapped onto the heuristic's vocabulary (``mapping``, default
    :data:`DEFAULT_REASON_MAP`; a reason not in it becomes "other", which the heuristic never
    names). Accuracy is the share of churners whose heuristic reason equals the mapped recorded
    one; the base rate is the accuracy of always naming the most frequent mapped reason.

    Returns None when no customer has both; else ``confusion`` (rows: recorded, mapped;
    columns: heuristic), ``accuracy``, ``base_rate``, ``base_reason`` (with ``base_sources``: the
    recorded reasons the mapping folds into it), ``customers`` and
    ``per_reason`` (recall of each mapped reason).
    """
    mapping = DEFAULT_REASON_MAP if mapping is None else mapping
    both = pd.DataFrame({"heuristic": heuristic, "recorded": recorded}).dropna()
    both = both[both["recorded"].astype(str).str.len() > 0]
    if both.empty:
        return None
    truth = both["recorded"].astype(str).map(lambda r: mapping.get(r, "other"))
    guess = both["heuristic"].astype(str)
    confusion = pd.crosstab(truth.rename("recorded"), guess.rename("heuristic"))
    shares = truth.value_counts(normalize=True)
    hit = guess.to_numpy() == truth.to_numpy()
    per_reason = pd.Series(hit, index=truth.index).groupby(truth.to_numpy()).mean()
    base = str(shares.index[0])
    raw = both["recorded"].astype(str)
    sources = sorted(raw[truth == base].unique().tolist())
    return {"confusion": confusion, "accuracy": float(hit.mean()), "base_rate": float(shares.iloc[0]),
            "base_reason": base, "base_sources": sources, "customers": int(len(both)),
            "per_reason": per_reason.rename("recall")}
