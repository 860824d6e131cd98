"""Issue 13 #8: one rule, used by 30_survival and 50_clv, decides whether the sBG model can be
fitted to a dataset (:func:`churn_research.models.shifted_beta_geo.sbg_eligibility`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research.model import ChurnData
from churn_research.models.shifted_beta_geo import ShiftedBetaGeometric, sbg_eligibility
from churn_research.sources.synthetic import generate

# Fader & Hardie (2007), Table 1 (as in tests/test_sbg.py)
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]


def _customers(ends, obs="2018-01-31", n_active=20):
    starts = pd.date_range("2012-01-01", periods=len(ends) + n_active, freq="37D")
    return ChurnData(customers=pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(len(starts))], "start_date": starts,
        "end_date": list(pd.to_datetime(ends)) + [pd.NaT] * n_active}),
        observation_end=pd.Timestamp(obs))


def test_a_snapshot_is_not_eligible():
    # telco-like: every exit in the last month before the snapshot, starts over years
    data = _customers(["2018-01-31"] * 10 + ["2018-01-15"] * 5)
    assert data.is_snapshot
    ok, reason = sbg_eligibility(data)
    assert not ok and reason.startswith("the data are one snapshot: exits are recorded for its "
                                        "last month only")


def test_exits_in_too_few_consecutive_months_are_not_eligible():
    # exits in Nov 2017 and Jan 2018 only (not consecutive): a run of 1 month
    data = _customers(["2017-11-10", "2017-11-20", "2018-01-05", "2018-01-20"])
    assert not data.is_snapshot
    ok, reason = sbg_eligibility(data)
    assert not ok and reason.startswith("exits are observed in only 1 consecutive calendar months")
    ok, _ = sbg_eligibility(_customers(["2017-10-10", "2017-11-20", "2017-12-05", "2018-01-20"]))
    assert ok
    # the window of the fit counts: from 2017-12-01 only two months remain
    ok, reason = sbg_eligibility(_customers(["2017-10-10", "2017-11-20", "2017-12-05", "2018-01-20"]),
                                 observed_from="2017-12-01")
    assert not ok and "only 2 consecutive" in reason


def test_synthetic_data_are_eligible():
    data = generate(1500, random_state=3)
    ok, reason = sbg_eligibility(data)
    assert ok and reason.startswith("exits are observed in") and "consecutive calendar months" in reason
    ok, _ = sbg_eligibility(data, observed_from=data.event_date)   # 50_clv's window
    assert ok


@pytest.mark.parametrize("alive", [REGULAR, HIGH_END, REGULAR[:8]])
def test_published_cohort_tables_are_eligible(alive):
    ok, reason = sbg_eligibility(alive)
    assert ok and reason == f"exits are observed in {len(alive) - 1} consecutive periods of a cohort"
    m = ShiftedBetaGeometric().fit(alive[:8])
    assert sbg_eligibility(alive, fits=[(m.gamma_, m.delta_)])[0]
    ok, _ = sbg_eligibility(np.array([REGULAR, HIGH_END], dtype=float))
    assert ok


def test_cohort_counts_with_exits_in_two_periods_and_the_geometric_limit():
    ok, reason = sbg_eligibility([1000, 900, 800, 800, 800])
    assert not ok and "only 2 consecutive periods of a cohort" in reason
    ok, reason = sbg_eligibility(REGULAR, fits=[(85.4, 32_028.8), (2.39, 12_000.0)])
    assert not ok and reason.startswith("every fit runs to the geometric limit (gamma + delta of 12,002")
    fits = pd.DataFrame({"gamma": [85.4, 1.3], "delta": [32_028.8, 38.0]})
    assert sbg_eligibility(REGULAR, fits=fits)[0]       # one cohort with heterogeneity is enough
    assert sbg_eligibility(REGULAR, fits=[(np.nan, np.nan)]) == (False, "the sBG fit failed")
