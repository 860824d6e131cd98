"""The stages fed from the engine: ``engine.open_stage`` (the one way a notebook gets its engine
tables) and the stage functions that take the engine's aggregated frames give the numbers of
the per-customer pandas path."""

from __future__ import annotations

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
