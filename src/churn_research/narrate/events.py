"""How the every-business-event section of 10_indicators reads (one row per event)."""

from __future__ import annotations

import pandas as pd

from churn_research.i18n import _, is_chinese, label, t
from churn_research.model import yes_no
from churn_research.narrate.complaints import Md
from churn_research.narrate.format import MISSING, not_available, pct, pvalue, ratio_ci, readable

__all__ = ["events_views"]


def _sep() -> str:
    """How a list of names is joined in the report language."""
    return "、" if is_chinese() else ", "


def _pct_ci(value, low, high) -> str:
    """A signed percentage with its interval: ``+1.2% (95% CI -0.3 to +2.7%)``."""
    if pd.isna(value):
        return MISSING
    return t("{value}% (95% CI {low} to {high}%)", value=f"{value:+.1f}", low=f"{low:+.1f}",
             high=f"{high:+.1f}")


_MEASURES = {"mean CSAT": lambda: _("Mean satisfaction (CSAT, 1–5)"), "NPS": lambda: _("NPS"),
             "complaint share per period": lambda: _("Share of customers on the books complaining")}


def _experience_views(exp: pd.DataFrame) -> list:
    """Satisfaction, NPS and complaint share before vs after each event."""
    if exp.empty:
        return [Md(not_available(_("satisfaction, NPS and complaints before/after each event"),
                                 _("the data have neither surveys nor complaint tickets on both "
                                   "sides of an event")))]
    share = exp["measure"] == "complaint share per period"

    def shown(v, is_share, signed=False):
        if pd.isna(v):
            return MISSING
        return (f"{100 * v:+.2f}" if signed else pct(v, 2)) if is_share else \
            (f"{v:+.2f}" if signed else f"{v:.2f}")

    cols = {"event": _("Event"), "measure": _("Measure"), "before": _("Before"), "after": _("After"),
            "difference": _("Difference (95% CI)"), "p_value": _("Test")}
    view = pd.DataFrame({
        cols["event"]: exp["event"].map(readable),
        cols["measure"]: exp["measure"].map(lambda m: _MEASURES[m]()),
        cols["before"]: [shown(v, s) for v, s in zip(exp["before"], share, strict=True)],
        cols["after"]: [shown(v, s) for v, s in zip(exp["after"], share, strict=True)],
        cols["difference"]: [t("{d} ({lo} to {hi})", d=shown(d, s, True), lo=shown(lo, s, True),
                               hi=shown(hi, s, True)) + (_(" points") if s else "")
                             for d, lo, hi, s in zip(exp["difference"], exp["ci_low"],
                                                     exp["ci_high"], share, strict=True)],
        cols["p_value"]: exp["p_value"].map(pvalue),
    })
    several = exp["event"].nunique() > 1
    changed = [(f"{readable(e)}: " if several else "") + _MEASURES[m]() for e, m, p in
               zip(exp["event"], exp["measure"], exp["p_value"], strict=True) if pd.notna(p) and p < 0.05]
    said = t("Satisfaction, recommendation and complaints on the same windows: survey answers dated "
             "between the previous event and the event against those between the event and the next "
             "one (Welch t test for CSAT, normal test for NPS), the complaint share pooled over the "
             "periods on each side (score test; the difference in percentage points). Clearly "
             "different (p < 0.05): {changed}.", changed=("；" if is_chinese() else "; ").join(changed) or _("none"))
    return [view.style.hide(axis="index"), Md(said)]


def events_views(result, *, unit: str) -> list:
    """The per-event table and its sentences, then satisfaction, NPS and complaints before and
    after each event (``result``: :class:`~churn_research.indicators.events.EventsImpact`); one
    "not available" line without events."""
    if result is None:
        return [Md(not_available(_("before/after and interrupted time series for every business "
                                   "event"), _("no business change is recorded (no events table)")))]
    table = result.table
    u = label(unit)
    cols = {"event": _("Event"), "date": _("Date"), "window": _("Window"),
            "periods": t("{unit_cap}s before / after", unit_cap=u.capitalize()),
            "rates": _("Churn before → after"), "ratio": _("Before/after ratio"),
            "level": _("ITS level change (ratio)"),
            "slope": t("ITS slope change per {unit}", unit=u), "seasonal": _("Month terms"),
            "note": _("Note")}
    view = pd.DataFrame({
        cols["event"]: table["event"].map(readable),
        cols["date"]: pd.to_datetime(table["date"]).dt.strftime("%Y-%m-%d"),
        cols["window"]: table["window"].fillna(MISSING),
        cols["periods"]: [MISSING if pd.isna(b) else f"{int(b)} / {int(a)}"
                          for b, a in zip(table["periods_before"], table["periods_after"], strict=True)],
        cols["rates"]: [MISSING if pd.isna(b) else f"{pct(b, 2)} → {pct(a, 2)}"
                        for b, a in zip(table["rate_before"], table["rate_after"], strict=True)],
        cols["ratio"]: [ratio_ci(*r) for r in table[["ratio", "ratio_ci_low", "ratio_ci_high"]].to_numpy()],
        cols["level"]: [ratio_ci(*r) for r in
                        table[["level_ratio", "level_ratio_ci_low", "level_ratio_ci_high"]].to_numpy()],
        cols["slope"]: [_pct_ci(*r) for r in table[["slope_change_pct", "slope_change_pct_ci_low",
                                                     "slope_change_pct_ci_high"]].to_numpy()],
        cols["seasonal"]: [MISSING if pd.isna(s) else label(yes_no(bool(s))) for s in table["seasonal"]],
        cols["note"]: table["note"].fillna(""),
    })
    if not view[cols["note"]].str.len().any():
        view = view.drop(columns=cols["note"])
    intro = (t("**Every business event** ({n} recorded or chosen by the parameter `events`). Each "
               "event is analysed on its own window: its \"before\" {unit}s start at the previous "
               "event and its \"after\" {unit}s end before the next one, so no {unit} is credited "
               "to two changes and each event's pre-trend is the regime the previous change left "
               "behind. The level change is the ITS ratio at the event (a hazard ratio for the "
               "cloglog link), the slope change the change in churn's trend per {unit}.",
               n=len(table), unit=u)
             if len(table) > 1 else
             t("**Every business event**: the data record one business change ({event}, {date}), "
               "so its window is the whole series and its row repeats the analysis above.",
               event=readable(table["event"].iloc[0]), date=f"{pd.Timestamp(table['date'].iloc[0]):%Y-%m-%d}"))
    worse = [readable(e) for e, lo in zip(table["event"], table["level_ratio_ci_low"], strict=True)
             if pd.notna(lo) and lo > 1]
    better = [readable(e) for e, hi in zip(table["event"], table["level_ratio_ci_high"], strict=True)
              if pd.notna(hi) and hi < 1]
    said = t("Churn jumped clearly at: {worse}; dropped clearly at: {better}.",
             worse=_sep().join(worse) or _("none"), better=_sep().join(better) or _("none"))
    return [Md(intro), view.style.hide(axis="index"), Md(said), *_experience_views(result.experience)]
