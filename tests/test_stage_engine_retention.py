"""10_indicators and 60_retention fed from the engine: the experience tables (complaints,
satisfaction, repeat purchases, revenue retention), the indicator series, the features at a
cutoff and the lost value of the win-back list give the numbers of the pandas path when the
notebook's engine ``tables`` (``read_stage``) are passed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research import indicators as ind
from churn_research import load, read_stage, retention, segments
from churn_research.model import ChurnData, ChurnDataError, _StoredTable
from churn_research.retention.winback import lost_value
from churn_research.sources import engine
from churn_research.synthetic import generate


def _written(data: ChurnData, directory):
    data.write(directory)
    return read_stage(directory)


@pytest.fixture(scope="module")
def stages(tmp_path_factory):
    """Processed data read as a stage notebook reads them (``read_stage``): 3,000 generated
    customers (with 40 same-day repeats of surveys appended: the file's last one counts), the
    same as a purchase log, telco and the CDNOW sample."""
    data = generate(3000, random_state=5)
    data = data.replace(customers=data.customers.drop(columns=["name", "phone", "email"]))
    repeat = data.surveys.iloc[::50].head(40).copy()
    repeat["csat"] = 6.0 - repeat["csat"]  # another answer on the same day, later in the file
    data = data.replace(surveys=pd.concat([data.surveys, repeat], ignore_index=True))
    out = {}
    for name, d in (("synthetic", data), ("synthetic_log", data.replace(kind="non-contractual")),
                    ("telco", load("telco")), ("cdnow", load("cdnow", sample=True))):
        out[name] = _written(d, tmp_path_factory.mktemp(name))
    return out


def _same_frames(got: pd.DataFrame, expected: pd.DataFrame, what: str) -> None:
    assert list(got.columns) == list(expected.columns), what
    assert len(got) == len(expected), what
    for col in expected.columns:
        e, g = expected[col], got[col]
        if e.dtype.kind == "f":
            np.testing.assert_allclose(g.to_numpy(float), e.to_numpy(float), rtol=1e-12,
                                       atol=1e-12, err_msg=f"{what}.{col}")
        else:
            assert g.dtype == e.dtype, f"{what}.{col}"
            np.testing.assert_array_equal(g.to_numpy(), e.to_numpy(), err_msg=f"{what}.{col}")


# ------------------------------------------------------------------------------------------
# 10_indicators
# ------------------------------------------------------------------------------------------
EXPERIENCE_CASES = [("synthetic", "Q"), ("synthetic", "M"), ("synthetic_log", "Q"), ("telco", "Q"),
                    ("cdnow", "M")]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "freq"), EXPERIENCE_CASES)
def test_experience_tables_from_the_engine_equal_the_pandas_path(stages, name, freq):
    data, tables = stages[name]
    rc = ind.recurring_column(data, "monthly_revenue")
    kw = {"freq": freq, "satisfied_min": 4, "recurring_col": rc}
    expected = ind.experience_tables(data, **kw)
    got = ind.experience_tables(data, tables=tables, **kw)
    assert list(got) == list(expected)
    for key, table in expected.items():
        if table is None:
            assert got[key] is None, key
            continue
        _same_frames(got[key], table, key)
    present = {k for k, v in got.items() if v is not None}
    assert present == {"synthetic": {"complaints", "satisfaction", "repeat", "revenue", "revenue_recurring"},
                       "synthetic_log": {"complaints", "satisfaction", "repeat", "revenue", "revenue_recurring"},
                       "telco": set(), "cdnow": {"repeat", "revenue"}}[name]
    if "repeat" in present:
        assert int(got["repeat"]["repeat_buyers"].sum()) == int(expected["repeat"]["repeat_buyers"].sum()) > 100
        assert got["revenue"]["revenue"].sum() == pytest.approx(expected["revenue"]["revenue"].sum(), rel=1e-12)
    series = ind.indicator_series(data, freq=freq, recurring_col=rc, tables=tables, experience=got)
    want = ind.indicator_series(data, freq=freq, recurring_col=rc)
    _same_frames(series, want, "series")
    assert {k: v for k, v in series.attrs.items() if k != "engine"} == want.attrs


@pytest.mark.slow
@pytest.mark.parametrize("by", ["plan", ["region", "tenure_group"]])
def test_repeat_purchases_and_revenue_by_segment_from_the_engine(stages, by):
    data, tables = stages["synthetic"]
    for fn, options in ((ind.repeat_purchase_table, {"recurring_col": "monthly_revenue"}),
                        (ind.revenue_retention, {}),
                        (ind.revenue_retention, {"recurring_col": "monthly_revenue"})):
        kw = {"freq": "Q", "by": by, "new_tenure_months": 6, **options}
        _same_frames(fn(data, tables=tables, **kw), fn(data, **kw), fn.__name__)


@pytest.fixture(scope="module")
def refunds(tmp_path_factory):
    """Generated customers whose purchases include refunds and zero amounts: customer-periods
    with no revenue, negative revenue and revenue below or above the period before, on both
    the recurring invoices and the other purchases; two purchases dated after the window."""
    data = generate(800, random_state=11)
    tx = data.transactions
    refund = tx.iloc[::7].assign(amount=lambda t: -1.5 * t["amount"])
    zero = tx.iloc[3::11].assign(amount=0.0)
    fees = data.customers.set_index("customer_id")["monthly_revenue"]
    again = tx.iloc[5::13].copy()
    again["amount"] = fees.reindex(again["customer_id"]).to_numpy()  # one more recurring invoice
    late = tx.head(2).assign(date=pd.Timestamp(data.observation_end) + pd.Timedelta(days=30))
    data = data.replace(transactions=pd.concat([tx, refund, zero, again, late], ignore_index=True))
    return _written(data, tmp_path_factory.mktemp("refunds"))


@pytest.mark.slow
@pytest.mark.parametrize(("freq", "by"), [("Q", None), ("M", None), ("Q", ["plan", "tenure_group"]),
                                          ("Y", "region")])
def test_lean_purchase_counts_equal_the_pandas_path_with_refunds(refunds, freq, by):
    """Repeat purchases and both revenue retentions (one engine pass for all and recurring
    revenue) equal the pandas path: counts exactly, sums and rates to 1e-12, also where a
    customer-period's revenue is zero or negative."""
    data, tables = refunds
    kw = {"freq": freq, "by": by, "new_tenure_months": 6}
    flows = ind.revenue_retentions(data, recurring_col="monthly_revenue", tables=tables, **kw)
    _same_frames(flows[0], ind.revenue_retention(data, **kw), "revenue")
    _same_frames(flows[1], ind.revenue_retention(data, recurring_col="monthly_revenue", **kw),
                 "revenue_recurring")
    _same_frames(ind.repeat_purchase_table(data, recurring_col="monthly_revenue", tables=tables, **kw),
                 ind.repeat_purchase_table(data, recurring_col="monthly_revenue", **kw), "repeat")
    _same_frames(ind.repeat_purchase_table(data, tables=tables, **kw),
                 ind.repeat_purchase_table(data, **kw), "repeat_all")
    for table in flows:
        assert (table["churned_revenue"] > 0).any() and (table["contraction"] > 0).any()
        assert (table["expansion"] > 0).any() and int(table["base_customers"].sum()) > 500


def test_revenue_retentions_without_engine_or_recurring_column_are_the_single_tables(refunds):
    data, tables = refunds
    allrev, recurring = ind.revenue_retentions(data, recurring_col="monthly_revenue", freq="Y")
    _same_frames(allrev, ind.revenue_retention(data, freq="Y"), "revenue")
    _same_frames(recurring, ind.revenue_retention(data, recurring_col="monthly_revenue", freq="Y"),
                 "revenue_recurring")
    allrev, none = ind.revenue_retentions(data, recurring_col=None, freq="Y", tables=tables)
    assert none is None
    _same_frames(allrev, ind.revenue_retention(data, freq="Y"), "revenue")


def test_revenue_counts_of_all_revenue_in_the_recurring_pass_equal_their_own_pass(refunds):
    """``with_all``: the flows of all revenue counted beside the recurring ones in one pass
    are those of a pass of their own (the recurring ones those of ``keep_recurring``)."""
    data, tables = refunds
    options = {"customers": _yearly_grid(data), "table": ind.periods("2021-01-01", "2025-12-31", freq="Y"),
               "window": ("2021-01-01", "2025-12-31"), "measure": "revenue"}
    both = tables.purchase_counts(recurring_col="monthly_revenue", keep_recurring=True, with_all=True,
                                  **options)
    alone = tables.purchase_counts(**options)
    kept = tables.purchase_counts(recurring_col="monthly_revenue", keep_recurring=True, **options)
    assert set(both) == {"base", "total", "base_all", "total_all"} and set(kept) == {"base", "total"}
    for key, want in (("base_all", alone["base"]), ("total_all", alone["total"]),
                      ("base", kept["base"]), ("total", kept["total"])):
        got = both[key].sort_values(["g", "p"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want.sort_values(["g", "p"]).reset_index(drop=True),
                                      check_exact=False, rtol=1e-12)
    assert int(both["base_all"]["n"].sum()) > 1000 and int(both["base"]["n"].sum()) > 1000
    assert both["base_all"]["starting"].sum() != pytest.approx(both["base"]["starting"].sum(), rel=1e-3)
    dropped = tables.purchase_counts(recurring_col="monthly_revenue", with_all=True, **options)
    assert set(dropped) == {"base", "total"}  # all revenue only beside the recurring invoices


@pytest.mark.parametrize(("measure", "keep"), [("repeat", False), ("repeat", True), ("revenue", True)])
def test_purchases_of_unknown_customers_are_named_whatever_the_recurring_filter(stages, measure, keep):
    """The lean pass counts purchases of unknown customers before any filter, even those the
    recurring filter would drop and those outside the window."""
    data, _ = stages["synthetic"]
    options = {"customers": _yearly_grid(data), "table": ind.periods("2021-01-01", "2025-12-31", freq="Y"),
               "window": ("2021-01-01", "2025-12-31")}
    extra = pd.DataFrame({"customer_id": ["X1", "X2"], "date": pd.to_datetime(["2030-01-01", "2022-05-01"]),
                          "amount": [10.0, 20.0]})
    tx = pd.concat([data.transactions, extra.reindex(columns=data.transactions.columns)], ignore_index=True)
    src = engine.from_data(data.replace(transactions=tx))
    with pytest.raises(ChurnDataError, match=r"2 row\(s\) refer to unknown customers\.") as err:
        engine.purchase_counts(src, measure=measure, recurring_col="monthly_revenue",
                               keep_recurring=keep, **options)
    assert (err.value.table, err.value.column) == ("transactions", "customer_id")


def test_indicator_series_refuses_experience_tables_of_part_of_the_window(stages):
    data, tables = stages["synthetic"]
    with pytest.raises(ValueError, match=r"^experience tables cover the whole window: pass "
                                         r"start=end=None\.$"):
        ind.indicator_series(data, start="2023-01-01", tables=tables, experience={})


def _yearly_grid(data: ChurnData) -> pd.DataFrame:
    """One group, years 2021-2025; start and end period codes of the customers."""
    c = data.customers
    code = lambda d: np.where(d.isna(), 5, np.clip(d.dt.year.to_numpy(float) - 2021, -1, 5))  # noqa: E731
    return pd.DataFrame({"customer_id": c["customer_id"], "group": 0, "cx": -1,
                         "cs": code(pd.to_datetime(c["start_date"])).astype(np.int64),
                         "ce": code(pd.to_datetime(c["end_date"])).astype(np.int64)})


@pytest.mark.slow
def test_purchase_counts_count_buyers_and_sum_revenue_per_period(stages):
    data, tables = stages["synthetic"]
    options = {"customers": _yearly_grid(data), "table": ind.periods("2021-01-01", "2025-12-31", freq="Y"),
               "window": ("2021-01-01", "2025-12-31")}
    tx = data.transactions
    year = pd.to_datetime(tx["date"]).dt.year - 2021
    revenue = tables.purchase_counts(measure="revenue", **options)["total"].sort_values("p")
    np.testing.assert_array_equal(revenue["p"].to_numpy(), np.arange(5))
    np.testing.assert_allclose(revenue["revenue"].to_numpy(),
                               tx.groupby(year)["amount"].sum().loc[0:4].to_numpy(), rtol=1e-12)
    repeat = tables.purchase_counts(measure="repeat", **options)
    buyers = repeat["buyers"].sort_values("p")
    np.testing.assert_array_equal(buyers["n"].to_numpy(),
                                  tx.groupby(year)["customer_id"].nunique().loc[0:4].to_numpy())
    assert int(buyers["n"].sum()) > 5000
    first = repeat["first"].set_index("idx")["first"].sort_index()
    want = year.clip(-1, 5).groupby(pd.Index(data.customers["customer_id"]).get_indexer(tx["customer_id"])).min()
    np.testing.assert_array_equal(first.to_numpy(), want.sort_index().to_numpy())
    kept = tables.purchase_counts(measure="revenue", recurring_col="monthly_revenue",
                                  keep_recurring=True, **options)["total"]["revenue"].sum()
    dropped = tables.purchase_counts(measure="revenue", recurring_col="monthly_revenue",
                                     **options)["total"]["revenue"].sum()
    assert kept + dropped == pytest.approx(tx.loc[year.between(0, 4).to_numpy(), "amount"].sum(), rel=1e-12)
    assert kept > 0 and dropped > 0


def test_purchase_counts_errors(stages):
    data, tables = stages["synthetic"]
    options = {"customers": _yearly_grid(data), "table": ind.periods("2021-01-01", "2025-12-31", freq="Y"),
               "window": ("2021-01-01", "2025-12-31")}
    with pytest.raises(ChurnDataError, match=r"recurring_col 'fee' not found\.") as err:
        tables.purchase_counts(measure="repeat", recurring_col="fee", **options)
    assert (err.value.table, err.value.column) == ("customers", "fee")
    with pytest.raises(ValueError, match=r"^measure must be 'repeat' or 'revenue', not 'sales'$"):
        tables.purchase_counts(measure="sales", **options)
    extra = data.transactions.head(3).assign(customer_id=["X1", "X2", "X1"])
    src = engine.from_data(data.replace(transactions=pd.concat([data.transactions, extra])))
    with pytest.raises(ChurnDataError, match=r"3 row\(s\) refer to unknown customers\.") as err:
        engine.purchase_counts(src, measure="revenue", **options)
    assert err.value.table == "transactions"


def test_columns_of_reads_no_table(tmp_path):
    generate(300, random_state=2).write(tmp_path)
    data = ChurnData.read(tmp_path)
    assert data.columns_of("tickets") == ["customer_id", "date", "kind", "resolved", "resolution_days"]
    assert type(data._stored("tickets")) is _StoredTable and data._stored("tickets").frame is None
    assert ind.measurable(data) == {"complaints": True, "surveys": True, "transactions": True}
    assert data._stored("tickets").frame is None
    assert data.replace(tickets=None).columns_of("tickets") == []


# ------------------------------------------------------------------------------------------
# 60_retention
# ------------------------------------------------------------------------------------------
FEATURE_CASES = [
    ("synthetic", None, {}),
    ("synthetic", "2024-06-30", {"design": "cross-sectional", "recent_days": 60}),
    ("synthetic", "2023-12-31", {"exclude_recurring": False, "trend_months": 4, "n_bins": 4}),
    ("synthetic_log", "2025-06-30", {}),
    ("telco", None, {"design": "cross-sectional", "window_days": 180}),
    ("cdnow", "1997-12-31", {}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "cutoff", "options"), FEATURE_CASES)
def test_features_at_from_the_engine_equal_the_pandas_path(stages, name, cutoff, options):
    data, tables = stages[name]
    expected = segments.features_at(data, cutoff, **options)
    got = segments.features_at(data, cutoff, engine=tables, **options)
    assert got.index.is_monotonic_increasing and sorted(expected.index) == list(got.index)
    _same_frames(got, expected.loc[got.index], name)
    assert got.attrs == expected.attrs
    assert int(got["active"].sum()) == int(expected["active"].sum()) > 500


def test_features_at_takes_the_tables_last_of_same_day_surveys_on_both_paths(stages):
    """Of several answers on a customer's last survey day, the table's last one counts, on the
    pandas path and from the engine (engine.survey_ties: only those customers' rows are read)."""
    data, tables = stages["synthetic"]
    sv = data.surveys
    repeats = sv[sv.duplicated(["customer_id", "date"], keep=False)]
    assert len(repeats) == 97  # the 40 appended answers, the 40 they repeat, 17 of the generator
    got = segments.features_at(data, engine=tables)
    expected = segments.features_at(data)
    best = repeats.drop_duplicates(["customer_id", "date"], keep="last")
    latest = sv.groupby("customer_id")["date"].max()
    best = best[(best["date"].to_numpy() == latest.reindex(best["customer_id"]).to_numpy())
                & best["customer_id"].isin(got.index).to_numpy()
                & ((pd.Timestamp(data.observation_end) - best["date"]).dt.days < 365).to_numpy()]
    assert len(best) == 5
    for f in (got, expected):
        np.testing.assert_array_equal(f.loc[best["customer_id"], "csat_last"].to_numpy(),
                                      best["csat"].to_numpy())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["synthetic", "cdnow"])
def test_lost_value_and_winback_from_the_engine_equal_the_pandas_path(stages, name):
    data, tables = stages[name]
    expected = lost_value(data.customers, data.transactions)
    got = tables.lost_value()
    assert list(got.index) == list(expected.index) and got.name == "lost_value"
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-9)
    assert int((got > 0).sum()) == int((expected > 0).sum()) > 100
    want = retention.winback.analyse(data)
    have = retention.winback.analyse(data, lost=got)
    pd.testing.assert_frame_equal(have.winback, want.winback, rtol=1e-12)
    assert len(have.winback) == len(want.winback) > 10


def test_lost_value_without_transactions_is_left_to_the_customers_rule(stages):
    data, tables = stages["telco"]
    assert tables.lost_value() is None
    got = retention.winback.analyse(data, lost=tables.lost_value())
    assert len(got.winback) == int(data.customers["end_date"].notna().sum()) > 1000


def test_qini_interval_from_weighted_resamples_equals_resorting_each_resample():
    from churn_research.retention import uplift as up

    rng = np.random.default_rng(1)
    n = 3000
    u = np.round(rng.normal(size=n), 1)  # many tied scores
    a = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.2 + 0.05 * a).astype(int)
    got = up.qini_normalised_ci(u, a, y, n_boot=50, random_state=3)
    draws = np.random.default_rng(3)
    reps = []
    for _ in range(50):
        i = draws.integers(0, n, n)
        reps.append(up.qini_normalised(u[i], a[i], y[i]))
    lo, hi = np.nanquantile(reps, [0.025, 0.975])
    assert got == (up.qini_normalised(u, a, y), float(lo), float(hi))
    assert got[1] < got[0] < got[2]


@pytest.mark.slow
def test_complaint_handling_from_the_engine_equals_the_pandas_path(stages):
    import json

    data, tables = stages["synthetic"]
    kw = {"freq": "Q", "impact_freq": "M", "segments": ["plan", "region"], "seasonality": "auto"}
    want = ind.complaint_handling(data, **kw)
    got = ind.complaint_handling(data, tables=tables, **kw)
    _same_frames(got.share, want.share, "share")
    _same_frames(got.segments, want.segments, "segments")
    assert len(got.segments) == 7 and int(got.segments["complainants"].sum()) > 100
    assert json.dumps(got.key_figures(), sort_keys=True, default=str) == \
        json.dumps(want.key_figures(), sort_keys=True, default=str)


@pytest.mark.slow
def test_repeat_counts_from_period_bits_equal_the_distinct_pairs(stages, monkeypatch):
    """Quarterly periods: the purchase periods as the bits of one integer per customer; the
    path for more periods than fit in 64 bits (distinct (customer, period) pairs) gives the same
    buyers, repeat buyers and first periods."""
    for name in ("synthetic", "cdnow"):
        data, tables = stages[name]
        dates = pd.to_datetime(data.transactions["date"])
        y0, y1 = dates.min().year, dates.max().year
        table = ind.periods(f"{y0}-01-01", f"{y1}-12-31", freq="Q")
        P = len(table)

        def code(d, y0=y0, P=P):
            return np.where(d.isna(), P, (d.dt.year.to_numpy(float) - y0) * 4
                            + (d.dt.month.to_numpy(float) - 1) // 3).clip(-1, P).astype(np.int64)

        grid = pd.DataFrame({"customer_id": data.customers["customer_id"],
                             "group": (data.customers.index % 3).to_numpy(np.int64), "cx": -1,
                             "cs": code(pd.to_datetime(data.customers["start_date"])),
                             "ce": code(pd.to_datetime(data.customers["end_date"]))})
        options = {"customers": grid, "table": table, "window": (f"{y0}-01-01", f"{y1}-12-31"),
                   "measure": "repeat"}
        bits = tables.purchase_counts(**options)
        monkeypatch.setattr(engine, "_MASK_PERIODS", 0)
        pairs = tables.purchase_counts(**options)
        monkeypatch.undo()
        for key, cols in (("buyers", ["g", "p"]), ("repeat", ["g", "p"]), ("first", ["idx"])):
            a = bits[key].sort_values(cols).reset_index(drop=True)
            b = pairs[key].sort_values(cols).reset_index(drop=True)
            pd.testing.assert_frame_equal(a, b, check_dtype=False)
        assert int(bits["repeat"]["n"].sum()) > 100 and P >= 8
