"""Findings of 00_data: what the data hold and how churn is defined."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from churn_research.model import TABLES
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import count, get, pct, plural, text


def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: how many customers, what kind of data, how many have left."""
    n, lost = get(figures, "n_customers"), get(figures, "n_churned")
    kind = get(figures, "kind", context.get("kind", "contractual"))
    obs = get(figures, "observation_end", context.get("observation_end"))
    headline = (f"{count(n)} customers ({kind} data, observed to {text(obs)}); {count(lost)} of them "
                f"({pct(get(figures, 'churned_share'))}) had left by then.")
    present = [t for t in TABLES if get(figures, f"rows.{t}") is not None]
    absent = [t for t in TABLES if t not in present]
    keys = [Finding("Tables: " + ", ".join(f"{t} ({plural(get(figures, f'rows.{t}'), 'row')})"
                                            for t in present) + ".", "What does each table hold")]
    if kind == "non-contractual":
        keys.append(Finding(
            f"Churn is inferred: a customer counts as lost after {context.get('inactivity_days', 180)} "
            "days without a purchase, dated at the last purchase.", "how is churn defined"))
    if context.get("snapshot"):
        keys.append(Finding("The data are one snapshot: exits are recorded only for its last "
                            "month." + (f" The snapshot date {context['snapshot']} is a convention "
                                        "of this project: the public file carries no date."
                                        if get(figures, "source") == "telco" else ""),
                            "how is churn defined"))
    if context.get("records_start"):
        keys.append(Finding(
            f"Records start on {context['records_start']}: customers who joined earlier are known "
            "only because they were still customers then (left truncation), and every stage lets "
            "them enter at their tenure on that date.", "How did the customer base evolve"))
    dropped = get(figures, "personal_columns_dropped", 0)
    keys.append(Finding(
        f"{plural(dropped, 'column')} that may hold personal data "
        f"{'was' if dropped == 1 else 'were'} dropped before anything was written." if dropped else "No columns holding personal data were found.", "Personal data"))
    unavailable = ([f"Not available for this dataset: the {', '.join(absent)} table(s), because the "
                    "source has none; the stages skip what needs them."] if absent else [])
    return StageFindings("00_data", dataset, headline, keys, unavailable)
