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
