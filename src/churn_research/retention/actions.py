"""Actions that fit the customer: the watchlist playbook made state-aware
(:func:`state_actions`), open complaints at a date (:func:`open_complaints`), and the check of
the "likely reason" heuristic against the exit reasons the data record
(:func:`reason_validation`).

The rules (first match wins) are :data:`ACTION_RULES` of :mod:`churn_research.playbook`, listed
in that module's docstring; 40_segments' watchlist uses them too, so a customer gets the same
action in both lists.
"""

from __future__ import annotations

import pandas as pd

# the one rule set lives below both stages (40_segments uses it too); re-exported here
from churn_research.playbook import (
    ACTION_RULES,
    ACTIONS,
    long_contract,
    open_complaints,
    state_actions,
)

__all__ = ["ACTION_RULES", "ACTIONS", "long_contract", "open_complaints", "state_actions",
           "states_available", "reason_validation", "DEFAULT_REASON_MAP"]

#: recorded exit reason (synthetic data's churn_reason) -> the heuristic's reason it corresponds to
DEFAULT_REASON_MAP = {"price": "price", "competitor": "price", "service_quality": "service quality",
                      "product_quality": "dissatisfaction", "needs_changed": "disengagement"}


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
