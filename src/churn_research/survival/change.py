"""The business change as a time-varying exposure (:func:`change_episodes`,
:func:`fit_change_cox`) and acquisition cohorts before / after it (:func:`acquired_before_after`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from churn_research.durations import CAMPAIGN_CONTACT, first_contact, to_units, unit_days
from churn_research.survival.cox import _fit_ctv, _split_at, cox_design
from churn_research.survival.frame import _MIN_EPISODE


# ---------------------------------------------------------------------------------------
# The business change as a time-varying exposure
# ---------------------------------------------------------------------------------------
def _merge_windows(events: pd.DataFrame) -> pd.DataFrame:
    """Union of overlapping ``[lo, hi]`` windows per ``_row`` (vectorised)."""
    e = events.sort_values(["_row", "lo"], kind="mergesort").reset_index(drop=True)
    prev_hi = e.groupby("_row")["hi"].cummax().groupby(e["_row"]).shift(1)
    new_block = prev_hi.isna() | (e["lo"] > prev_hi)
    block = new_block.cumsum()
    return e.groupby(block).agg(_row=("_row", "first"), lo=("lo", "min"), hi=("hi", "max")).reset_index(drop=True)


def exposure_columns(n: int) -> list[str]:
    """The exposure columns of ``n`` business events: ``after_change`` for one event (the
    name the generator's truth and the key figures use), ``after_change_1`` ... for several."""
    return ["after_change"] if n == 1 else [f"after_change_{k + 1}" for k in range(n)]


def change_episodes(df: pd.DataFrame, *, change_date, tickets: pd.DataFrame | None = None,
                    complaint_kind: str = "complaint", complaint_window_days: int = 90,
                    campaigns: pd.DataFrame | None = None) -> pd.DataFrame:
    """Start-stop episodes on the tenure scale for the time-varying Cox model.

    Each customer's observed interval ``(entry, duration]`` is split at the tenure the
    customer had on ``change_date`` -- so customers active across the change contribute time
    before *and* after it -- and, if ``tickets`` are given, at the start and end of every
    complaint window (a complaint on day d exposes days d to d + ``complaint_window_days``;
    overlapping windows are merged). Fully vectorised.

    ``change_date`` may be one date or several (every business event): each gets its own
    exposure column (:func:`exposure_columns`), 1 from its date on. The exposures are
    cumulative -- time after the second event is also after the first -- so in a Cox model each
    event's hazard ratio compares the hazard after it with the hazard between the previous event
    and it.

    ``campaigns`` (the data's campaigns table: ``customer_id, date, treated``) adds
    ``campaign_contact``: 1 from a customer's first contact by a retention campaign on
    (:func:`churn_research.durations.first_contact`, the rule 20_causes' driver model shares). Without
    it, customers a campaign kept after a change would be read as a smaller change effect.

    Returns
    -------
    DataFrame
        ``customer_id, start, stop, event`` (1 only on the last episode of a churner), one
        exposure column per date (``after_change`` for one date), ``complaint_90d`` (0/1, only
        with tickets) and the customer's attribute columns. Zero-length lifetimes get a stop of
        ``start + 1e-6``. ``attrs["exposures"]`` maps each exposure column to its date.
    """
    unit = df.attrs.get("unit", "months")
    dates = ([pd.Timestamp(change_date)] if isinstance(change_date, str | pd.Timestamp)
             or not isinstance(change_date, Sequence | pd.Series | pd.Index | np.ndarray)
             else sorted(pd.Timestamp(d) for d in change_date))
    columns = exposure_columns(len(dates))
    cust = df.reset_index(drop=True)
    base = pd.DataFrame({"_row": np.arange(len(cust)), "start": cust["entry"].to_numpy(float),
                         "stop": cust["duration"].to_numpy(float)})
    t_changes = [to_units(d - cust["start_date"], unit).to_numpy(float) for d in dates]
    cuts = [pd.DataFrame({"_row": base["_row"], "time": t}) for t in t_changes]
    windows = None
    if tickets is not None and len(tickets):
        tk = tickets.loc[tickets["kind"] == complaint_kind, ["customer_id", "date"]]
        row_of = pd.Series(base["_row"].to_numpy(), index=cust["customer_id"])
        tk = tk.loc[tk["customer_id"].isin(row_of.index)]
        if len(tk):
            rows = row_of.reindex(tk["customer_id"]).to_numpy()
            start = cust["start_date"].to_numpy()[rows]
            lo = to_units(pd.to_datetime(tk["date"]).to_numpy() - start, unit)
            lo = np.asarray(lo, float)
            hi = lo + complaint_window_days / unit_days(unit)
            windows = _merge_windows(pd.DataFrame({"_row": rows, "lo": lo, "hi": hi}))
            cuts += [windows[["_row", "lo"]].rename(columns={"lo": "time"}),
                     windows[["_row", "hi"]].rename(columns={"hi": "time"})]
    t_contact = None
    if campaigns is not None and len(campaigns):
        contact = pd.to_datetime(first_contact(campaigns).reindex(cust["customer_id"]).to_numpy())
        t_contact = np.where(pd.isna(contact), np.inf,
                             to_units(pd.Series(contact) - cust["start_date"], unit).to_numpy(float))
        cuts.append(pd.DataFrame({"_row": base["_row"], "time": t_contact}))
    ep = _split_at(base, pd.concat(cuts, ignore_index=True)).reset_index(drop=True)
    r = ep["_row"].to_numpy()
    out = pd.DataFrame({"customer_id": cust["customer_id"].to_numpy()[r],
                        "start": ep["start"].to_numpy(float),
                        "stop": np.maximum(ep["stop"].to_numpy(float), ep["start"].to_numpy(float) + _MIN_EPISODE)})
    last = ep["stop"].to_numpy(float) >= base["stop"].to_numpy()[r]
    out["event"] = (cust["event"].to_numpy(int)[r] * last).astype(int)
    mid = (ep["start"].to_numpy(float) + ep["stop"].to_numpy(float)) / 2
    for col, t_change in zip(columns, t_changes, strict=True):
        out[col] = (mid >= t_change[r]).astype(int)
    if t_contact is not None:
        out[CAMPAIGN_CONTACT] = (mid >= t_contact[r]).astype(int)
    if tickets is not None:
        out["complaint_90d"] = 0
        if windows is not None and len(windows):
            probe = pd.DataFrame({"_row": r, "mid": mid, "_i": np.arange(len(r))}).sort_values("mid")
            w = windows.sort_values("lo")
            hit = pd.merge_asof(probe, w, left_on="mid", right_on="lo", by="_row", direction="backward")
            inside = hit["hi"].notna() & (hit["mid"] <= hit["hi"])
            out.loc[hit.loc[inside, "_i"].to_numpy(), "complaint_90d"] = 1
    skip = {"customer_id", "start_date", "end_date", "exit_date", "duration", "event", "entry", "followup_limit"}
    attrs = [c for c in cust.columns if c not in skip]
    out = pd.concat([out, cust[attrs].iloc[r].reset_index(drop=True)], axis=1)
    out.attrs.update({"unit": unit, "change_date": dates[0], "exposures": dict(zip(columns, dates, strict=True)),
                      "complaint_window_days": complaint_window_days if tickets is not None else None})
    return out


def separable_events(df: pd.DataFrame, events: pd.DataFrame, *, min_exits: int = 20) -> pd.DataFrame:
    """Which business events the time-varying Cox model can tell apart.

    An event's hazard ratio compares the hazard after it (up to the next event kept) with the
    hazard since the previous event kept; each of these windows needs at least ``min_exits``
    exits in ``df`` (a durations frame: ``exit_date`` of the churners). Events are taken earliest
    first: one with too few exits since the previous kept event is left out -- its time then
    counts towards the previous event's regime, so two changes a few days apart are read as one
    -- and so is the last one with too few exits after it. Each left-out event has a note.

    Returns
    -------
    DataFrame
        ``events`` (``date``, ``event``) with ``exits_before``, ``exits_after`` (in the windows
        just described), ``kept`` (bool) and ``note`` (empty when kept).
    """
    exits = np.sort(pd.to_datetime(df.loc[df["event"] == 1, "exit_date"]).to_numpy())
    dates = list(pd.to_datetime(events["date"]))

    def n_between(lo, hi) -> int:
        a = 0 if lo is None else np.searchsorted(exits, np.datetime64(lo), side="left")
        b = len(exits) if hi is None else np.searchsorted(exits, np.datetime64(hi), side="left")
        return int(max(b - a, 0))

    kept, notes, before, last = [], [], [], None
    for date in dates:
        before.append(n_between(last, date))
        ok = before[-1] >= min_exits
        kept.append(ok)
        notes.append("" if ok else "too few exits observed before it to estimate its effect" if last is None
                     else "too few exits between the previous event and it: counted with the previous event")
        last = date if ok else last
    for i in reversed(range(len(dates))):  # the last kept event needs exits after it too
        if kept[i]:
            if n_between(dates[i], None) >= min_exits:
                break
            kept[i] = False
            notes[i] = "too few exits after it to estimate its effect"
    after = []
    for i, date in enumerate(dates):
        nxt = next((dates[j] for j in range(i + 1, len(dates)) if kept[j]), None)
        after.append(n_between(date, nxt))
    out = pd.DataFrame({"exits_before": before, "exits_after": after, "kept": kept, "note": notes})
    return pd.concat([events[["date", "event"]].reset_index(drop=True), out], axis=1)


def fit_change_cox(episodes: pd.DataFrame, *, covariates: Sequence[str] = (),
                   reference: Mapping | None = None, per: Mapping | None = None,
                   exposures: Sequence[str] = ("after_change", "complaint_90d", "campaign_contact"),
                   penalizer: float = 0.0, alpha: float = 0.05):
    """Time-varying Cox model of churn with the business change as an exposure.

    Fits lifelines' ``CoxTimeVaryingFitter`` on :func:`change_episodes` with the exposures
    (every event's exposure column of the episodes, and those present among ``exposures``:
    recent complaints, a retention campaign's contact) and
    the static ``covariates``. The hazard ratio of ``after_change`` compares the hazard of the
    same tenure after vs before the change date; with several events, that of
    ``after_change_k`` the hazard after event k vs between event k - 1 and event k.

    Returns
    -------
    lifelines.CoxTimeVaryingFitter
        Use :func:`hazard_ratios` on it.
    """
    design = cox_design(episodes, list(covariates), reference=reference, per=per) if covariates \
        else pd.DataFrame(index=episodes.index)
    frame = episodes.loc[design.index, ["customer_id", "start", "stop", "event"]].copy()
    exposures = [*dict.fromkeys([*episodes.attrs.get("exposures", {}), *exposures])]
    for e in exposures:
        if e in episodes.columns:
            frame[e] = episodes.loc[design.index, e].astype(int)
    frame = pd.concat([frame, design], axis=1).reset_index(drop=True)
    ctv = _fit_ctv(frame, penalizer=penalizer, alpha=alpha)
    ctv.design_sources_ = design.attrs.get("sources", {})
    return ctv


def acquired_before_after(df: pd.DataFrame, *, change_date, window: float | None = None,
                          censor_at_change: bool = True) -> pd.DataFrame:
    """Customers acquired in the ``window`` before vs after the change, for KM comparison.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`durations`.
    window : float, optional
        Length (in the durations' unit) of each acquisition window; defaults to the time from
        the change to the censoring date, so both groups can be followed equally long.
    censor_at_change : bool
        Censor the pre-change cohort at the change date, so its curve shows survival under
        the old regime only (the comparison is then old vs new regime at the same tenures).
        Both groups are also censored at ``window`` units of tenure.

    Returns
    -------
    DataFrame
        The selected rows with ``acquired`` ("before change" / "after change") and adjusted
        ``duration`` / ``event``.
    """
    unit = df.attrs.get("unit", "months")
    change_date = pd.Timestamp(change_date)
    censor = pd.Timestamp(df.attrs.get("censor_date", df["exit_date"].max()))
    if window is None:
        window = float(to_units(censor - change_date, unit))
    lo = change_date - pd.Timedelta(days=window * unit_days(unit))
    hi = change_date + pd.Timedelta(days=window * unit_days(unit))
    sel = df.loc[(df["start_date"] >= lo) & (df["start_date"] < hi) & (df["entry"] <= 0)].copy()
    before = sel["start_date"] < change_date
    sel["acquired"] = np.where(before, "before change", "after change")
    limit = np.full(len(sel), float(window))
    if censor_at_change:
        t_change = to_units(change_date - sel["start_date"], unit).to_numpy(float)
        limit = np.where(before, np.minimum(limit, t_change), limit)
    cut = sel["duration"].to_numpy(float) > limit
    sel["event"] = np.where(cut, 0, sel["event"].to_numpy(int))
    sel["duration"] = np.minimum(sel["duration"].to_numpy(float), limit)
    sel.attrs.update(df.attrs)
    sel.attrs["window"] = window
    return sel
