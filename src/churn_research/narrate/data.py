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


# ------------------------------------------------------------------------------------------
# section sentences of the 00_data report
# ------------------------------------------------------------------------------------------
def source_text(data, overview: Mapping[str, Any]) -> str:
    """Where the data come from, how churn is defined, and how many have left."""
    meta = data.meta or {}
    return (f"**Source:** `{meta.get('source')}` — {meta.get('description', 'see parameters')}.  \n"
            f"**Licence:** {meta.get('licence', 'n/a')}.  \n"
            f"**Kind:** {overview['kind']}; **churn definition:** {overview['churn_definition']}.  \n"
            f"**Observation end (snapshot):** {overview['observation_end']:%Y-%m-%d}; everything "
            "after it is unknown, and customers still active then are censored.  \n"
            f"**Customers:** {count(overview['customers'])}, of whom {count(overview['churned'])} "
            f"({pct(overview['churned_share'])}) had churned by the observation end.")


def tables_text(absent: list[str]) -> str:
    """Which of the optional tables are missing."""
    if not absent:
        return "All five tables are present."
    return (f"Not available for this dataset: the {', '.join(absent)} table(s), because the source "
            "has none; later stages skip the sections that need them and say so.")


def missingness_text(missing) -> str:
    """How to read the missing-values table (or that there is none)."""
    if not len(missing):
        return "No column has missing values."
    return ("Missing `end_date` marks customers still active at the observation end (censored), "
            "not an error; other gaps are shown so that analyses using those columns can be read "
            "with care.")


def flows_text(flows, flow_sentence: str) -> str:
    """The base's peak and its level at the observation end, then the joins/losses sentence."""
    peak = flows.loc[flows["active_at_month_end"].idxmax()]
    return (f"The base peaked at {count(peak['active_at_month_end'])} active customers in "
            f"{peak['month']:%B %Y} and stood at {count(flows['active_at_month_end'].iloc[-1])} at "
            f"the observation end. {flow_sentence}")


def caveat_text(note: str | None) -> str:
    """A caveat line (empty without one)."""
    return f"*Caveat:* {note}" if note else ""


def tenure_text(tenure, churned) -> str:
    """Median observed tenure of churned and active customers."""
    return (f"Median observed tenure is {tenure[churned].median():.1f} months for churned "
            f"customers and {tenure[~churned].median():.1f} months (so far) for active ones. "
            "Observed tenure understates lifetime for active customers; the survival stage "
            "accounts for that censoring.")


def personal_text(personal: Mapping[str, list[str]]) -> str:
    """Which personal-data columns were dropped (names only, never values)."""
    if not personal:
        return "No personal-data columns were found."
    return ("Personal-data columns found and dropped before writing processed data (values never "
            "shown): " + "; ".join(f"{t}: {', '.join(cols)}" for t, cols in personal.items()) + ".")


def written_text(data, dataset: str) -> str:
    return f"Wrote {len(data.tables())} validated tables for dataset **{dataset}**."
