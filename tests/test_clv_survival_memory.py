"""The lean paths of 50_clv and 30_survival (issue 18: 10^7 customers in 6 GB) give exactly the
numbers of the straightforward computations they replace: each test computes the old way by hand
(a lifetime frame of every customer column, a copy of each segment's or the active customers'
rows with every column, the acquisition windows with every column) and asserts equality, counts
exactly and rates to 1e-12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research import ChurnData, load
from churn_research import survival as sv
from churn_research.clv import analysis as A
from churn_research.clv import contractual as C
from churn_research.clv.formulas import period_discount_rate
from churn_research.durations import DAYS_PER_MONTH, durations

RTOL = 1e-12


@pytest.fixture(scope="module")
def synth() -> ChurnData:
    return load("synthetic", n_customers=3000, random_state=1)


def _old_groups(customers, *, observation_end, observed_from, by, everyone):
    """``_lifetime_groups`` before issue 18: the lifetime frame of every customer column."""
    data = ChurnData(customers=customers, observation_end=pd.Timestamp(observation_end))
    dur = durations(data, unit=DAYS_PER_MONTH, entry_date=observed_from)
    if by is None:
        return [(everyone, dur)]
    dur["segment"] = dur[by].astype(str).to_numpy()
    return list(dur.groupby("segment", sort=True))


@pytest.mark.parametrize("by", ["plan", None])
def test_lifetime_groups_read_only_the_lifetime_columns(synth, by):
    options = {"observation_end": synth.observation_end, "observed_from": synth.event_date,
               "by": by, "everyone": "all"}
    old = _old_groups(synth.customers, **options)
    new = C._lifetime_groups(synth.customers, period_days=DAYS_PER_MONTH, **options)
    assert [name for name, _ in new] == [name for name, _ in old]
    assert sum(len(g) for _, g in new) == sum(len(g) for _, g in old) == 1846  # left before the change: out
    for (_, got), (_, expected) in zip(new, old, strict=True):
        assert list(got.columns) == ["duration", "event", "entry"]
        pd.testing.assert_frame_equal(got, expected[["duration", "event", "entry"]], check_exact=True)
    # only the lifetime columns are copied: no customer attribute travels with the groups
    assert "monthly_revenue" in synth.customers.columns


def _old_contractual_clv(customers, curve, *, value_col, margin, discount_rate):
    """``contractual_clv`` before issue 18: a copy of each segment's rows, every column."""
    by = curve.attrs.get("by")
    v = 1.0 / (1.0 + period_discount_rate(discount_rate, curve.attrs.get("period_days", DAYS_PER_MONTH)))
    rows = {}
    for seg, g in C._curve_groups(curve).items():
        s, disc = g["survival"].to_numpy(), v ** g["t"].to_numpy()
        members = customers if by is None else customers[customers[by].astype(str) == seg]
        value = float(members[value_col].mean())
        rows[seg] = (len(members), value, margin * value * float((s * disc).sum()))
    return rows


def _old_residual(customers, observation_end, value_col):
    """``residual_clv``'s active customers before issue 18: a copy of their rows, every column."""
    end = pd.to_datetime(customers["end_date"])
    return customers[end.isna() | (end > pd.Timestamp(observation_end))]


@pytest.mark.parametrize("segment_by", ["plan", None])
def test_contractual_value_equals_the_full_frame_computation(synth, segment_by):
    value = A.contractual_value(synth, value_col="monthly_revenue", segment_by=segment_by,
                                after_event=True, tail="weibull", min_at_risk=30, margin=0.3,
                                discount_rate=0.1)
    # the curve from the lifetime frame of every column
    groups = _old_groups(synth.customers, observation_end=synth.observation_end,
                         observed_from=value.observed_from, by=segment_by, everyone=None)
    curve = C.curve_from_lifetimes(groups, by=segment_by, horizon=600, tail="weibull", min_at_risk=30)
    pd.testing.assert_frame_equal(value.curve.drop(columns="survival"), curve.drop(columns="survival"))
    np.testing.assert_allclose(value.curve["survival"], curve["survival"], rtol=RTOL, atol=0)
    assert value.curve.attrs["t_star"] == curve.attrs["t_star"]
    old = _old_contractual_clv(synth.customers, curve, value_col="monthly_revenue", margin=0.3,
                               discount_rate=0.1)
    assert list(value.segments.index) == list(old)
    for seg, (n, mean, clv) in old.items():
        assert int(value.segments.loc[seg, "customers"]) == n
        np.testing.assert_allclose(value.segments.loc[seg, ["value_per_period", "clv"]].to_numpy(float),
                                   [mean, clv], rtol=RTOL, atol=0)
    active = _old_residual(synth.customers, synth.observation_end, "monthly_revenue")
    assert list(value.residual.index) == active["customer_id"].tolist()
    np.testing.assert_array_equal(value.residual["value_per_period"].to_numpy(),
                                  active["monthly_revenue"].to_numpy(float))
    tenure = ((pd.Timestamp(synth.observation_end) - active["start_date"]).dt.days / DAYS_PER_MONTH).to_numpy()
    np.testing.assert_allclose(value.residual["tenure"].to_numpy(), tenure, rtol=RTOL, atol=0)
    seg = active[segment_by].astype(str).to_numpy() if segment_by else np.full(len(active), "all")
    assert value.residual["segment"].tolist() == list(seg)
    tau = np.floor(np.maximum(tenure, 0)).astype(int)
    resid, _ = C.residual_lifetime(curve, seg, tau, discount_rate=0.1)
    np.testing.assert_allclose(value.residual["residual_clv"].to_numpy(),
                               0.3 * active["monthly_revenue"].to_numpy(float) * resid, rtol=RTOL, atol=0)


def test_sbg_fit_equals_the_full_frame_fit(synth):
    from churn_research.models.shifted_beta_geo import fit_sbg_durations

    got = C.fit_sbg(synth.customers, observation_end=synth.observation_end,
                    observed_from=synth.event_date, by="plan")
    groups = _old_groups(synth.customers, observation_end=synth.observation_end,
                         observed_from=synth.event_date, by="plan", everyone="all")
    assert list(got.index) == [name for name, _ in groups]
    for name, g in groups:
        ga, de, ll = fit_sbg_durations(g["duration"].to_numpy(), g["event"].to_numpy(),
                                       g["entry"].to_numpy(), return_ll=True)
        assert int(got.loc[name, "customers"]) == len(g)
        np.testing.assert_allclose(got.loc[name, ["gamma", "delta", "log_likelihood"]].to_numpy(float),
                                   [ga, de, ll], rtol=RTOL, atol=0)


def test_change_analysis_compares_the_acquisition_windows_of_the_full_frame(synth):
    df = sv.lifetimes(synth, unit="months")
    data_model, df_model = sv.model_sample(synth, df, 1000, random_state=0)
    covariates = ["gender", "plan", "contract"]
    change = sv.change_analysis(synth, df, data_model, df_model, covariates=covariates,
                                horizons=[12, 24, 36])
    assert change is not None and change.acquired_test is not None
    # the acquisition windows cut from the frame of every column, as before
    full = sv.acquired_before_after(df, change_date=change.date)
    assert len(full.columns) > len(change.acquired.columns)
    pd.testing.assert_frame_equal(change.acquired, full[list(change.acquired.columns)], check_exact=True)
    assert change.acquired.attrs == full.attrs
    hs = [h for h in [12, 24, 36] if h < full.attrs["window"]] or [round(full.attrs["window"] / 2)]
    expected = sv.km_summary(full, by="acquired", horizons=hs, rmst_horizon=max(hs))
    got = change.acquired_summary
    assert got["customers"].tolist() == expected["customers"].tolist()
    assert got["churned"].tolist() == expected["churned"].tolist()
    numeric = [c for c in expected.columns if expected[c].dtype.kind == "f"]
    np.testing.assert_allclose(got[numeric].to_numpy(float), expected[numeric].to_numpy(float),
                               rtol=RTOL, atol=0)
    test = sv.logrank(full, by="acquired")
    assert change.acquired_test["df"] == test["df"] and change.acquired_test["method"] == test["method"]
    np.testing.assert_allclose([change.acquired_test["test_statistic"], change.acquired_test["p"]],
                               [test["test_statistic"], test["p"]], rtol=RTOL, atol=0)
    pd.testing.assert_frame_equal(change.acquired_test["table"], test["table"], rtol=RTOL, atol=0)


@pytest.mark.parametrize("after_change", [True, False])
def test_durations_attributes_are_the_customers_columns(synth, after_change):
    """Attributes by position, without a take when every row is kept (the text columns then share
    the customers' buffers): the values of the hash join they replace, and the caller's table
    untouched (its dates stay text)."""
    customers = synth.customers.assign(start_date=synth.customers["start_date"].dt.strftime("%Y-%m-%d"))
    data = synth.replace(customers=customers)
    df = durations(data, unit="months", entry_date=synth.event_date if after_change else None)
    assert len(df) == (1846 if after_change else 3000)  # left before the change: dropped (a take)
    attrs = [c for c in customers.columns if c not in ("customer_id", "start_date", "end_date")]
    expected = customers.set_index("customer_id").loc[df["customer_id"], attrs].reset_index(drop=True)
    pd.testing.assert_frame_equal(df[attrs], expected, check_exact=True)
    assert customers["start_date"].dtype != "datetime64[ns]" and isinstance(customers["start_date"].iloc[0], str)
    if not after_change:  # every row kept: the text columns are the customers' own buffers
        for col in ("plan", "region"):
            a, b = df[col].array, customers[col].array
            if hasattr(a, "_pa_array"):
                assert a._pa_array.chunks[0].buffers()[-1].address == b._pa_array.chunks[0].buffers()[-1].address
