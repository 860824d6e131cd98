"""10_indicators' complaint handling, per-event comparisons and cohorts fed from the engine
(issue 18: the tickets, surveys and the per-customer monthly panel stay out of pandas) give the
numbers of the pandas path: counts exactly, rates to 1e-12; a customer's same-day complaints
are taken in the file's order on both paths."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from churn_research import indicators as ind
from churn_research import load, read_stage
from churn_research.indicators.complaints import (
    complaint_churn,
    complaint_handling,
    resolution_table,
)
from churn_research.model import ChurnData
from churn_research.sources import engine
from churn_research.sources.synthetic import generate


def _ties(ticket_order: list[int]) -> ChurnData:
    """Customer a: two complaints on 2024-01-01 (resolved in 2 days; never resolved), one on
    2024-02-15 (45 days later: the same episode), left on 2024-03-20; b: a complaint on
    2024-05-01 (too recent to follow 90 days) and an inquiry."""
    cust = pd.DataFrame({"customer_id": ["a", "b"],
                         "start_date": pd.to_datetime(["2023-01-01", "2023-01-01"]),
                         "end_date": pd.to_datetime(["2024-03-20", None])})
    tickets = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b"],
        "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-15", "2024-05-01",
                                "2024-05-02"]),
        "kind": ["complaint", "Complaint", "complaint", "complaint", "inquiry"],
        "resolved": [True, False, True, True, True],
        "resolution_days": [2.0, np.nan, 5.0, 1.0, 1.0]}).iloc[ticket_order]
    return ChurnData(customers=cust, tickets=tickets.reset_index(drop=True),
                     observation_end=pd.Timestamp("2024-06-30"),
                     records_start=pd.Timestamp("2023-01-01"))


@pytest.mark.parametrize(("order", "band"), [([0, 1, 2, 3, 4], "≤ 3 days"),
                                             ([1, 0, 2, 3, 4], "unresolved")])
def test_episodes_by_hand_and_same_day_complaints_in_file_order(tmp_path, order, band):
    data = _ties(order)
    data.write(tmp_path)
    _, tables = read_stage(tmp_path)
    ep = tables.complaint_episodes(within_days=90)
    assert ep["n"].sum() == 4 and ep["n"].dtype == np.int64      # the inquiry left out
    first = ep[ep["first"]]
    assert first["n"].sum() == 2 and first["followed"].tolist().count(False) == 1
    kept = first[first["followed"]].iloc[0]
    assert bool(kept["churned"]) and bool(kept["resolved"]) == (band != "unresolved")
    days = tables.complaint_days()
    assert days["n"].tolist() == [1, 1, 1, 1] and days["date"].dtype == "datetime64[ns]"
    memory = engine.from_data(data)
    memory.tickets = data.tickets           # a frame: its rows' order breaks the tie
    for src in (None, tables, memory):
        d = complaint_churn(data, within_days=90, bands=[3, 7], tables=src)
        rows = d.set_index("band")
        assert rows.loc[band, ["complaints", "churned"]].tolist() == [1, 1]
        assert int(d["complaints"].sum()) == 1 and d.attrs["excluded_followup"] == 1
    # a ticket column named n is not a count
    with_n = data.replace(tickets=data.tickets.assign(n=7))
    assert int(complaint_churn(with_n, within_days=90, bands=[3, 7])["complaints"].sum()) == 1
    assert int(resolution_table(with_n, freq="Q")["complaints"].sum()) == 4


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> dict:
    """Generated customers with the complaint-resolution effect, written as processed data:
    as generated, and with same-day duplicates of complaints (other resolutions) slipped in."""
    data = generate(3000, random_state=7, complaint_resolution=True)
    tk = data.tickets
    comp = tk[tk["kind"] == "complaint"].iloc[::25].copy()
    comp["resolved"] = ~comp["resolved"]
    comp["resolution_days"] = np.where(comp["resolved"], 30.0, np.nan)
    # half of the duplicates before their original in the file, half after
    both = pd.concat([comp.iloc[::2], tk, comp.iloc[1::2]]).sort_values(["customer_id", "date"],
                                                                        kind="mergesort")
    out = {}
    for name, d in (("synthetic", data), ("ties", data.replace(tickets=both.reset_index(drop=True)))):
        directory = tmp_path_factory.mktemp(name)
        d.write(directory)
        out[name] = directory
    return out


OPTIONS = {"freq": "Q", "impact_freq": "M", "segments": ["plan", "region"], "chart": "auto",
           "baseline_periods": 24, "seasonality": "auto", "service_target_days": 7,
           "within_days": 90, "bands": [3, 7, 14], "denominator": "exposed",
           "inactivity_days": None}


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns) and len(got) == len(expected)
    for col in expected.columns:
        e, g = expected[col], got[col]
        if e.dtype.kind == "f":
            np.testing.assert_allclose(g.to_numpy(float), e.to_numpy(float), rtol=1e-12, atol=1e-12,
                                       err_msg=col)
        else:
            pd.testing.assert_series_equal(g, e, check_exact=True, obj=col)
    assert got.attrs == expected.attrs or json.dumps(got.attrs, sort_keys=True, default=str) \
        == json.dumps(expected.attrs, sort_keys=True, default=str)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["synthetic", "ties"])
def test_complaint_handling_on_the_engine_equals_the_pandas_path(synthetic, name):
    expected = complaint_handling(ChurnData.read(synthetic[name]), **OPTIONS)
    data, tables = read_stage(synthetic[name])
    got = complaint_handling(data, tables=tables, **OPTIONS)
    assert data.unread_path("tickets") is not None          # the tickets never came into pandas
    assert got.available == expected.available == {"complaints": True, "resolution": True,
                                                   "chart": True, "change": True}
    for part in ("share", "segments", "resolution", "dose", "change"):
        _same(getattr(got, part), getattr(expected, part))
    figures = expected.key_figures()
    assert json.dumps(got.key_figures(), sort_keys=True, default=str) \
        == json.dumps(figures, sort_keys=True, default=str)
    assert figures["complaints.n_resolved"] + figures["complaints.n_unresolved"] \
        == int(expected.dose["complaints"].sum()) > 300
    total = int(expected.resolution["complaints"].sum())
    assert int(tables.complaint_days()["n"].sum()) >= total > 1000


@pytest.mark.slow
def test_events_and_cohorts_on_the_engine_equal_the_pandas_path(synthetic):
    kw = {"denominator": "exposed", "inactivity_days": None}
    base = ChurnData.read(synthetic["synthetic"])
    expected = ind.events_impact(base, freq="M", seasonality="auto", **kw)
    data, tables = read_stage(synthetic["synthetic"])
    got = ind.events_impact(data, freq="M", seasonality="auto", tables=tables, **kw)
    assert data.unread_path("tickets") is not None and data.unread_path("surveys") is not None
    assert len(expected.table) == 1 and len(expected.experience) == 3
    _same(got.table, expected.table)
    _same(got.experience, expected.experience)
    assert json.dumps(ind.events_figures(got), sort_keys=True, default=str) \
        == json.dumps(ind.events_figures(expected), sort_keys=True, default=str)
    ready, want = (ind.impact_readiness(d, freq="M", tables=t, **kw)
                   for d, t in ((data, tables), (base, None)))
    assert (ready.event_date, ready.n_before, ready.n_after) == (want.event_date, want.n_before,
                                                                 want.n_after) and ready.ready
    pd.testing.assert_frame_equal(ready.table, want.table, check_exact=True,
                                  check_flags=False)
    answers = tables.survey_answers()
    assert list(answers.columns) == ["date", "csat", "nps"] and len(answers) == len(base.surveys)
    pd.testing.assert_frame_equal(tables.cohort_retention(), ind.cohort_retention(base),
                                  check_exact=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["telco", "cdnow"])
def test_data_without_tickets_or_events_give_the_same_on_both_paths(tmp_path, name):
    load(name, **({"sample": True} if name == "cdnow" else {})).write(tmp_path)
    data, tables = read_stage(tmp_path)
    ch = complaint_handling(data, tables=tables, **OPTIONS)
    assert ch.available == complaint_handling(data, **OPTIONS).available == {
        "complaints": False, "resolution": False, "chart": False, "change": False}
    assert ind.events_impact(data, tables=tables) is ind.events_impact(data) is None
    pd.testing.assert_frame_equal(tables.cohort_retention(), ind.cohort_retention(data),
                                  check_exact=True)


def test_purchase_counts_leave_no_grid_tables_behind(synthetic):
    """The experience tables' grid (10^7 rows at scale) leaves the engine once counted, and an
    Arrow text id column goes in as it is (the same counts as object strings)."""
    from churn_research.indicators.experience import repeat_purchase_table, revenue_retention

    data, tables = read_stage(synthetic["synthetic"])
    def names():
        return {row[0] for row in tables.con.raw_sql("SELECT table_name FROM duckdb_tables()").fetchall()}

    before = names()
    kw = {"freq": "Q", "recurring_col": "monthly_revenue"}
    rep, rev = repeat_purchase_table(data, tables=tables, **kw), revenue_retention(data, tables=tables, **kw)
    assert names() == before
    assert str(data.customers["customer_id"].dtype) == "str"
    base = ChurnData.read(synthetic["synthetic"])
    _same(rep, repeat_purchase_table(base, **kw))
    _same(rev, revenue_retention(base, **kw))
    assert int(rep["repeat_buyers"].sum()) > 100


def test_open_complaints_on_the_engine_equal_the_pandas_rule(tmp_path, synthetic):
    """The playbook's open complaints from the engine (40_segments and 60_retention: the
    tickets stay out of pandas) equal playbook.open_complaints, by hand and on generated data
    with same-day duplicates; a date on the window's edges counts as there."""
    from churn_research.playbook import open_complaints

    data = _ties([0, 1, 2, 3, 4])
    data.write(tmp_path)
    _, tables = read_stage(tmp_path)
    # 2024-01-01's unresolved "Complaint" (any case) is open 2024-03-30 (90 days: after
    # 2024-01-01 is required, so not at 2024-03-31); b's inquiry never counts
    for at, want in [("2024-03-30", {"a": 1}), ("2024-03-31", {}), ("2024-06-30", {})]:
        got = tables.open_complaints(pd.Timestamp(at), days=90)
        assert got.to_dict() == want
        pd.testing.assert_series_equal(got, open_complaints(data.tickets, at, days=90),
                                       check_index_type=False)
    with_open = data.replace(tickets=data.tickets.assign(resolved=[True, None, False, False, True]))
    with_open.write(tmp_path / "open")
    _, open_tables = read_stage(tmp_path / "open")
    got = open_tables.open_complaints(pd.Timestamp("2024-06-30"), days=365)
    assert got.to_dict() == {"a": 2, "b": 1}  # a missing resolution counts as unresolved
    pd.testing.assert_series_equal(got, open_complaints(with_open.tickets, "2024-06-30", days=365),
                                   check_index_type=False)
    # without a resolved column the data cannot show open complaints: none, as pandas
    no_col = data.replace(tickets=data.tickets.drop(columns="resolved"))
    no_col.write(tmp_path / "nocol")
    _, no_tables = read_stage(tmp_path / "nocol")
    assert no_tables.open_complaints(pd.Timestamp("2024-06-30")).empty
    for name in ("synthetic", "ties"):
        processed, tables = read_stage(synthetic[name])
        for days in (30, 90, 365):
            got = tables.open_complaints(processed.observation_end, days=days)
            want = open_complaints(processed.tickets, processed.observation_end, days=days)
            assert len(want) > 10, (name, days)
            pd.testing.assert_series_equal(got, want, check_index_type=False)
