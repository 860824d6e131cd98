"""The engine layer (``churn_research.sources.engine``, Ibis on DuckDB) gives the numbers of the
pandas path: churn tables (counts exactly, rates to 1e-12), cohort retention, the BTYD summary,
and BG/NBD / gamma-gamma fits on grouped sufficient statistics equal to the per-customer fits
(and to the published CDNOW estimates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research import load
from churn_research.clv import BetaGeo, GammaGamma, rfm_summary
from churn_research.indicators import churn_table, cohort_retention
from churn_research.model import ChurnData, ChurnDataError
from churn_research.sources import engine
from churn_research.synthetic import generate

COUNTS = ["at_risk", "new", "returned", "churned", "churned_new", "at_end", "exposed",
          "numerator", "denominator"]
RATES = ["churn_rate", "churn_ci_low", "churn_ci_high", "retention_rate", "retention_ci_low",
         "retention_ci_high"]
CDNOW_CAL = "1997-09-30"


def assert_same_table(expected: pd.DataFrame, got: pd.DataFrame, *, backend: str = "duckdb") -> None:
    """Same columns, rows, labels and counts exactly; rates to 1e-12; same attrs (``got``'s
    ``engine`` attr names ``backend``; an engine-made ``expected`` carries its own)."""
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    labels = [c for c in expected.columns if c not in COUNTS + RATES]
    for col in labels:  # segment levels (missing ones included), periods, days
        pd.testing.assert_series_equal(got[col], expected[col], check_exact=True, obj=col)
    for col in COUNTS:
        assert got[col].dtype == np.int64, col
        np.testing.assert_array_equal(got[col].to_numpy(), expected[col].to_numpy(), err_msg=col)
    for col in RATES:
        np.testing.assert_allclose(got[col].to_numpy(float), expected[col].to_numpy(float),
                                   rtol=0, atol=1e-12, err_msg=col)
    assert ({k: v for k, v in got.attrs.items() if k != "engine"}
            == {k: v for k, v in expected.attrs.items() if k != "engine"})
    assert got.attrs["engine"] == backend


# ------------------------------------------------------------------------------------------
# datasets: synthetic (3,000 customers; also read as a purchase log), telco, cdnow
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic() -> ChurnData:
    data = generate(3000, random_state=5)
    return data.replace(customers=data.customers.drop(columns=["name", "phone", "email"]))


@pytest.fixture(scope="module")
def datasets(synthetic) -> dict[str, ChurnData]:
    return {"synthetic": synthetic,
            "synthetic_log": synthetic.replace(kind="non-contractual"),
            "telco": load("telco"),
            "cdnow": load("cdnow")}


CASES = [
    ("synthetic", {"freq": "Q"}),
    ("synthetic", {"freq": "M", "by": "plan"}),
    ("synthetic", {"freq": "Q", "by": ["region", "tenure_group"], "new_tenure_months": 6}),
    ("synthetic", {"freq": "H", "by": "contract", "denominator": "start"}),
    ("synthetic", {"freq": "Y", "start": "2022-03-15", "end": "2024-08-10"}),
    ("synthetic_log", {"freq": "M", "by": "plan"}),
    ("synthetic_log", {"freq": "Q", "by": "tenure_group", "lapses": "final"}),
    ("synthetic_log", {"freq": "Q", "inactivity_days": 60}),
    ("telco", {"freq": "M"}),
    ("telco", {"freq": "Q", "by": ["contract", "tenure_group"]}),
    ("telco", {"freq": "M", "by": "internet_service", "denominator": "start"}),
    ("cdnow", {"freq": "M"}),
    ("cdnow", {"freq": "Q", "by": "tenure_group"}),
    ("cdnow", {"freq": "M", "lapses": "final", "denominator": "start"}),
    ("cdnow", {"freq": "Q", "inactivity_days": 90}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "options"), CASES,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for n, o in CASES])
def test_churn_table_equals_the_pandas_path(datasets, name, options):
    data = datasets[name]
    assert_same_table(churn_table(data, **options),
                      engine.churn_table(engine.from_data(data), **options))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["synthetic", "synthetic_log", "telco", "cdnow"])
def test_cohort_retention_equals_the_pandas_path(datasets, name):
    data = datasets[name]
    src = engine.from_data(data)
    expected, got = cohort_retention(data), engine.cohort_retention(src)
    assert got.index.tolist() == expected.index.tolist()
    assert got.columns.tolist() == expected.columns.tolist()
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)
    pd.testing.assert_series_equal(got.attrs["sizes"], expected.attrs["sizes"])
    long_e = cohort_retention(data, wide=False, max_months=12)
    long_g = engine.cohort_retention(src, wide=False, max_months=12)
    pd.testing.assert_frame_equal(long_g, long_e, check_exact=False, rtol=0, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "calibration_end", "observation_end"), [
    ("cdnow", CDNOW_CAL, "1998-06-30"), ("cdnow", CDNOW_CAL, None),
    ("synthetic", "2024-12-31", "2025-12-31")])
@pytest.mark.parametrize("freq", ["W", "M", "D"])
def test_rfm_summary_equals_the_pandas_path(datasets, name, calibration_end, observation_end, freq):
    data = datasets[name]
    expected = rfm_summary(data.transactions, calibration_end=calibration_end,
                           observation_end=observation_end, freq=freq)
    got = engine.rfm_summary(engine.from_data(data), calibration_end=calibration_end,
                             observation_end=observation_end, freq=freq)
    assert got.index.is_monotonic_increasing and got.index.is_unique
    assert sorted(got.index) == sorted(expected.index)
    got = got.loc[expected.index]
    assert list(got.columns) == list(expected.columns)
    assert got.attrs == expected.attrs
    for col in expected.columns:
        e, g = expected[col], got[col]
        assert g.dtype == e.dtype, col
        if col in ("frequency", "frequency_holdout", "first_purchase", "recency", "T",
                   "duration_holdout"):
            np.testing.assert_array_equal(g.to_numpy(), e.to_numpy(), err_msg=col)
        else:  # sums of amounts: the engine adds in another order
            np.testing.assert_allclose(g.to_numpy(), e.to_numpy(), rtol=1e-12, atol=0, err_msg=col)


# ------------------------------------------------------------------------------------------
# edge cases, by hand
# ------------------------------------------------------------------------------------------
def _contractual() -> ChurnData:
    rows = [
        # id, start, end, plan
        ("same_period", "2024-02-03", "2024-02-20", "basic"),     # joins and leaves in Q1
        ("ends_on_boundary", "2023-05-01", "2024-04-01", "basic"),  # churns on Q2's first day
        ("starts_on_boundary", "2024-04-01", None, "basic"),      # new in Q2, not at risk
        ("no_end", "2023-01-15", None, "premium"),
        ("ends_after_obs", "2023-03-01", "2025-03-01", "premium"),  # unknown: censored
        ("ends_last_day", "2023-06-30", "2024-09-30", "premium"),   # churns on the window's last day
        ("before_window", "2022-11-30", "2024-01-01", "premium"),   # at risk from the window start
        ("month_end_start", "2024-01-31", "2024-03-29", "basic"),   # anniversary clipped to Feb 29
        ("solo", "2023-12-31", "2024-05-15", "solo"),               # a segment of one customer
    ]
    cust = pd.DataFrame(rows, columns=["customer_id", "start_date", "end_date", "plan"])
    cust["start_date"] = pd.to_datetime(cust["start_date"])
    cust["end_date"] = pd.to_datetime(cust["end_date"])
    return ChurnData(customers=cust, observation_end=pd.Timestamp("2024-09-30"),
                     records_start=pd.Timestamp("2024-01-01"))


@pytest.mark.parametrize("options", [
    {"freq": "Q"}, {"freq": "M"}, {"freq": "Q", "by": "plan"},
    {"freq": "M", "by": ["plan", "tenure_group"], "new_tenure_months": 1},
    {"freq": "Q", "by": "tenure_group", "denominator": "start"},
    {"freq": "Y", "start": "2023-07-01"}])
def test_contractual_edge_cases(options):
    data = _contractual()
    assert_same_table(churn_table(data, **options),
                      engine.churn_table(engine.from_data(data), **options))


@pytest.mark.parametrize("by", ["plan", ["flag", "plan"], ["plan", "tenure_group"]])
def test_missing_and_boolean_segment_values(by):
    data = _contractual()
    cust = data.customers.copy()
    cust.loc[[1, 4], "plan"] = np.nan  # customers without a plan form their own segment
    cust["flag"] = [True, False] * 4 + [True]
    data = data.replace(customers=cust)
    expected = churn_table(data, freq="Q", by=by)
    # one missing-plan level (two with the flag or tenure split), three quarters each
    assert expected["plan"].isna().sum() == 3 * (1 if by == "plan" else 2)
    assert_same_table(expected, engine.churn_table(engine.from_data(data), freq="Q", by=by))


def test_edge_case_counts_by_the_definitions():
    t = engine.churn_table(engine.from_data(_contractual()), freq="Q", by="plan")
    q = t.set_index(["plan", "period"])
    # basic: same_period and month_end_start join and leave in Q1; ends_on_boundary was on the
    # books on 1 April and churns in Q2; starts_on_boundary is new in Q2, not at risk at its start
    assert q.loc[("basic", "2024Q1"), ["at_risk", "new", "churned", "churned_new"]].tolist() == [1, 2, 2, 2]
    assert q.loc[("basic", "2024Q2"), ["at_risk", "new", "churned", "churned_new"]].tolist() == [1, 1, 1, 0]
    # premium: ends_after_obs is censored; ends_last_day churns in Q3 (the last, full period)
    assert q.loc[("premium", "2024Q3"), ["at_risk", "churned", "at_end"]].tolist() == [3, 1, 2]
    assert q.loc[("premium", "2024Q1"), ["at_risk", "churned"]].tolist() == [4, 1]
    # one customer in the segment: rate 1 in the quarter they leave, 0 before, NaN after
    solo = q.loc["solo"]
    assert solo["at_risk"].tolist() == [1, 1, 0] and solo["churned"].tolist() == [0, 1, 0]
    assert solo["churn_rate"].tolist()[:2] == [0.0, 1.0] and np.isnan(solo["churn_rate"].iloc[2])


def _purchase_log() -> ChurnData:
    tx = pd.DataFrame([
        ("lapse_and_return", "2020-01-05", 10.0), ("lapse_and_return", "2020-05-01", 20.0),
        ("lapse_and_return", "2020-05-01", 5.0),   # same day: one purchase, amounts summed
        ("lapse_and_return", "2020-05-20", 7.0),
        ("gap_exactly_90", "2020-02-01", 3.0), ("gap_exactly_90", "2020-05-01", 3.0),
        ("gap_91", "2020-02-01", 4.0), ("gap_91", "2020-05-02", 4.0),
        ("one_purchase", "2020-03-31", 9.0),
        ("late_buyer", "2020-11-30", 1.0),
        ("solo", "2020-01-01", 2.0), ("solo", "2020-01-02", 2.0),
    ], columns=["customer_id", "date", "amount"])
    tx["date"] = pd.to_datetime(tx["date"])
    first = tx.groupby("customer_id", sort=False)["date"].min()
    cust = pd.DataFrame({"customer_id": [*first.index, "no_purchase"],
                         "start_date": [*first.to_numpy(), np.datetime64("2020-06-15")],
                         "end_date": pd.NaT})
    cust["segment"] = np.where(cust["customer_id"] == "solo", "solo", "many")
    return ChurnData(customers=cust, transactions=tx, observation_end=pd.Timestamp("2020-12-31"),
                     kind="non-contractual", inactivity_days=90)


@pytest.mark.parametrize("options", [
    {"freq": "M"}, {"freq": "Q", "by": "segment"}, {"freq": "M", "lapses": "final"},
    {"freq": "Q", "by": ["segment", "tenure_group"], "new_tenure_months": 2},
    {"freq": "M", "inactivity_days": 30, "denominator": "start"}])
def test_purchase_log_edge_cases(options):
    data = _purchase_log()
    assert_same_table(churn_table(data, **options),
                      engine.churn_table(engine.from_data(data), **options))


def test_purchase_log_lapses_by_the_definitions():
    t = engine.churn_table(engine.from_data(_purchase_log()), freq="Q").set_index("period")
    # window ends 91 days before the snapshot; lapses dated at the purchase before the gap:
    # Q1: lapse_and_return (5 Jan), gap_91 (1 Feb), one_purchase (31 Mar), solo (2 Jan);
    # gap_exactly_90 does not lapse (90 days is not more than 90); Q2: lapse_and_return
    # returns on 1 May and lapses again (20 May), gap_91 returns (2 May) and lapses then,
    # gap_exactly_90 lapses at its last purchase (1 May)
    assert t.loc["2020Q1", ["new", "returned", "churned"]].tolist() == [5, 0, 4]
    assert t.loc["2020Q2", ["at_risk", "returned", "churned", "churned_new"]].tolist() == [1, 2, 3, 2]


def test_btyd_summary_same_day_purchases_are_one():
    got = engine.rfm_summary(engine.from_data(_purchase_log()), calibration_end="2020-06-30",
                             freq="D")
    row = got.loc["lapse_and_return"]
    assert row["frequency"] == 2 and row["recency"] == 136.0 and row["T"] == 177.0
    assert row["monetary_value"] == pytest.approx((25.0 + 7.0) / 2, rel=1e-15)
    assert "late_buyer" not in got.index and "no_purchase" not in got.index


def test_errors_name_the_table_and_column():
    data = _purchase_log()
    bad = data.replace(transactions=pd.concat([data.transactions, pd.DataFrame(
        {"customer_id": ["ghost"], "date": [pd.Timestamp("2020-03-01")], "amount": [1.0]})]))
    with pytest.raises(ChurnDataError, match=r"1 row\(s\) refer to unknown customers") as err:
        engine.churn_table(engine.from_data(bad))
    assert err.value.table == "transactions" and err.value.column == "customer_id"
    with pytest.raises(ChurnDataError, match="segment column 'tier' not found"):
        engine.churn_table(engine.from_data(_contractual()), by="tier")
    with pytest.raises(ChurnDataError, match="negative amounts"):
        neg = data.replace(transactions=data.transactions.assign(amount=-1.0))
        engine.rfm_summary(engine.from_data(neg), calibration_end="2020-06-30")
    with pytest.raises(ValueError, match="denominator must be 'exposed' or 'start'"):
        engine.churn_table(engine.from_data(_contractual()), denominator="end")


# ------------------------------------------------------------------------------------------
# sources: files read in place
# ------------------------------------------------------------------------------------------
def test_parquet_glob_csv_and_duckdb_file_give_the_same_table(tmp_path, synthetic):
    data = synthetic
    expected = churn_table(data, freq="Q", by="plan")
    parts = tmp_path / "customers"
    parts.mkdir()
    half = len(data.customers) // 2
    data.customers.iloc[:half].to_parquet(parts / "part-0.parquet", index=False)
    data.customers.iloc[half:].to_parquet(parts / "part-1.parquet", index=False)
    settings = {"observation_end": data.observation_end, "records_start": data.records_start}
    src = engine.from_files(parts / "*.parquet", **settings)
    assert_same_table(expected, engine.churn_table(src, freq="Q", by="plan"))
    data.customers.to_csv(tmp_path / "customers.csv", index=False)
    src = engine.from_files(tmp_path / "customers.csv", **settings)
    assert_same_table(expected, engine.churn_table(src, freq="Q", by="plan"))
    db = tmp_path / "churn.duckdb"
    con = engine.connect(db)
    con.create_table("customers", data.customers)
    con.disconnect()
    src = engine.Tables(engine.connect(db), "customers", **settings)
    assert_same_table(expected, engine.churn_table(src, freq="Q", by="plan"))


def test_from_processed_reads_meta(tmp_path, synthetic):
    synthetic.write(tmp_path / "syn")
    src = engine.from_processed(tmp_path / "syn")
    assert src.records_start == synthetic.records_start and src.kind == "contractual"
    assert_same_table(churn_table(synthetic, freq="M"), engine.churn_table(src, freq="M"))
    with pytest.raises(ChurnDataError, match="no processed data in"):
        engine.from_processed(tmp_path / "missing")


# ------------------------------------------------------------------------------------------
# models on sufficient statistics
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=[True, False], ids=["cdnow_sample", "cdnow_master"])
def cdnow_fits(request):
    data = load("cdnow", sample=request.param)
    summary = rfm_summary(data.transactions, calibration_end=CDNOW_CAL)
    stats = engine.btyd_statistics(engine.from_data(data), calibration_end=CDNOW_CAL)
    return request.param, summary, stats


@pytest.mark.slow
def test_bgnbd_on_grouped_statistics_equals_the_customer_fit(cdnow_fits):
    sample, s, stats = cdnow_fits
    g = stats["bgnbd"]
    assert int(g["customers"].sum()) == len(s)
    assert len(g) < len(s) / 2  # the point: far fewer rows than customers
    full = BetaGeo().fit(s["frequency"], s["recency"], s["T"])
    grouped = BetaGeo().fit(g["frequency"], g["recency"], g["T"], weights=g["customers"])
    np.testing.assert_allclose(grouped.params_, full.params_, rtol=0, atol=1e-8)
    assert grouped.log_likelihood_ == pytest.approx(full.log_likelihood_, rel=1e-12)
    assert grouped.n_customers_ == len(s)
    if sample:  # Fader, Hardie & Lee (2005)
        assert grouped.params_.round(3).tolist() == [0.243, 4.414, 0.793, 2.426]
        assert grouped.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    else:
        np.testing.assert_allclose(grouped.params_, [0.2516, 4.7889, 0.7234, 2.1611], atol=2e-4)


@pytest.mark.slow
def test_gamma_gamma_on_grouped_statistics_equals_the_customer_fit(cdnow_fits):
    sample, s, stats = cdnow_fits
    g = stats["gamma_gamma"]
    repeat = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
    assert int(g["customers"].sum()) == len(repeat)
    full = GammaGamma().fit(s["frequency"], s["monetary_value"])
    grouped = GammaGamma().fit(g["frequency"], g["monetary_value"], weights=g["customers"])
    np.testing.assert_allclose(grouped.params_, full.params_, rtol=0, atol=1e-8)
    assert grouped.n_customers_ == full.n_customers_ == len(repeat)
    if sample:  # Fader & Hardie (2013)
        assert grouped.params_.round(2).tolist() == [6.25, 3.74, 15.44]


def test_gamma_gamma_weights_are_checked():
    with pytest.raises(ValueError, match="weights must be one non-negative number per row"):
        GammaGamma().fit([1, 2, 3], [10.0, 20.0, 30.0], weights=[1, -1, 1])
    with pytest.raises(ValueError, match="at least 3 customers"):
        GammaGamma().fit([1, 2, 3], [10.0, 20.0, 30.0], weights=[1, 1, 0])


# ------------------------------------------------------------------------------------------
# lifetimes: Kaplan-Meier, log-rank and the sBG cohort table from per-duration counts
# ------------------------------------------------------------------------------------------
#: (dataset, segment column or None, lifetimes options); the Spark test reuses the synthetic ones
LIFETIME_CASES = [
    ("synthetic", "plan", {}),
    ("synthetic", "region", {"unit": "weeks"}),
    ("synthetic", None, {"entry_date": None}),
    ("synthetic_log", "plan", {}),
    ("synthetic_log", None, {"inactivity_days": 60, "unit": "days"}),
    ("telco", "contract", {}),
    ("telco", "internet_service", {"unit": "days"}),
    ("cdnow", None, {}),
]
LIFETIME_IDS = [f"{n}-{b}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for n, b, o in LIFETIME_CASES]
EVENT_TABLE = ["removed", "observed", "censored", "entrance", "at_risk"]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "by", "options"), LIFETIME_CASES, ids=LIFETIME_IDS)
def test_km_and_logrank_from_counts_equal_the_pandas_path(datasets, name, by, options):
    from churn_research.durations import durations
    from churn_research.survival import km_fit, logrank

    data = datasets[name]
    df = durations(data, **options)
    counts = engine.lifetime_counts(engine.from_data(data), by=by, **options)
    assert counts["attrs"]["calendar_months"] == df.attrs["calendar_months"]
    assert counts["attrs"]["censor_date"] == df.attrs["censor_date"]
    assert int(counts["exits"]["n"].sum()) == int(counts["entries"]["n"].sum()) == len(df)
    assert len(counts["exits"]) < len(df)  # grouped: fewer rows than customers
    tables = engine.km_table(counts)
    fitters = km_fit(df, by=by, min_size=1)
    assert [str(k) for k in tables] == ([str(k) for k in fitters] if by else ["None"])
    for key, kmf in fitters.items():
        got = tables[None if by is None else key]
        expected = kmf.event_table
        np.testing.assert_array_equal(got.index.to_numpy(), expected.index.to_numpy())
        np.testing.assert_array_equal(got[EVENT_TABLE].to_numpy(np.int64),
                                      expected[EVENT_TABLE].to_numpy(np.int64))
        surv = kmf.survival_function_.iloc[:, 0].reindex(got.index).to_numpy()
        np.testing.assert_allclose(got["survival"].to_numpy(), surv, rtol=0, atol=1e-12)
    if by is not None:
        expected = logrank(df, by=by, min_size=1)
        got = engine.logrank_counts(counts)
        assert got["df"] == expected["df"]
        assert got["test_statistic"] == pytest.approx(expected["test_statistic"], rel=1e-9)
        assert got["p"] == pytest.approx(expected["p"], rel=1e-6, abs=1e-300)
        assert got["table"]["group"].astype(str).tolist() == expected["table"]["group"].astype(str).tolist()
        np.testing.assert_array_equal(got["table"]["customers"], expected["table"]["customers"])
        np.testing.assert_array_equal(got["table"]["observed"], expected["table"]["observed"])
        np.testing.assert_allclose(got["table"]["expected"], expected["table"]["expected"],
                                   rtol=1e-12, atol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "cohort_freq"), [("synthetic", "Q"), ("synthetic_log", "M"),
                                                    ("telco", "Y"), ("cdnow", "Q")])
def test_sbg_on_engine_cohort_counts_equals_the_pandas_fit(datasets, name, cohort_freq):
    from churn_research.durations import durations
    from churn_research.survival import cohort_table, fit_sbg_cohorts

    data = datasets[name]
    expected = cohort_table(durations(data), cohort_freq=cohort_freq)
    got = engine.sbg_cohort_table(engine.from_data(data), cohort_freq=cohort_freq)
    assert got.index.tolist() == expected.index.tolist()
    assert got.columns.tolist() == expected.columns.tolist()
    assert got.attrs == expected.attrs
    np.testing.assert_array_equal(got.isna().to_numpy(), expected.isna().to_numpy())
    np.testing.assert_array_equal(got.fillna(-1).to_numpy(), expected.fillna(-1).to_numpy())
    fit_e, fit_g = fit_sbg_cohorts(expected), fit_sbg_cohorts(got)
    assert list(fit_g) == list(fit_e) and len(fit_e) >= 1
    for c in fit_e:
        assert (fit_g[c].gamma_, fit_g[c].delta_) == (fit_e[c].gamma_, fit_e[c].delta_)
        assert fit_g[c].log_likelihood_ == fit_e[c].log_likelihood_


def test_lifetimes_by_hand():
    """Contract ends, censoring and delayed entry of the hand-made contracts, in days."""
    counts = engine.lifetime_counts(engine.from_data(_contractual()), unit="days")
    exits = counts["exits"]
    # ends_after_obs is censored at the observation end; before_window, which ended on the
    # first day of the records, is still in (exit >= entry date), at entry = duration = 397
    assert int(exits["n"].sum()) == 9
    assert exits.loc[exits["event"] == 1, "n"].sum() == 6
    # three joined after the records begin (entry 0); the others enter at their tenure in days
    # on 2024-01-01
    entries = counts["entries"].set_index("entry")["n"]
    assert entries.to_dict() == {0.0: 3, 1.0: 1, 185.0: 1, 245.0: 1, 306.0: 1, 351.0: 1, 397.0: 1}
    exits = exits.set_index(["duration", "event"])["n"]
    assert exits.loc[(397.0, 1)] == 1 and exits.loc[(579.0, 0)] == 1  # before_window, ends_after_obs
    with pytest.raises(ValueError, match="cohort_freq must be a month"):
        engine.sbg_cohort_table(engine.from_data(_contractual()), cohort_freq="H")


# ------------------------------------------------------------------------------------------
# person-period rows
# ------------------------------------------------------------------------------------------
#: (dataset, options of both paths); the Spark test reuses the synthetic ones
PERSON_PERIOD_CASES = [
    ("synthetic", {"columns": ["plan"]}),
    ("synthetic", {"split": False, "complaint_window_days": 30}),
    ("synthetic", {"study_start": "2023-06-15", "complaint_window_days": 45, "columns": ["region"]}),
    ("telco", {"columns": ["contract"]}),
    ("cdnow", {}),
]
PERSON_PERIOD_IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for n, o in PERSON_PERIOD_CASES]


def unique_survey_days(data: ChurnData) -> ChurnData:
    """One survey per customer and day (the one rule where the engine and pandas differ: of
    same-day surveys pandas keeps the file's last, the engine the highest score)."""
    if not data.has("surveys"):
        return data
    return data.replace(surveys=data.surveys.drop_duplicates(["customer_id", "date"], keep="last"))


def engine_person_period(data: ChurnData, src: engine.Tables, options: dict) -> pd.DataFrame:
    return engine.person_period(
        src, tickets=data.tickets if data.has("tickets") else None,
        surveys=data.surveys if data.has("surveys") else None,
        change_date=data.event_date, **options)


def assert_same_rows(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    """Same columns, dtypes and rows (ordered by customer and row start): counts, dates and
    flags exactly, month fractions to 1e-12."""
    assert_same_frame(expected.sort_values(["customer_id", "period_start"]).reset_index(drop=True), got)


def assert_same_frame(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    """Same columns, dtypes and rows in the same order: integers, dates and flags exactly,
    floats to 1e-12."""
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected) > 0
    for col in expected.columns:
        assert got[col].dtype == expected[col].dtype, col
        if expected[col].dtype.kind == "f":
            np.testing.assert_allclose(got[col].to_numpy(), expected[col].to_numpy(), rtol=0,
                                       atol=1e-12, err_msg=col)
        else:
            np.testing.assert_array_equal(got[col].to_numpy(), expected[col].to_numpy(),
                                          err_msg=col)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "options"), PERSON_PERIOD_CASES, ids=PERSON_PERIOD_IDS)
def test_person_period_equals_the_pandas_path(datasets, name, options):
    from churn_research.causes import person_period

    data = unique_survey_days(datasets[name])
    expected = person_period(data, **({"columns": []} | options))
    got = engine_person_period(data, engine.from_data(data), options)
    assert_same_rows(expected, got)
    assert int(got["event"].sum()) == int(expected["event"].sum()) > 100
    if name == "synthetic":
        assert {"change", "complaints_90d", "complaint_90d", "last_csat"} <= set(got.columns)
        assert int(got["complaints_90d"].sum()) > 100 and got["last_csat"].notna().sum() > 1000


def test_person_period_by_hand():
    """A churner's last row runs to the next month start (here the observation end, which comes
    first); complaint on/off days split a month."""
    from churn_research.causes import person_period

    cust = pd.DataFrame({"customer_id": ["a", "b"],
                         "start_date": pd.to_datetime(["2024-01-15", "2024-02-01"]),
                         "end_date": pd.to_datetime(["2024-03-10", None])})
    tickets = pd.DataFrame({"customer_id": ["b"], "date": pd.to_datetime(["2024-02-10"]),
                            "kind": ["Complaint"]})
    data = ChurnData(customers=cust, tickets=tickets, observation_end=pd.Timestamp("2024-03-31"))
    rows = engine.person_period(engine.from_data(data), tickets=tickets, complaint_window_days=10)
    a = rows[rows["customer_id"] == "a"]
    assert a["period_start"].dt.strftime("%m-%d").tolist() == ["01-15", "02-01", "03-01"]
    assert a["period_end"].dt.strftime("%m-%d").tolist() == ["02-01", "03-01", "03-31"]
    assert a["event"].tolist() == [0, 0, 1]
    assert a["time_at_risk"].iloc[-1] * 365.25 / 12 == pytest.approx(9.0, abs=1e-12)
    b = rows[rows["customer_id"] == "b"]
    assert b["period_start"].dt.strftime("%m-%d").tolist() == ["02-01", "02-10", "02-20", "03-01"]
    assert b["complaints_90d"].tolist() == [0, 1, 0, 0]
    assert b["period_end"].iloc[-1] == pd.Timestamp("2024-03-31")  # censored at observation end
    assert_same_rows(person_period(data, complaint_window_days=10, columns=[]), rows)


# ------------------------------------------------------------------------------------------
# features at a cutoff
# ------------------------------------------------------------------------------------------
#: (dataset, cutoff, options of both paths); the Spark test reuses the synthetic ones
FEATURE_CASES = [
    ("synthetic", None, {}),
    ("synthetic", "2024-06-30", {"design": "cross-sectional", "recent_days": 60}),
    ("synthetic", "2023-12-31", {"exclude_recurring": False, "trend_months": 4}),
    ("synthetic_log", "2025-06-30", {}),
    ("telco", None, {"window_days": 180}),
    ("cdnow", "1997-12-31", {}),
]
FEATURE_IDS = [f"{n}-{c}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for n, c, o in FEATURE_CASES]


def engine_features(data: ChurnData, src: engine.Tables, cutoff, options: dict) -> pd.DataFrame:
    """The engine's features with the static columns the pandas path picks, and the RFM scores
    added by the caller's rule (quantile ranks among the customers active at the cutoff)."""
    from churn_research.segments.design import truncate
    from churn_research.segments.features import _static_columns
    from churn_research.segments.scores import quantile_scores

    cut = pd.Timestamp(data.observation_end if cutoff is None else cutoff)
    static = _static_columns(truncate(data, cut).customers.drop(columns=["customer_id"]))
    got = engine.features_at(src, cutoff, tickets=data.tickets if data.has("tickets") else None,
                             surveys=data.surveys if data.has("surveys") else None,
                             static_columns=static, **options)
    ref = got["active"].to_numpy(bool)
    for col, name, better in (("recency_days", "r_score", False), ("frequency", "f_score", True),
                              ("monetary", "m_score", True)):
        got[name] = quantile_scores(got[col], higher_is_better=better, reference=ref)
    return got


@pytest.mark.slow
@pytest.mark.parametrize(("name", "cutoff", "options"), FEATURE_CASES, ids=FEATURE_IDS)
def test_features_at_equals_the_pandas_path(datasets, name, cutoff, options):
    from churn_research.segments.features import features_at

    data = unique_survey_days(datasets[name])
    expected = features_at(data, cutoff, **options)
    got = engine_features(data, engine.from_data(data), cutoff, options)
    assert got.index.is_monotonic_increasing and sorted(expected.index) == list(got.index)
    got = got.loc[expected.index]
    cols = [c for c in expected.columns if c not in ("rfm_code", "rfm_score")]
    assert [c for c in got.columns if c in cols] == [c for c in cols if c not in engine.SCORE_COLUMNS] \
        + ["r_score", "f_score", "m_score"]
    for col in cols:
        e, g = expected[col], got[col]
        assert g.dtype == e.dtype, col
        if e.dtype.kind == "f":  # sums of amounts in another order: relative 1e-12
            np.testing.assert_allclose(g.to_numpy(), e.to_numpy(), rtol=1e-12, atol=1e-12,
                                       err_msg=col)
        else:
            np.testing.assert_array_equal(g.to_numpy(), e.to_numpy(), err_msg=col)
    assert got.attrs == expected.attrs
    assert int(got["active"].sum()) == int(expected["active"].sum()) > 1000


# ------------------------------------------------------------------------------------------
# complaints and surveys per period (telco and cdnow have neither table)
# ------------------------------------------------------------------------------------------
EXPERIENCE_CASES = [
    ("synthetic", {"freq": "Q"}),
    ("synthetic", {"freq": "M", "by": "plan"}),
    ("synthetic", {"freq": "Q", "by": ["region", "tenure_group"], "new_tenure_months": 6}),
    ("synthetic", {"freq": "Y", "start": "2022-03-15", "end": "2024-08-10", "alpha": 0.1}),
    ("synthetic_log", {"freq": "M", "by": "contract"}),
    ("synthetic_log", {"freq": "Q", "by": "tenure_group", "inactivity_days": 60}),
]
EXPERIENCE_IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for n, o in EXPERIENCE_CASES]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "options"), EXPERIENCE_CASES, ids=EXPERIENCE_IDS)
def test_complaint_and_satisfaction_tables_equal_the_pandas_path(datasets, name, options):
    from churn_research.indicators import complaint_table, satisfaction_table

    data = datasets[name]
    src = engine.from_data(data)
    for expected, got in (
            (complaint_table(data, **options), engine.complaint_table(src, tickets=data.tickets, **options)),
            (satisfaction_table(data, satisfied_min=4, **options),
             engine.satisfaction_table(src, surveys=data.surveys, satisfied_min=4, **options))):
        assert_same_frame(expected, got)
        assert got.attrs == expected.attrs
    assert int(got["csat_responses"].sum()) > 1000


def test_experience_tables_check_their_input(synthetic):
    src = engine.from_data(synthetic)
    ghost = pd.DataFrame({"customer_id": ["ghost"], "date": [pd.Timestamp("2024-03-01")],
                          "kind": ["complaint"]})
    with pytest.raises(ChurnDataError, match=r"1 row\(s\) refer to unknown customers") as err:
        engine.complaint_table(src, tickets=pd.concat([synthetic.tickets, ghost]))
    assert err.value.table == "tickets"
    with pytest.raises(ChurnDataError, match="column 'kind' is missing"):
        engine.complaint_table(src, tickets=synthetic.tickets.drop(columns="kind"))
    with pytest.raises(ChurnDataError, match="neither 'csat' nor 'nps'"):
        engine.satisfaction_table(src, surveys=synthetic.surveys.drop(columns=["csat", "nps"]))


def test_duckdb_works_within_the_memory_cap_and_says_how_to_raise_it(monkeypatch):
    """Every DuckDB connection holds its work within the cap (1 GB, or
    CHURN_RESEARCH_DUCKDB_MEMORY); an aggregation that needs more fails with the fix, not
    DuckDB's own advice about SET statements a user cannot reach."""
    import duckdb

    con = engine.connect()
    limit = con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit in ("953.6 MiB", "1000.0 MB")  # 1GB as DuckDB prints it
    monkeypatch.setenv("CHURN_RESEARCH_DUCKDB_MEMORY", "2GB")
    assert engine.duckdb_config()["memory_limit"] == "2GB"
    src = engine.from_data(generate(200, random_state=1))

    def out_of_memory(expr):
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate 256.0 MiB")

    monkeypatch.setattr(src.con, "execute", out_of_memory)
    with pytest.raises(ChurnDataError) as err:
        src.churn_table(freq="Q")
    assert "memory cap of 2GB for an" in str(err.value)  # the user's cap: not retried
    assert "CHURN_RESEARCH_DUCKDB_MEMORY=4GB" in err.value.fix


def test_an_aggregation_out_of_the_cap_is_retried_once_with_the_ceiling(monkeypatch):
    """Without a cap of the user's, an aggregation DuckDB cannot spill within 1 GB (a window at
    10^7 customers) runs once more with a sixth of the machine's memory, and the cap is set
    back after; if that fails too, the error says both."""
    import duckdb

    monkeypatch.delenv("CHURN_RESEARCH_DUCKDB_MEMORY", raising=False)
    monkeypatch.setattr(engine, "duckdb_memory_ceiling", lambda: "3GB")
    src = engine.from_data(generate(200, random_state=1))
    expected = src.churn_table(freq="Q")
    real, seen = src.con.execute, []

    def cap_now():
        return src.con.raw_sql("SELECT current_setting('memory_limit')").fetchall()[0][0]

    def fails_within(limit_text):
        def execute(expr):
            seen.append(cap_now())
            if seen[-1] == limit_text:
                raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate 256.0 MiB")
            return real(expr)
        return execute

    one_gb = cap_now()
    monkeypatch.setattr(src.con, "execute", fails_within(one_gb))
    pd.testing.assert_frame_equal(src.churn_table(freq="Q"), expected)
    assert one_gb in seen and any(s.startswith(("2.7 GiB", "3.0 GB", "2.79")) for s in seen)
    assert cap_now() == one_gb  # set back
    monkeypatch.setattr(src.con, "execute", lambda expr: (_ for _ in ()).throw(
        duckdb.OutOfMemoryException("Out of Memory Error")))
    with pytest.raises(ChurnDataError, match=r"memory cap of 1GB \(and more than 3GB when tried again\)"):
        src.churn_table(freq="Q")
    assert cap_now() == one_gb
    assert engine._bytes("4GB") == 4e9 and engine._bytes("512MB") == 5.12e8 and engine._bytes("?") == 0


def test_arrow_frames_equal_ibis_execute_exactly():
    """Tables.execute(arrow=True) (Arrow -> pandas column by column) gives Ibis' frame: the same
    columns, dtypes and values, nulls included (numeric with some nulls, all nulls, none;
    booleans, strings and dates with nulls take Ibis' own conversion)."""
    import ibis

    con = engine.duckdb_connect()
    frame = pd.DataFrame({
        "customer_id": ["C3", "C1", "C2", None],
        "n": [1, 2, 3, 4],
        "some_null": pd.array([5, None, 7, None], dtype="Int64"),
        "all_null": pd.array([None, None, None, None], dtype="Int64"),
        "x": [0.5, np.nan, 2.0, 1e-300],
        "flag": pd.array([True, None, False, True], dtype="boolean"),
        "day": pd.to_datetime(["2024-01-02", None, "2024-03-04", "2024-05-06"]),
    })
    t = con.create_table("t", frame)
    expr = t.mutate(d=t.day.cast("date"), big=t.n * 2**40, half=t.some_null / 2,
                    none=ibis.null("int64"), empty_str=ibis.null("string")).order_by("n")
    src = engine.Tables(con=con, kind="contractual", customers=t,
                        observation_end="2024-12-31")
    want = con.execute(expr)
    got = src.execute(expr, arrow=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(got.dtypes.astype(str)) == list(want.dtypes.astype(str))
    assert got["some_null"].dtype == np.float64 and got["some_null"].isna().tolist() == [
        False, True, False, True]
    assert got["all_null"].tolist() == want["all_null"].tolist()
    empty = src.execute(expr.filter(expr.n > 10), arrow=True)
    pd.testing.assert_frame_equal(empty, con.execute(expr.filter(expr.n > 10)), check_exact=True)


@pytest.mark.slow
@pytest.mark.parametrize("blocks", [3, 7])
def test_btyd_summary_and_statistics_in_blocks_equal_one_block(datasets, blocks):
    """rfm_summary and btyd_statistics run in blocks of customer_id ranges on DuckDB (at 10^7
    customers the day-level sums of every purchase at once outgrew its memory cap): the same
    rows, values and counts as one block."""
    src = engine.from_data(datasets["cdnow"])
    one = engine.rfm_summary(src, calibration_end=CDNOW_CAL, observation_end="1998-06-30",
                             blocks=1)
    got = engine.rfm_summary(src, calibration_end=CDNOW_CAL, observation_end="1998-06-30",
                             blocks=blocks)
    assert len(one) > 1000 and got.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(got, one, check_exact=True)
    assert got.attrs == one.attrs
    whole = engine.btyd_statistics(src, calibration_end=CDNOW_CAL, blocks=1)
    parts = engine.btyd_statistics(src, calibration_end=CDNOW_CAL, blocks=blocks)
    for key in ("bgnbd", "gamma_gamma"):
        assert int(parts[key]["customers"].sum()) == int(whole[key]["customers"].sum())
        pd.testing.assert_frame_equal(parts[key], whole[key], check_exact=True, obj=key)
