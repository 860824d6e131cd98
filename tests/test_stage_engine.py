"""The stages fed from the engine: ``engine.open_stage`` (the one way a notebook gets its engine
tables) and the stage functions that take the engine's aggregated frames give the numbers of
the per-customer pandas path."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from churn_research import load
from churn_research.clv import analysis as clv_analysis
from churn_research.model import ChurnDataError
from churn_research.narrate import clv as say_clv
from churn_research.sources import engine
from churn_research.synthetic import generate


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    """The CDNOW sample written as processed data and opened as a notebook opens it."""
    data = load("cdnow", sample=True)
    directory = tmp_path_factory.mktemp("cdnow")
    data.write(directory)
    return data, engine.open_stage(directory)


def test_open_stage_reads_the_processed_data_in_place(cdnow):
    data, tables = cdnow
    assert tables.kind == data.kind == "non-contractual"
    assert tables.observation_end == pd.Timestamp(data.observation_end)
    assert int(tables.execute(tables.transactions.count())) == len(data.transactions)
    assert engine.BACKENDS == ("duckdb", "pyspark")


def test_open_stage_rejects_an_unknown_backend(tmp_path):
    with pytest.raises(ChurnDataError, match=r"unknown backend 'sqlite'\.") as err:
        engine.open_stage(tmp_path, backend="sqlite")
    assert "set `backend:` to one of duckdb, pyspark." in str(err.value)


def test_btyd_inputs_only_for_purchase_logs(tmp_path):
    data = generate(200, random_state=1)
    data.write(tmp_path)
    assert data.kind == "contractual"
    assert engine.btyd_inputs(engine.open_stage(tmp_path)) is None


@pytest.mark.slow
def test_btyd_value_on_the_engine_statistics_equals_the_customer_fit(cdnow):
    data, tables = cdnow
    options = {"margin": 0.3, "discount_rate": 0.1}
    per_customer = clv_analysis.btyd_value(data, **options)
    grouped = clv_analysis.btyd_value(data, statistics=engine.btyd_inputs(tables), **options)
    assert per_customer.fit_rows is None
    assert grouped.fit_rows == {"bgnbd": 1218, "gamma_gamma": 1002}
    assert grouped.bg.n_customers_ == 2357 and grouped.gg.n_customers_ == 1139
    np.testing.assert_allclose(grouped.bg.params_, per_customer.bg.params_, rtol=1e-9)
    np.testing.assert_allclose(grouped.gg.params_, per_customer.gg.params_, rtol=1e-9)
    assert grouped.equity == pytest.approx(per_customer.equity, rel=1e-9)
    figures = grouped.key_figures()
    assert (figures["bgnbd"]["fit_rows"], figures["gamma_gamma"]["fit_rows"]) == (1218, 1002)
    assert "fit_rows" not in per_customer.key_figures()["bgnbd"]
    text = say_clv.btyd_value(grouped)
    assert text.endswith("the BG/NBD on 1,218 unique (frequency, recency, T) combinations for "
                         "2,357 customers, the Gamma-Gamma on 1,002 unique (frequency, average "
                         "spend) combinations for 1,139 repeat buyers, each weighted by its number "
                         "of customers (the likelihood is exactly that of the customers).")
    assert "unique" not in say_clv.btyd_value(per_customer)


@pytest.mark.slow
def test_btyd_validation_on_the_engine_statistics(cdnow):
    data, tables = cdnow
    end = clv_analysis.btyd_calibration_end(data, "1997-09-30")
    assert end == pd.Timestamp("1997-09-30")
    per_customer = clv_analysis.btyd_validation(data, calibration_end=end)
    grouped = clv_analysis.btyd_validation(
        data, calibration_end=end, statistics=engine.btyd_inputs(tables, calibration_end=end))
    np.testing.assert_allclose(grouped.model.params_, per_customer.model.params_, rtol=1e-9)
    assert grouped.model.params_.round(3).tolist() == [0.243, 4.414, 0.793, 2.426]
    assert grouped.fit_rows == 1016
    assert grouped.relative_error == pytest.approx(per_customer.relative_error, rel=1e-9)
    assert say_clv.btyd_split(grouped).endswith(
        "The BG/NBD was fitted on 1,016 unique (frequency, recency, T) combinations for 2,357 "
        "customers, each weighted by its number of customers (the sufficient statistics "
        "computed by the data engine).")


def test_statistics_of_other_data_are_refused(cdnow):
    data, tables = cdnow
    stats = engine.btyd_inputs(tables, calibration_end="1997-09-30")  # not the observation end
    with pytest.raises(ChurnDataError, match=r"the gamma_gamma statistics count 946 customers, "
                                             r"the purchase log 1139\."):
        clv_analysis.btyd_value(data, margin=0.3, discount_rate=0.1, statistics=stats)


# ------------------------------------------------------------------------------------------
# 10_indicators and 30_survival: churn tables and the sBG cohort table from the engine
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """2,000 generated customers written as processed data, read as a stage reads them."""
    from churn_research import read_stage

    directory = tmp_path_factory.mktemp("synthetic")
    generate(2000, random_state=3).write(directory)
    return read_stage(directory)


def test_read_stage_gives_the_data_and_the_engine_tables_of_one_directory(synthetic):
    data, tables = synthetic
    assert isinstance(tables, engine.Tables)
    assert int(tables.execute(tables.customers.count())) == len(data.customers) == 2000
    assert tables.observation_end == pd.Timestamp(data.observation_end)
    assert (tables.kind, tables.inactivity_days) == (data.kind, data.inactivity_days)


def test_segment_and_tenure_tables_from_the_engine_equal_the_pandas_path(synthetic):
    from churn_research import indicators as ind

    data, tables = synthetic
    kw = {"denominator": "exposed", "inactivity_days": None}
    expected = ind.segment_rates(data, ["plan", "contract"], freq="Q", **kw)
    got = ind.pooled_segments(tables.churn_tables(["plan", "contract"], freq="Q", **kw))
    assert list(got) == list(expected) == ["plan", "contract"]
    for col in expected:
        for want, have in zip(expected[col], got[col], strict=True):
            pd.testing.assert_frame_equal(have, want, check_exact=True)
    tenure = tables.churn_table(freq="Q", by=ind.TENURE_GROUP, new_tenure_months=6, **kw)
    pd.testing.assert_frame_equal(
        tenure, ind.new_vs_existing(data, freq="Q", new_tenure_months=6, **kw), check_exact=True)
    assert tenure.attrs["engine"] == "duckdb"
    assert int(tenure["churned"].sum()) == int(ind.churn_table(data, freq="Q", **kw)["churned"].sum())


@pytest.mark.slow
def test_cohort_analysis_on_the_engine_cohort_table_equals_the_pandas_path(synthetic):
    from churn_research import survival as sv

    data, tables = synthetic
    df = sv.lifetimes(data, unit="months")
    table = tables.sbg_cohort_table(cohort_freq="Q", period=1.0, unit="months")
    pd.testing.assert_frame_equal(table, sv.cohort_table(df, cohort_freq="Q", period=1.0),
                                  check_exact=True)
    options = {"data": data, "freq": "Q", "period": 1.0, "min_periods": 6, "unit": "months"}
    expected = sv.cohort_analysis(df, **options)
    got = sv.cohort_analysis(df, table=table, **options)
    # NaN standard errors compare equal as text
    assert json.dumps(got.key_figures(), sort_keys=True) == json.dumps(expected.key_figures(), sort_keys=True)
    assert len(got.sbg_table) >= 1


# ------------------------------------------------------------------------------------------
# 40_segments and 50_clv: the features at a cutoff and the window revenue from the engine
# ------------------------------------------------------------------------------------------
def assert_same_features(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """The same customers in the same order, the same columns and dtypes; counts, flags and
    labels exactly, measures to 1e-12 (sums of amounts added in another order)."""
    assert list(got.index) == list(expected.index)
    assert list(got.columns) == list(expected.columns)
    for col in expected.columns:
        e, g = expected[col], got[col]
        assert g.dtype == e.dtype, col
        if e.dtype.kind == "f":
            np.testing.assert_allclose(g.to_numpy(), e.to_numpy(), rtol=1e-12, atol=1e-12,
                                       err_msg=col)
        else:
            pd.testing.assert_series_equal(g, e, check_exact=True, obj=col)
    assert got.attrs == expected.attrs


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> dict:
    """Processed-data directories as 00_data writes them: 2,000 generated customers
    (transactions, tickets, surveys), the CDNOW sample (a purchase log) and IBM Telco (one
    snapshot, no transactions)."""
    out = {}
    for name, data in (("synthetic", lambda: generate(2000, random_state=3)),
                       ("cdnow", lambda: load("cdnow", sample=True)),
                       ("telco", lambda: load("telco"))):
        out[name] = data().write(tmp_path_factory.mktemp(name))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("name", "cutoff", "design", "rows", "active"), [
    ("synthetic", "2025-10-02", "prospective", 1097, 820),
    ("synthetic", None, "prospective", 1097, 817),
    ("synthetic", "2024-06-30", "cross-sectional", 1631, 1631),
    ("cdnow", "1997-12-31", "prospective", 2357, 610),
    ("telco", None, "cross-sectional", 7043, 7043),
])
def test_features_from_the_engine_equal_the_pandas_path(processed, name, cutoff, design, rows,
                                                         active):
    """``segments.features_at(..., engine=tables)`` (40_segments, 50_clv) on processed data read
    in place: the features of the pandas path, RFM scores and static columns included, in the
    same order, without reading the transactions, tickets or surveys into pandas."""
    from churn_research import read_stage, segments
    from churn_research.model import ChurnData, _StoredTable

    data, tables = read_stage(processed[name])
    got = segments.features_at(data, cutoff, design=design, engine=tables)
    for table in ("transactions", "tickets", "surveys"):  # never read into pandas
        assert type(data._stored(table)) in (_StoredTable, type(None)), table
    expected = segments.features_at(ChurnData.read(processed[name]), cutoff, design=design)
    assert_same_features(got, expected)
    assert (len(got), int(got["active"].sum())) == (rows, active)


def test_the_last_survey_of_a_day_with_several_is_the_tables_last():
    """Several answers on a customer's last survey day: the features from the engine keep the
    table's last, as the pandas path (the engine's own rule, the highest score, is replaced for
    these customers only: engine.survey_ties)."""
    from churn_research import segments
    from churn_research.model import ChurnData

    cust = pd.DataFrame({"customer_id": ["a", "b", "c"],
                         "start_date": pd.to_datetime(["2024-01-01"] * 3),
                         "end_date": pd.to_datetime([None] * 3)})
    surveys = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b", "b", "c", "c"],
        "date": pd.to_datetime(["2024-05-01", "2024-06-01", "2024-06-01",
                                "2024-06-01", "2024-06-01", "2024-06-01",
                                "2024-06-01", "2024-07-01"]),  # c's second answer: after the cutoff
        "csat": [1.0, 4.0, 2.0, np.nan, 3.0, 1.0, 5.0, 1.0],
        "nps": [0.0, 6.0, 9.0, 10.0, 5.0, 8.0, 7.0, 0.0]})
    for order, last in ((surveys, ([2.0, 1.0, 5.0], [9.0, 8.0, 7.0])),
                        (surveys.iloc[[0, 2, 1, 5, 4, 3, 6, 7]], ([4.0, np.nan, 5.0], [6.0, 10.0, 7.0]))):
        data = ChurnData(customers=cust, surveys=order.reset_index(drop=True),
                         observation_end=pd.Timestamp("2024-06-30"))
        src = engine.from_data(data)
        src.surveys = engine.table_of(src, data.surveys, "surveys")
        assert src.survey_ties() == ["a", "b"]
        expected = segments.features_at(data)
        got = segments.features_at(data, engine=src)
        assert_same_features(got, expected)
        np.testing.assert_array_equal(got["csat_last"], last[0])
        np.testing.assert_array_equal(got["nps_last"], last[1])
        np.testing.assert_allclose(got["csat_mean"], [7 / 3, 2.0, 5.0], rtol=1e-15)


def test_amount_between_by_hand():
    from churn_research.model import ChurnData

    cust = pd.DataFrame({"customer_id": ["a", "b", "c"],
                         "start_date": pd.to_datetime(["2024-01-01"] * 3),
                         "end_date": pd.to_datetime([None] * 3)})
    tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "c"],
                       "date": pd.to_datetime(["2024-01-31", "2024-02-01", "2024-02-29",
                                               "2024-02-15", "2024-03-01"]),
                       "amount": [1.0, 2.0, 4.0, 8.0, 16.0]})
    src = engine.from_data(ChurnData(customers=cust, transactions=tx,
                                     observation_end=pd.Timestamp("2024-03-31")))
    # (start, end]: the purchase on the start date is out, the one on the end date in
    assert src.amount_between("2024-01-31", "2024-02-29") == 14.0
    assert src.amount_between("2024-01-31", "2024-02-29", customer_ids=["a", "c"]) == 6.0
    assert src.amount_between("2024-01-31", "2024-02-29", customer_ids=[]) == 0.0
    assert src.amount_between("2025-01-01", "2025-02-01") == 0.0


@pytest.mark.slow
@pytest.mark.parametrize(("name", "revenue", "source"), [
    ("synthetic", 809.9235423, "transactions"),
    ("cdnow", 224.29, "transactions"),
    ("telco", 735.1814843, "monthly_revenue"),
])
def test_window_revenue_from_the_engine_equals_the_pandas_path(processed, name, revenue, source):
    """50_clv's revenue per customer (the cost of churn, the scenarios): the window's purchases
    summed on the engine, as the pandas path sums them."""
    from churn_research import read_stage
    from churn_research.clv.scenarios import churn_cost_inputs
    from churn_research.model import ChurnData, _StoredTable

    data, tables = read_stage(processed[name])
    got = churn_cost_inputs(data, months=12, engine=tables)
    assert type(data._stored("transactions")) in (_StoredTable, type(None))
    expected = churn_cost_inputs(ChurnData.read(processed[name]), months=12)
    assert got["revenue_source"] == expected["revenue_source"] == source
    assert got["annual_revenue_per_customer"] == pytest.approx(
        expected["annual_revenue_per_customer"], rel=1e-12)
    assert got["annual_revenue_per_customer"] == pytest.approx(revenue, rel=1e-6)
    assert got["active"] == expected["active"]


# ------------------------------------------------------------------------------------------
# 50_clv: the money-at-risk bootstrap on distinct lifetimes with counts
# ------------------------------------------------------------------------------------------
def test_product_limit_with_weights_equals_the_rows_repeated():
    from churn_research.annual import product_limit

    rng = np.random.default_rng(7)
    d = rng.integers(1, 40, 300).astype(float)
    e = np.where(rng.random(300) < 0.4, rng.integers(0, 20, 300), 0).astype(float)
    e = np.minimum(e, d - 1)
    ev = rng.random(300) < 0.6
    w = rng.integers(1, 5, 300)
    times, surv = product_limit(np.repeat(d, w), np.repeat(ev, w), np.repeat(e, w))
    t_w, s_w = product_limit(d, ev, e, weights=w)
    np.testing.assert_array_equal(t_w, times)
    np.testing.assert_allclose(s_w, surv, rtol=1e-14, atol=0)
    assert len(times) == 39 and 0 < surv[-1] < 1


@pytest.mark.parametrize("tail", ["weibull", "exponential", "sbg"])
def test_curve_from_distinct_lifetimes_with_counts_equals_the_rows(tail):
    from churn_research.clv.contractual import compact_lifetimes, curve_from_lifetimes
    from churn_research.durations import durations

    data = generate(600, random_state=2)
    rows = durations(data, unit=365.25 / 12, entry_date=data.records_start)
    codes, distinct = compact_lifetimes(rows)
    assert len(distinct) < len(rows) == 600
    pd.testing.assert_frame_equal(distinct.iloc[codes].reset_index(drop=True),
                                  rows[["duration", "event", "entry"]].reset_index(drop=True),
                                  check_exact=True)
    weighted = distinct.assign(weight=np.bincount(codes, minlength=len(distinct)))
    options = {"by": None, "horizon": 120, "tail": tail, "min_at_risk": 30}
    expected = curve_from_lifetimes([(None, rows)], **options)
    got = curve_from_lifetimes([(None, weighted)], **options)
    pd.testing.assert_frame_equal(got.drop(columns="survival"), expected.drop(columns="survival"))
    np.testing.assert_allclose(got["survival"], expected["survival"], rtol=1e-9, atol=1e-12)
    assert got.attrs["t_star"] == expected.attrs["t_star"]
    assert got.attrs["tail_params"]["all"]["tail"] == tail


@pytest.mark.slow
def test_bootstrap_on_distinct_lifetimes_equals_resampled_rows():
    """The money-at-risk replicates (50_clv): each resample's counts of the distinct lifetimes
    give the curves of the resampled rows, with the same random draws."""
    from churn_research.clv import analysis as A
    from churn_research.clv import contractual as C
    from churn_research.clv import risk as R

    data = generate(1500, random_state=4)
    value = A.contractual_value(data, value_col="monthly_revenue", segment_by="plan",
                                after_event=True, tail="weibull", min_at_risk=30, margin=0.3,
                                discount_rate=0.1)
    res, curve = value.residual, value.curve
    kw = {"observation_end": data.observation_end, "observed_from": value.observed_from,
          "min_at_risk": 30, "margin": 0.3, "discount_rate": 0.1, "horizon": 12, "n_boot": 4}
    got = R.bootstrap_contractual(data.customers, res, curve, **kw)
    # the replicates as resampled rows (the bootstrap before the distinct lifetimes)
    groups = C._lifetime_groups(data.customers, observation_end=data.observation_end,
                                period_days=curve.attrs["period_days"],
                                observed_from=value.observed_from, by="plan", everyone=None)
    groups = sorted(groups, key=lambda item: min(item[1].index, default=0))
    seg = res["segment"].astype(str).to_numpy(dtype=object)
    tau = np.floor(np.maximum(res["tenure"].to_numpy(dtype=float), 0)).astype(int)
    rng = np.random.default_rng(0)
    for k in range(4):
        boot = [(name, g.iloc[rng.integers(0, len(g), len(g))]) for name, g in groups]
        bc = C.curve_from_lifetimes(boot, by="plan", period_days=curve.attrs["period_days"],
                                    horizon=int(curve["t"].max()), tail="weibull",
                                    min_at_risk=30, starts=curve.attrs["tail_params"],
                                    refit=True)  # the replicates' fit (models.weibull)
        resid, stay = R.residual_lifetime(bc, seg, tau, discount_rate=0.1, horizon=12)
        np.testing.assert_allclose(got[k].to_numpy(), (1.0 - stay) * 0.3
                                   * res["value_per_period"].to_numpy(float) * resid,
                                   rtol=1e-9, atol=1e-9)
    assert got.shape == (len(res), 4) and got.sum().gt(0).all()


def test_table_names_read_no_table(processed):
    """50_clv's opening sentence names the tables without reading them (at 10^6 customers
    reading them took 20 s and 3.5 GB)."""
    from churn_research.model import ChurnData, _StoredTable
    from churn_research.narrate import clv as say_clv

    data = ChurnData.read(processed["synthetic"])
    names = data.table_names()
    assert names == ["customers", "transactions", "tickets", "surveys", "events"]
    text = say_clv.setting(data, dataset="synthetic", margin=0.3, discount_rate=0.1)
    assert "tables present: customers, events, surveys, tickets, transactions." in text
    assert all(type(data._stored(t)) is _StoredTable for t in names if t != "customers")
    assert names == sorted(ChurnData.read(processed["synthetic"]).tables(), key=names.index)
