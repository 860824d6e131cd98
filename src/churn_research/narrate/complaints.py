"""What the complaint-handling and growth sections of 10_indicators show and say: display-ready
tables and sentences (the notebook calls, shows and says; it builds nothing itself)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churn_research.i18n import _, label, t
from churn_research.indicators.complaints import ComplaintHandling, band_label
from churn_research.indicators.figures import has_trend
from churn_research.indicators.growth import growth_table, mean_growth
from churn_research.narrate.format import (
    count,
    not_available,
    pct,
    pct_ci,
    pvalue,
    ratio_ci,
    seasonality_sentence,
)
from churn_research.wording import gap

__all__ = ["Md", "growth_views", "complaint_handling_views"]


class Md(str):
    """A Markdown text that ``display()`` renders (as IPython's ``Markdown``)."""

    def _repr_markdown_(self) -> str:
        return str(self)


def _style(frame: pd.DataFrame, formats: dict[str, Any]):
    return frame.style.format(formats, na_rep="–").hide(axis="index")


# --- growth ----------------------------------------------------------------------------------
def growth_views(table: pd.DataFrame, *, unit: str, last: int = 12) -> list:
    """The growth table (customers at start and end, joins, losses, net adds, growth rate) of
    the last ``last`` periods and its sentence; one "not available" line for one snapshot."""
    if not has_trend(table):
        return [Md(not_available(_("customer growth, acquisition and net adds per period"),
                                 _("the data are one snapshot, not a series of periods")))]
    g = growth_table(table)
    returns = bool(g["returns"].sum())
    cols = {"period": _("Period"), "customers_start": _("Customers at start"), "joins": _("Joins"),
            **({"returns": _("Returns")} if returns else {}), "losses": _("Losses"),
            "net_adds": _("Net adds"), "customers_end": _("Customers at end"),
            "growth_rate": _("Growth rate")}
    view = g[list(cols)].tail(last).rename(columns=cols)
    fmt = {v: "{:,}" for k, v in cols.items() if k not in ("period", "growth_rate")}
    fmt[cols["net_adds"]] = "{:+,}"
    fmt[cols["growth_rate"]] = "{:+.2%}"
    full = g[~g["partial"].astype(bool)]
    lt = full.iloc[-1]
    first, mean = mean_growth(g)
    values = {"period": lt["period"], "joins": count(lt["joins"]), "losses": count(lt["losses"]),
              "net": f"{int(lt['net_adds']):+,}", "rate": f"{lt['growth_rate']:+.2%}",
              "start": count(lt["customers_start"]), "end": count(lt["customers_end"]),
              "first": first["period"], "first_n": count(first["customers_start"]),
              "mean": f"{mean:+.2%}", "unit": label(unit),
              "mean_joins": count(round(full["joins"].mean())), "returns": count(lt["returns"])}
    said = (t("In {period} {joins} customers joined, {returns} came back after a lapse and {losses} "
              "were lost: net adds {net}, a growth rate of {rate} (customers {start} → {end}).",
              **values) if returns else
            t("In {period} {joins} customers joined and {losses} were lost: net adds {net}, a "
              "growth rate of {rate} (customers {start} → {end}).", **values))
    said += gap() + t("Since {first} ({first_n} customers at its start) the base grew by {mean} per "
                      "{unit} on average (compound), with {mean_joins} joins per {unit}. Net adds = joins "
                      "(+ returns) − losses, so customers at start + net adds = customers at end; the "
                      "growth rate is net adds / customers at start.", **values)
    return [_style(view, fmt), Md(said)]


# --- complaint handling ------------------------------------------------------------------------
_MEASURES = {
    "complaint share per period": lambda: _("Share of customers on the books complaining per period"),
    "resolution rate": lambda: _("Complaints resolved"),
    "resolved within target": lambda: _("Complaints resolved within the service target"),
    "median days to resolution": lambda: _("Median days to resolution"),
}


def _chart_text(ch: ComplaintHandling, *, imp_unit: str) -> str:
    if ch.chart is None:
        return not_available(_("the complaint-rate control chart"),
                             _("there is no business change date to set a baseline before")
                             if "chart" not in ch.notes else ch.notes["chart"])
    c, cc = ch.chart, ch.churn_chart
    flagged = ", ".join(c.flagged_) or _("none")
    churn_flagged = ", ".join(cc.flagged_) or _("none") if cc is not None else _("none")
    return t("**Early warning.** The share of customers on the books who complain per {unit} has its own "
             "{chart}-chart (limits from the {unit}s before {date}), drawn under churn's: centre line "
             "{center}; {unit}s above the upper limit: {flagged} (churn's chart: {churn_flagged}). "
             "A complaint share breaking out before churn does is the earliest signal the data give.",
             unit=label(imp_unit), chart=c.chart_, date=f"{c.baseline_end_:%Y-%m-%d}",
             center=pct(c.center_, 2), flagged=flagged, churn_flagged=churn_flagged) \
        + seasonality_sentence(c)


def _segment_views(ch: ComplaintHandling, *, unit: str) -> list:
    if ch.segments is None or not len(ch.segments):
        return []
    s = ch.segments.copy()
    s["segment"] = s["segment"].map(label)
    s["level"] = s["level"].map(label)
    cols = {"segment": _("Segment"), "level": _("Level"), "active": _("Active customer-periods"),
            "complainants": _("Complaining"), "share": _("Share complaining"),
            "ci_low": _("95% CI low"), "ci_high": _("95% CI high")}
    view = s[list(cols)].rename(columns=cols)
    fmt = {cols["active"]: "{:,}", cols["complainants"]: "{:,}", cols["share"]: "{:.1%}",
           cols["ci_low"]: "{:.1%}", cols["ci_high"]: "{:.1%}"}
    top = ch.segments.loc[ch.segments["share"].idxmax()]
    said = t("Complaint share per {unit} by segment, pooled over the complete {unit}s: highest in "
             "{segment} = {level} ({share}).", unit=label(unit), segment=label(top["segment"]),
             level=label(top["level"]), share=pct_ci(top["share"], top["ci_low"], top["ci_high"]))
    return [_style(view, fmt), Md(said)]


def _resolution_views(ch: ComplaintHandling, *, unit: str, last: int = 8) -> list:
    r = ch.resolution
    cols = {"period": _("Period"), "complaints": _("Complaints"),
            "resolution_rate": _("Resolved"), "median_days": _("Median days to resolution"),
            "within_target_rate": t("Resolved within {d} days", d=f"{ch.service_target_days:g}")}
    view = r[list(cols)].tail(last).rename(columns=cols)
    fmt = {cols["complaints"]: "{:,}", cols["resolution_rate"]: "{:.1%}",
           cols["median_days"]: "{:.1f}", cols["within_target_rate"]: "{:.1%}"}
    tot, due = r["complaints"].sum(), r["due"].sum()
    full = r[~r["partial"].astype(bool) & (r["complaints"] > 0)]
    lt = full.iloc[-1] if len(full) else r.iloc[-1]
    said = t("Of {n} complaints in the window {resolved} were resolved by the snapshot and {within} "
             "within the service target of {d} days (parameter `service_target_days`; of those old "
             "enough to judge). In {period}: {rate} resolved, median {median} days, {within_now} "
             "within target.", n=count(tot), resolved=pct(r["resolved"].sum() / tot),
             within=pct(r["within_target"].sum() / due) if due else "–",
             d=f"{ch.service_target_days:g}", period=lt["period"],
             rate=pct_ci(lt["resolution_rate"], lt["resolution_ci_low"], lt["resolution_ci_high"]),
             median=f"{lt['median_days']:.1f}",
             within_now=pct_ci(lt["within_target_rate"], lt["within_ci_low"], lt["within_ci_high"]))
    return [_style(view, fmt), Md(said)]


def _dose_views(ch: ComplaintHandling) -> list:
    d = ch.dose
    a = d.attrs
    view = d.assign(band=d["band_label"])
    cols = {"band": _("Resolution time"), "complaints": _("Complaints"),
            "churned": t("Left within {n} days", n=a["within_days"]),
            "churn_rate": _("Churn"), "ci_low": _("95% CI low"), "ci_high": _("95% CI high")}
    view = view[list(cols)].rename(columns=cols)
    fmt = {cols["complaints"]: "{:,}", cols["churned"]: "{:,}", cols["churn_rate"]: "{:.1%}",
           cols["ci_low"]: "{:.1%}", cols["ci_high"]: "{:.1%}"}
    said = t("**Churn after a complaint, by how it was handled.** Of the customers who complained, "
             "{res} left within {n} days after a complaint that was resolved and {unres} after one "
             "that never was (risk ratio {rr}, {p}). By resolution time churn goes from {first} "
             "({first_band}) to {slow} ({slow_band}); Cochran–Armitage trend test over the ordered "
             "bands z = {z}, {trend_p}.", n=a["within_days"], res=pct(a["resolved_rate"]),
             unres=pct(a["unresolved_rate"]),
             rr=ratio_ci(a.get("risk_ratio"), a.get("risk_ratio_ci_low"), a.get("risk_ratio_ci_high")),
             p=pvalue(a.get("risk_ratio_p")), first=pct(d["churn_rate"].iloc[0]),
             first_band=band_label(d["band"].iloc[0]), slow=pct(d["churn_rate"].iloc[-2]),
             slow_band=band_label(d["band"].iloc[-2]), z=f"{a['trend_z']:.2f}",
             trend_p=pvalue(a["trend_p"]))
    said += gap() + t("Each complaint is followed for {n} days (the {excluded} more recent ones cannot "
                      "be yet; a complaint within {n} days after an earlier one of the same customer is "
                      "not counted again). Outside generated data read the bands as a description: a "
                      "customer who leaves first may have their complaint closed unresolved because "
                      "they left.", n=a["within_days"], excluded=count(a["excluded_followup"]))
    out = [_style(view, fmt), Md(said)]
    if ch.truth is not None and "excess" in a:
        p_un = ch.truth["extra_churn_prob"]["unresolved"]
        base = float(d["churn_rate"].iloc[0])
        lo_true, hi_true = p_un * (1 - base), p_un
        covered = a["excess_ci_low"] <= hi_true and a["excess_ci_high"] >= lo_true
        out.append(Md(t("**Truth check (generated data).** The generator makes a customer whose "
                        "complaint is still open after {slow} days leave while waiting with "
                        "probability {p_slow} (resolved later) or {p_un} (never resolved). The excess "
                        "churn of never-resolved over the fastest band should therefore lie between "
                        "{lo} and {hi} (the extra exit only counts if the customer has not left "
                        "already); estimated {excess}: {verdict}.",
                        slow=f"{ch.truth['slow_days']:g}",
                        p_slow=pct(ch.truth["extra_churn_prob"]["slow"]), p_un=pct(p_un),
                        lo=pct(lo_true), hi=pct(hi_true),
                        excess=pct_ci(a["excess"], a["excess_ci_low"], a["excess_ci_high"]),
                        verdict=_("recovered") if covered else _("not recovered"))))
    return out


def _change_views(ch: ComplaintHandling) -> list:
    c = ch.change.copy()
    is_share = c["measure"] != "median days to resolution"
    c["measure"] = c["measure"].map(lambda m: _MEASURES[m]())

    def shown(v, share):
        return pct(v, 2) if share else f"{v:.1f}"

    c["before"] = [shown(v, s) for v, s in zip(c["before"], is_share, strict=True)]
    c["after"] = [shown(v, s) for v, s in zip(c["after"], is_share, strict=True)]
    c["p_value"] = c["p_value"].map(pvalue)
    cols = {"measure": _("Measure"), "before": _("Before"), "after": _("After"), "p_value": _("Test")}
    view = c[list(cols)].rename(columns=cols)
    changed = [m for m, p in zip(view[cols["measure"]], ch.change["p_value"], strict=True)
               if np.isfinite(p) and p < 0.05]
    said = t("Complaints before vs after the business change ({date}): the complaint share pools "
             "the periods on each side (score test); resolution rates compare complaints made "
             "before and after (two-proportion z-test), the median days a Mann–Whitney test. "
             "Clearly different (p < 0.05): {changed}.", date=ch.change.attrs["event_date"],
             changed=", ".join(changed) if changed else _("none"))
    if ch.change.attrs.get("seasonal"):
        said += gap() + _("The complaint share's “before” is seasonally expected, as in the control "
                          "chart: the before rate of each calendar month applied to the after "
                          "periods (a z test of observed vs expected), so a recurring peak is not "
                          "read as a change.")
    return [view.style.hide(axis="index"), Md(said)]


def complaint_handling_views(ch: ComplaintHandling, *, unit: str, imp_unit: str) -> list:
    """Everything the complaint-handling section displays, in order (tables and Markdown); a
    dataset without tickets gets one "not available" line."""
    if not ch.available.get("complaints"):
        return [Md(not_available(_("complaint handling (complaint-rate control chart, resolution, "
                                   "churn after resolved and unresolved complaints)"),
                                 _("the data have no complaint tickets")))]
    out: list = [Md(_chart_text(ch, imp_unit=imp_unit)), *_segment_views(ch, unit=unit)]
    if not ch.available.get("resolution"):
        out.append(Md(not_available(_("resolution rate, time to resolution and churn by resolution"),
                                    _("the tickets have no resolved / resolution_days columns"))))
        return out
    out += _resolution_views(ch, unit=unit) + _dose_views(ch)
    if ch.change is not None and len(ch.change):
        out += _change_views(ch)
    return out
