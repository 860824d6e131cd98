"""Tests of churn_research.segments: RFM, tiers, leakage, the risk model, signals, watchlist.

Known answers: hand-built fixtures (RFM scores, tiers, each signal), a structural leakage
test (perturbing every post-cutoff row leaves the features unchanged), and the synthetic
generator's truth (the model must beat a naive baseline, be calibrated, and stay below the
AUC an oracle knowing the true hazard can reach — a tripwire for leakage).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research import segments as S
from churn_research.model import PERSONAL_COLUMNS, ChurnData, ChurnDataError

CUT = pd.Timestamp("2024-12-31")


def _tx(rows):
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).assign(
        date=lambda d: pd.to_datetime(d["date"]))


def _customers(ids, start="2023-01-01", end=None, **cols):
    df = pd.DataFrame({"customer_id": ids, "start_date": pd.Timestamp(start),
                       "end_date": pd.NaT if end is None else pd.to_datetime(end)})
    for k, v in cols.items():
        df[k] = v
    df["end_date"] = pd.to_datetime(df["end_date"])
    return df


# ---------------------------------------------------------------------------------------------
# RFM
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def rfm_data():
    days = lambda n: CUT - pd.Timedelta(days=n)  # noqa: E731
    rows = []
    # C1: recency 10, 5 purchases, 500 in the window (+ one after the cutoff, ignored)
    rows += [("C1", days(10 + 30 * i), 100.0) for i in range(5)]
    rows += [("C1", CUT + pd.Timedelta(days=3), 10_000.0)]
    # C2: recency 20, 4 purchases, 100
    rows += [("C2", days(20 + 30 * i), 25.0) for i in range(4)]
    # C3: recency 40, 3 purchases, 300
    rows += [("C3", days(40 + 30 * i), 100.0) for i in range(3)]
    # C4: recency 80, 2 purchases, 50
    rows += [("C4", days(80 + 30 * i), 25.0) for i in range(2)]
    # C5: recency 160, 1 purchase of 1000 in the window, one of 999 before it (not counted)
    rows += [("C5", days(160), 1000.0), ("C5", days(500), 999.0)]
    tx = _tx(rows)
    cust = _customers(["C1", "C2", "C3", "C4", "C5"], start="2022-06-01")
    return ChurnData(customers=cust, transactions=tx, observation_end=pd.Timestamp("2025-06-30"))


def test_rfm_hand_built(rfm_data):
    r = S.rfm(rfm_data, cutoff=CUT, window_days=365)
    assert list(r.index) == ["C1", "C2", "C3", "C4", "C5"]
    assert r["recency_days"].tolist() == [10, 20, 40, 80, 160]
    assert r["frequency"].tolist() == [5, 4, 3, 2, 1]
    assert r["monetary"].tolist() == [500, 100, 300, 50, 1000]
    assert r["r_score"].tolist() == [5, 4, 3, 2, 1]
    assert r["f_score"].tolist() == [5, 4, 3, 2, 1]
    assert r["m_score"].tolist() == [4, 2, 3, 1, 5]
    assert r["rfm_code"].tolist() == ["554", "442", "333", "221", "115"]
    assert r["rfm_score"].tolist() == [14, 10, 9, 5, 7]
    assert r["active"].all()
    # the bare-transactions form gives the same numbers
    r2 = S.rfm(rfm_data.transactions, cutoff=CUT, window_days=365)
    pd.testing.assert_series_equal(r2["rfm_code"], r["rfm_code"], check_names=False)
    # all history: C5's older purchase now counts
    r3 = S.rfm(rfm_data, cutoff=CUT, window_days=None)
    assert r3.loc["C5", "frequency"] == 2 and r3.loc["C5", "monetary"] == 1999


def test_quantile_scores_ties_and_missing():
    s = S.quantile_scores(pd.Series([1, 1, 2, 3, np.nan, 10, 10, 10, 11, 12]), n_bins=5)
    assert s.iloc[0] == s.iloc[1]                       # ties share a score
    assert s.iloc[5] == s.iloc[6] == s.iloc[7]
    assert pd.isna(s.iloc[4])
    assert s.dropna().min() == 1 and s.dropna().max() == 5
    ten = S.quantile_scores(pd.Series(np.arange(10.0)), n_bins=5)
    assert ten.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert S.quantile_scores(pd.Series(np.arange(10.0)), n_bins=5,
                             higher_is_better=False).tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # scored against a reference group: its quintile cut points apply to everyone
    ref = np.r_[np.ones(10, bool), np.zeros(3, bool)]
    sc = S.quantile_scores(pd.Series(np.r_[np.arange(10.0), -5, 4.5, 99]), reference=ref)
    assert sc.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 1, 3, 5]


def test_rfm_base_keeps_recently_lost_only():
    cust = _customers(["A", "B", "C"], start="2022-01-01",
                      end=[pd.NaT, "2024-06-01", "2023-01-15"])
    tx = _tx([("A", "2024-12-01", 10.0), ("A", "2024-10-01", 10.0), ("B", "2024-05-01", 10.0),
              ("C", "2023-01-01", 10.0)])
    d = ChurnData(customers=cust, transactions=tx, observation_end=pd.Timestamp("2025-06-30"))
    r = S.rfm(d, cutoff=CUT)
    assert list(r.index) == ["A", "B"]                  # C was lost long before the window
    assert r["active"].tolist() == [True, False]
    # scores are quintiles of the active customers; B is scored against them (worse on all)
    assert r["rfm_code"].tolist() == ["555", "111"]


@pytest.mark.million
def test_rfm_of_a_million_customers_counts_every_purchase():
    """Correct at 10^6 customers; the time it takes is measured by `make bench`, not here."""
    rng = np.random.default_rng(0)
    n, m = 1_000_000, 4_000_000
    ids = pd.Categorical.from_codes(rng.integers(0, n, m),
                                    categories=[f"C{i:07d}" for i in range(n)])
    tx = pd.DataFrame({"customer_id": ids,
                       "date": np.datetime64("2024-01-01")
                       + rng.integers(0, 730, m).astype("timedelta64[D]"),
                       "amount": rng.gamma(2.0, 20.0, m)})
    r = S.rfm(tx, cutoff="2025-12-31", window_days=None)
    assert len(r) > 0.98 * n
    assert r["frequency"].sum() == m


# ---------------------------------------------------------------------------------------------
# Tiers
# ---------------------------------------------------------------------------------------------
def test_value_tiers_rules():
    f = pd.DataFrame({
        #         lost   new   quiet  drop   high   loyal  regular young-loyal
        "active": [False, True, True, True, True, True, True, True],
        "tenure_days": [800, 90, 800, 800, 800, 800, 800, 200],
        "recency_days": [300, 5, 75, 5, 5, 5, 5, 5],
        "f_score": [5, 5, 4, 2, 2, 5, 3, 5],
        "m_score": [5, 5, 2, 2, 5, 3, 3, 3],
        "activity_ratio": [np.nan, np.nan, 1.0, 0.3, 1.0, 1.0, 1.0, 1.0],
        "tx_baseline": [0, 0, 10, 10, 10, 10, 10, 10],
    }, index=list("ABCDEFGH"))
    t = S.value_tiers(f)
    assert t.tolist() == ["lost", "new", "at risk", "at risk", "high value", "loyal",
                          "regular", "regular"]
    # thresholds are parameters
    t2 = S.value_tiers(f, new_days=60, at_risk_recency_days=90, at_risk_activity_ratio=0.2,
                       loyal_min_tenure_days=100)
    assert t2.tolist() == ["lost", "high value", "loyal", "regular", "high value", "loyal",
                           "regular", "loyal"]
    # a thin baseline does not make an activity drop
    f.loc["D", "tx_baseline"] = 2
    assert S.value_tiers(f).loc["D"] == "regular"


def test_tier_summary_rates_and_shares():
    f = pd.DataFrame({"value": [100.0, 100, 300, 500]}, index=list("abcd"))
    tiers = pd.Series(pd.Categorical(["new", "new", "loyal", "lost"], categories=S.TIER_ORDER),
                      index=f.index)
    y = pd.Series([1, 0, 0], index=list("abc"))
    s = S.tier_summary(f, tiers, y)
    assert s.loc["new", "customers"] == 2 and s.loc["new", "churn_rate"] == 0.5
    assert s.loc["loyal", "churn_rate"] == 0.0
    assert np.isnan(s.loc["lost", "churn_rate"])        # already lost: no rate
    assert s.loc["lost", "revenue_share"] == pytest.approx(0.5)
    assert s["share"].sum() == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# Leakage
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth():
    from churn_research.data import load
    return load("synthetic", n_customers=10_000, random_state=0)


def _perturb_after(data: ChurnData, cutoff: pd.Timestamp, seed: int = 1) -> ChurnData:
    """Rewrite the future: drop/alter every row dated after the cutoff, change later churns."""
    rng = np.random.default_rng(seed)
    c = data.customers.copy()
    later = c["end_date"] > cutoff
    # churners after the cutoff: some stay forever, the others churn on another later date
    stay = later & (rng.random(len(c)) < 0.5)
    c.loc[stay, "end_date"] = pd.NaT
    move = later & ~stay
    c.loc[move, "end_date"] = cutoff + pd.to_timedelta(rng.integers(1, 300, move.sum()), "D")
    c.loc[later, "churn_reason"] = "price"
    # customers who join after the cutoff disappear; a new one appears
    c = c.loc[c["start_date"] <= cutoff]
    new = c.iloc[:1].copy()
    new["customer_id"] = "NEW0001"
    new["start_date"] = cutoff + pd.Timedelta(days=5)
    c = pd.concat([c, new], ignore_index=True)
    out = {}
    for name in ("transactions", "tickets", "surveys"):
        df = getattr(data, name)
        past = df.loc[df["date"] <= cutoff]
        fut = df.loc[df["date"] > cutoff].sample(frac=0.3, random_state=seed).copy()
        if "amount" in fut:
            fut["amount"] = fut["amount"] * 10
        if "kind" in fut:
            fut["kind"] = "complaint"
        if "csat" in fut:
            fut["csat"] = 1
            fut["nps"] = 0
        out[name] = pd.concat([past, fut], ignore_index=True)
    return data.replace(customers=c, **out, events=data.events.iloc[:0])


@pytest.mark.slow
def test_no_leakage_features_ignore_the_future(synth):
    cutoff = pd.Timestamp("2024-06-30")
    f1 = S.features_at(synth, cutoff)
    perturbed = _perturb_after(synth, cutoff)
    f2 = S.features_at(perturbed, cutoff)
    pd.testing.assert_frame_equal(f1, f2)
    # the perturbation is real: the labels (which look ahead by design) do change
    y1 = S.churn_label(synth, cutoff, horizon_days=180)
    y2 = S.churn_label(perturbed, cutoff, horizon_days=180)
    assert (y1 != y2.reindex(y1.index)).sum() > 50
    # customers who churn after the cutoff look active at the cutoff
    later = synth.customers.loc[(synth.customers["end_date"] > cutoff)
                                & (synth.customers["start_date"] <= cutoff), "customer_id"]
    assert f1.loc[later, "active"].all()
    t = S.truncate(synth, cutoff)
    assert t.customers["end_date"].max() <= cutoff
    assert t.customers.loc[t.customers["end_date"].isna(), "churn_reason"].isna().all()
    for name in ("transactions", "tickets", "surveys"):
        assert getattr(t, name)["date"].max() <= cutoff


def test_no_leakage_non_contractual():
    from churn_research.model import infer_end_dates
    rng = np.random.default_rng(3)
    n = 300
    ids = [f"K{i:03d}" for i in range(n)]
    first = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 200, n), "D")
    rows = []
    for cid, f0 in zip(ids, first, strict=True):
        t = f0
        while t < pd.Timestamp("2025-06-30"):
            rows.append((cid, t, float(rng.gamma(2, 20))))
            t += pd.Timedelta(days=int(rng.exponential(120)) + 1)
    tx = _tx(rows)
    obs = pd.Timestamp("2025-06-30")
    cust = infer_end_dates(pd.DataFrame({"customer_id": ids, "start_date": first}), tx,
                           observation_end=obs, inactivity_days=180)
    full = ChurnData(customers=cust, transactions=tx, observation_end=obs,
                     kind="non-contractual", inactivity_days=180)
    past_tx = tx.loc[tx["date"] <= CUT]
    cust2 = infer_end_dates(pd.DataFrame({"customer_id": ids, "start_date": first}), past_tx,
                            observation_end=obs, inactivity_days=180)
    cut_only = ChurnData(customers=cust2, transactions=past_tx, observation_end=obs,
                         kind="non-contractual", inactivity_days=180)
    f1, f2 = S.features_at(full, CUT), S.features_at(cut_only, CUT)
    pd.testing.assert_frame_equal(f1, f2)
    y = S.churn_label(full, CUT, horizon_days=180)
    assert set(y.index) == set(f1.index[f1["active"]])
    # label = no purchase in (cutoff, cutoff + 180 days]
    nxt = tx.loc[(tx["date"] > CUT) & (tx["date"] <= CUT + pd.Timedelta(days=180)), "customer_id"]
    assert (y == (~y.index.isin(nxt)).astype(int)).all()


def test_cutoff_must_leave_a_full_horizon(synth):
    with pytest.raises(ChurnDataError, match="censored"):
        S.resolve_cutoff(synth, "2025-10-01", horizon_days=180)
    assert S.resolve_cutoff(synth, horizon_days=180) == synth.observation_end - pd.Timedelta(days=180)


# ---------------------------------------------------------------------------------------------
# Risk model on synthetic data
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted(synth):
    cutoff = S.resolve_cutoff(synth, horizon_days=90)     # the early-warning horizon
    feats = S.features_at(synth, cutoff)
    y = S.churn_label(synth, cutoff, horizon_days=90)
    model = S.ChurnRiskModel(random_state=0).fit(feats.loc[y.index], y)
    return feats, y, model


@pytest.mark.slow
def test_model_beats_naive_baseline_and_is_calibrated(fitted):
    feats, y, model = fitted
    s = model.summary_
    best = s.loc[model.best_name_]
    base = s.loc["baseline"]
    assert 0.05 < y.mean() < 0.12                       # ~2-3% monthly churn over 3 months
    # clearly better than the naive one-feature rule (tenure), fold by fold and on average
    folds = model.cv_results_.pivot(index="fold", columns="model", values="auc")
    assert (folds[model.best_name_] > folds["baseline"]).all()
    assert best["cv_auc"] - base["cv_auc"] >= 0.05
    assert best["auc_gain"] == pytest.approx(best["cv_auc"] - base["cv_auc"])
    assert best["gain_ci_low"] > 0                      # paired over folds
    assert best["ci_low"] > 0.62
    # leakage tripwire: an oracle knowing every customer's true static hazard (including the
    # hidden satisfaction) reaches an AUC of about 0.70; complaints and the activity drop add a
    # little, a leak of the future would add much more
    assert best["cv_auc"] < 0.80
    # calibrated: expected calibration error over risk deciles <= 0.05, no decile off by > 0.10
    assert best["ece"] <= 0.05
    assert best["max_calibration_gap"] <= 0.10
    # the top decile holds at least twice its share of churners
    assert best["top_decile_capture"] >= 0.20
    g = model.gains()
    assert g["cum_capture"].iloc[-1] == pytest.approx(1.0)
    assert g["cum_capture"].is_monotonic_increasing
    p = model.predict_proba(feats.loc[y.index])
    assert p.between(0, 1).all() and p.name == "risk"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["logistic", "gradient_boosting"])
def test_predict_proba_in_row_blocks_equals_the_pipeline(fitted, monkeypatch, name):
    """predict_proba prepares and scores the inputs PREDICT_ROWS rows at a time and reads only
    the model's columns: the scores equal the whole pipeline's on every column, a tree model's
    to the last bit, a logistic model's to 1e-15 (BLAS's order of a block's sums)."""
    from threadpoolctl import threadpool_limits

    from churn_research.segments import risk

    feats, y, model = fitted
    X = feats.loc[y.index]
    est = risk.make_model(name, numeric=model.numeric_, categorical=model.categorical_,
                          random_state=0).fit(risk._cat_frame(X, model.categorical_), y)
    monkeypatch.setattr(model, "best_estimator_", est)
    with threadpool_limits(limits=model.n_threads):
        want = est.predict_proba(risk._cat_frame(feats, model.categorical_))[:, 1]
    monkeypatch.setattr(risk, "PREDICT_ROWS", 997)   # several blocks and a short last one
    got = model.predict_proba(feats)
    assert len(feats) > 3 * 997
    same = (np.array_equal if name == "gradient_boosting"
            else lambda a, b: np.allclose(a, b, rtol=1e-15, atol=0))
    assert same(got.to_numpy(), want) and got.index.equals(feats.index)
    assert got.name == "risk"
    only = model.predict_proba(feats[model.inputs_(feats)])  # the other columns are not needed
    assert np.array_equal(only.to_numpy(), got.to_numpy())
    assert set(model.inputs_(feats)) == set(model.numeric_) | set(model.categorical_)


def test_gains_and_calibration_known_answer():
    y = np.array([1] * 10 + [0] * 90)
    p = np.linspace(1, 0, 100)                          # the 10 churners have the top scores
    assert S.top_decile_capture(y, p) == 1.0
    g = S.gains_table(y, p)
    assert g.loc[0, "lift"] == pytest.approx(10.0)
    cal = S.calibration_table(np.r_[np.ones(50), np.zeros(50)], np.full(100, 0.5), n_bins=10)
    # one decile convention (issue 13 #9): decile 1 = riskiest in both tables
    risky = S.calibration_table(y, p)
    assert list(risky["decile"]) == list(g["decile"]) == list(range(1, 11))
    assert risky.loc[0, "predicted"] > risky.loc[9, "predicted"] and risky.loc[0, "observed"] == 1.0
    assert S.expected_calibration_error(np.r_[np.ones(50), np.zeros(50)], np.full(100, 0.5)) \
        == pytest.approx(np.average(cal["gap"].abs(), weights=cal["customers"]))


# ---------------------------------------------------------------------------------------------
# Signals
# ---------------------------------------------------------------------------------------------
def _monthly(cid, counts_oldest_first, end=CUT, amount=10.0):
    """Purchases spread inside consecutive 30-day buckets ending at ``end``."""
    rows = []
    m = len(counts_oldest_first)
    for i, k in enumerate(counts_oldest_first):
        bucket = m - 1 - i                              # 0 = the most recent 30 days
        for j in range(k):
            age = 30 * bucket + 1 + int(28 * (j + 0.5) / k)
            rows.append((cid, end - pd.Timedelta(days=age), amount))
    return rows


@pytest.fixture
def signal_data():
    rows = []
    rows += _monthly("steady", [3] * 18)
    rows += _monthly("drop", [8] * 12 + [1] * 6)        # fell 6 months ago, flat since
    rows += _monthly("falling", [2] * 12 + [8, 6, 5, 3, 2, 1])   # slope -1.4/month, mean 4.2
    rows += _monthly("thin", [0] * 15 + [1, 0, 0])      # too few purchases for either signal
    for cid in ("complaint", "old_complaint", "inquiry", "unhappy", "old_unhappy", "recovered",
                "future"):
        rows += _monthly(cid, [3] * 18)
    cust = _customers(["steady", "drop", "falling", "thin", "complaint", "old_complaint",
                       "inquiry", "unhappy", "old_unhappy", "recovered", "future"],
                      start="2022-06-01")
    tickets = pd.DataFrame([
        ("complaint", CUT - pd.Timedelta(days=30), "complaint"),
        ("old_complaint", CUT - pd.Timedelta(days=120), "complaint"),
        ("inquiry", CUT - pd.Timedelta(days=10), "inquiry"),
        ("future", CUT + pd.Timedelta(days=10), "complaint"),
    ], columns=["customer_id", "date", "kind"])
    surveys = pd.DataFrame([
        ("unhappy", CUT - pd.Timedelta(days=30), 2, 7),
        ("old_unhappy", CUT - pd.Timedelta(days=400), 1, 0),
        ("recovered", CUT - pd.Timedelta(days=200), 1, 2),
        ("recovered", CUT - pd.Timedelta(days=20), 4, 8),
        ("steady", CUT - pd.Timedelta(days=50), 3, 7),
        ("future", CUT + pd.Timedelta(days=5), 1, 0),
    ], columns=["customer_id", "date", "csat", "nps"])
    return ChurnData(customers=cust, transactions=_tx(rows), tickets=tickets, surveys=surveys,
                     observation_end=pd.Timestamp("2025-12-31"))


def test_signals_fire_exactly_on_their_fixtures(signal_data):
    f = S.features_at(signal_data, CUT)
    sig = S.early_warning_signals(f)
    expected = {
        "recent_complaint": {"complaint"},
        "low_satisfaction": {"unhappy"},
        "activity_drop": {"drop"},
        "falling_frequency": {"falling"},
    }
    for name, who in expected.items():
        assert set(sig.index[sig[name]]) == who, name
    assert sig.loc["steady", "n_signals"] == 0 and sig.loc["steady", "signals"] == ""
    assert sig.loc["complaint", "dominant_signal"] == "recent_complaint"
    assert sig.loc["steady", "dominant_signal"] == "none"
    # 3 purchases in the last 90 days vs 76 in the 365 days before (3 + 9 x 8 + 1 at day 452)
    assert f.loc["drop", "activity_ratio"] == pytest.approx((3 / 90) / (76 / 365))
    # thresholds are parameters: a looser CSAT threshold catches the 'steady' customer (CSAT 3)
    loose = S.early_warning_signals(f, low_csat=3)
    assert set(loose.index[loose["low_satisfaction"]]) == {"unhappy", "steady"}
    # a complaint window of 150 days also catches the older complaint
    f150 = S.features_at(signal_data, CUT, complaint_days=150)
    s150 = S.early_warning_signals(f150)
    assert set(s150.index[s150["recent_complaint"]]) == {"complaint", "old_complaint"}


def test_signals_without_tables_are_unavailable_and_never_fire(signal_data):
    bare = ChurnData(customers=signal_data.customers, transactions=signal_data.transactions,
                     observation_end=signal_data.observation_end)
    f = S.features_at(bare, CUT)
    avail = S.available_signals(f)
    assert avail == {"recent_complaint": False, "low_satisfaction": False,
                     "activity_drop": True, "falling_frequency": True}
    sig = S.early_warning_signals(f)
    assert not sig["recent_complaint"].any() and not sig["low_satisfaction"].any()


# ---------------------------------------------------------------------------------------------
# Watchlist
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow  # the fitted risk model takes seconds
def test_watchlist_has_no_personal_data(synth, fitted, tmp_path):
    _, y, model = fitted
    assert not {"name", "phone", "email"} & set(synth.customers.columns)  # dropped at load
    # data built by hand may still hold them: scoring never uses them
    raw = synth.replace(customers=synth.customers.assign(
        name="Ada Lovelace", phone="+1-555-0100-0001", email="ada@example.com"))
    feats, risk = S.score_customers(raw, model)
    assert not set(feats.columns) & set(PERSONAL_COLUMNS)
    act = feats.loc[feats["active"]]
    assert risk.index.equals(act.index)
    # scoring at observation_end must not drift from the training cutoff (e.g. by where the
    # date falls in the billing month): mean risk close to the churn rate seen in training
    assert abs(risk.mean() - y.mean()) < 0.3 * y.mean()
    w = S.build_watchlist(feats, risk, tiers=S.value_tiers(feats),
                          signals=S.early_warning_signals(feats), top_n=50)
    assert list(w.columns) == S.WATCHLIST_COLUMNS
    assert len(w) == 50 and w["rank"].tolist() == list(range(1, 51))
    assert w["priority"].is_monotonic_decreasing
    assert set(w["customer_id"]) <= set(act.index)
    path = S.write_watchlist(w, tmp_path / "watchlist.csv")
    text = path.read_text()
    pii = raw.customers.set_index("customer_id").loc[w["customer_id"], ["name", "phone", "email"]]
    for value in pii.to_numpy().ravel():
        assert str(value) not in text
    assert "@" not in text
    assert w["action"].notna().all() and w["likely_reason"].notna().all()
    # the guard refuses personal data
    with pytest.raises(ChurnDataError):
        S.write_watchlist(w.assign(email="x@example.com"), tmp_path / "bad.csv")
    with pytest.raises(ChurnDataError):
        S.assert_no_personal_data(w.assign(action="call jane.doe@example.com"))


def test_playbook_actions():
    frame = pd.DataFrame({
        "tier": ["high value", "regular", "regular", "new", "at risk", "regular"],
        "high_value": [True, False, False, False, False, False],
        "dominant_signal": ["recent_complaint", "low_satisfaction", "none", "none",
                            "activity_drop", "none"],
        "price_sensitive": [False, False, True, False, False, False],
    })
    a = S.suggest_actions(frame)
    assert a["likely_reason"].tolist() == ["service quality", "dissatisfaction", "price",
                                           "onboarding", "disengagement",
                                           "unknown (model risk only)"]
    assert a.loc[0, "action"].startswith("Account-manager call")
    assert a.loc[2, "action"].startswith("Price offer")


# ---------------------------------------------------------------------------------------------
# Clusters and the cross-sectional design
# ---------------------------------------------------------------------------------------------
def test_clusters_recover_separated_groups():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [8, 0], [0, 8]])
    X = np.vstack([c + rng.normal(size=(150, 2)) for c in centres])
    df = pd.DataFrame(X, columns=["a", "b"])
    cl = S.CustomerClusters(k_range=range(2, 7), random_state=0).fit(df, columns=["a", "b"])
    assert cl.k_ == 3
    assert cl.selection_["silhouette"].idxmax() == 3
    prof = cl.profiles(df, churned=pd.Series(np.r_[np.ones(150), np.zeros(300)]))
    assert prof["customers"].tolist() == [150, 150, 150]
    assert sorted(prof["churn_rate"].round(6).tolist()) == [0.0, 0.0, 1.0]
    assert prof["distinguishing"].str.contains("sd").all()
    assert (cl.predict(df) == cl.labels_).all()


def test_clusters_fitted_on_a_sample_label_every_row():
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [8, 0], [0, 8]])
    X = np.vstack([c + rng.normal(size=(2000, 2)) for c in centres])
    df = pd.DataFrame(X, columns=["a", "b"])
    full = S.CustomerClusters(k_range=range(2, 6), max_fit_rows=None, random_state=0).fit(df, columns=["a", "b"])
    part = S.CustomerClusters(k_range=range(2, 6), max_fit_rows=600, random_state=0).fit(df, columns=["a", "b"])
    assert full.n_fit_ == 6000 and part.n_fit_ == 600
    assert part.k_ == full.k_ == 3
    assert len(part.labels_) == 6000 and part.labels_.index.equals(df.index)
    # the same partition (up to numbering) and centres within sampling noise
    agree = pd.crosstab(part.labels_, full.labels_).max(axis=1).sum() / len(df)
    assert agree > 0.995
    assert np.abs(np.sort(part.centers_.to_numpy(), axis=0) - np.sort(full.centers_.to_numpy(), axis=0)).max() < 0.05


def test_cross_sectional_design_hides_status():
    cust = _customers(["a", "b", "c", "d"], end=["2024-12-31", pd.NaT, "2024-12-31", pd.NaT],
                      contract=["monthly", "annual", "monthly", "monthly"],
                      monthly_revenue=[50.0, 30.0, 80.0, 20.0], tenure_months=[11, 23, 59, 0])
    cust["start_date"] = pd.to_datetime(["2024-01-31", "2023-01-31", "2020-01-31", "2024-12-31"])
    d = ChurnData(customers=cust, observation_end=CUT)
    assert S.resolve_design(d) == "cross-sectional"
    f = S.features_at(d, design="cross-sectional")
    assert f["active"].all()
    assert "tenure_months" not in f                     # history aggregates are recomputed
    assert f.loc["b", "value"] == 360.0
    y = S.churn_label(d, design="cross-sectional")
    assert y.tolist() == [1, 0, 1, 0]


def test_tables_and_skipped_sections_read_cleanly():
    """Empty tiers and rows the data cannot fill are left out, rates read in %, money with
    separators, columns in words; a dataset without any signal reads as one line."""
    import pandas as pd

    from churn_research.narrate import segments as say
    from churn_research.segments.report import SIGNALS, SignalCheck
    tiers = pd.DataFrame({"customers": [10, 0], "share": [1.0, 0.0], "churn_rate": [0.125, None],
                          "revenue": [12345.6, 0.0]}, index=pd.Index(["new", "lost"], name="tier"))
    t = say.tier_table(tiers).data
    assert list(t.index) == ["new"]
    assert t.loc["new", "churn rate"] == "12.5%" and t.loc["new", "revenue"] == "12,346"
    assert "churn_rate" not in t.columns
    none = SignalCheck({s: False for s in SIGNALS["signal"]},
                       SIGNALS.assign(available=False), None)
    line = say.signals_heading(none)
    assert line.startswith("Not available for this dataset: early-warning signals, because ")
    assert "\n" not in line
    assert say.signal_definitions(none) is None and say.signal_table(none) is None
    assert say.signals_unavailable_text(none) == "" and say.signals_text(none) == ""
    watch = pd.DataFrame({"rank": [1], "customer_id": ["T1"], "risk": [0.5], "value": [1000.0],
                          "signals": [""], "n_signals": [0], "dominant_signal": ["none"]})
    shown = say.watchlist_table(watch).data
    assert "signals" not in shown.columns and "dominant signal" not in shown.columns
    assert shown.iloc[0]["risk"] == "50.0%" and shown.iloc[0]["value"] == "1,000"


def test_watchlist_csv_in_chinese_opens_in_excel(tmp_path):
    """A Chinese report writes the watchlist with Chinese columns, tiers, signals and actions,
    UTF-8 with a byte-order mark; the English file is unchanged (plain UTF-8, English names)."""
    from churn_research import i18n

    w = pd.DataFrame([{"rank": 1, "customer_id": "C1", "tier": "at risk", "high_value": True,
                       "risk": 0.4, "value": 1000.0, "expected_loss": 400.0, "priority": 400.0,
                       "signals": "low_satisfaction, activity_drop", "n_signals": 2,
                       "dominant_signal": "low_satisfaction", "likely_reason": "dissatisfaction",
                       "action": S.ACTION_RULES.set_index("rule").loc["dissatisfaction",
                                                                    "action (high value)"]}])[S.WATCHLIST_COLUMNS]
    english = S.write_watchlist(w, tmp_path / "en.csv").read_bytes()
    assert english.startswith(b"rank,customer_id,tier,") and not english.startswith(b"\xef\xbb\xbf")
    i18n.set_language("zh")
    try:
        path = S.write_watchlist(w, tmp_path / "zh.csv")
    finally:
        i18n.set_language("en")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    zh = pd.read_csv(path, encoding="utf-8-sig")
    assert list(zh.columns[:4]) == ["排名", "客户编号", "客户层级", "是否高价值"]
    row = zh.iloc[0]
    assert row["客户层级"] == "风险客户" and row["是否高价值"] == "是"
    assert row["预警信号"] == "满意度低、活跃度下降" and row["可能原因"] == "不满意"
    assert row["建议措施"] == "客户经理致电：复盘问题所在，商定解决方案"
    assert S.write_watchlist(w, tmp_path / "en2.csv").read_bytes() == english


@pytest.mark.slow  # fits the risk model on generated data
def test_both_call_lists_give_every_shared_customer_the_same_action():
    """40_segments' watchlist.csv and 60_retention's retention_watchlist.csv are built as the two
    notebooks build them (60: calibrated risk, its state table and state_actions); every
    customer on both lists gets the same action, from the one rule set."""
    from churn_research.retention import actions as RA
    from churn_research.retention import calibration
    from churn_research.synthetic import generate

    data = generate(3000, random_state=0, complaint_resolution=True)
    assert "resolved" in data.tickets.columns
    cutoff = S.resolve_cutoff(data, None, horizon_days=90, design="prospective")
    feats = S.features_at(data, cutoff)
    y = S.churn_label(data, cutoff, horizon_days=90)
    model = S.ChurnRiskModel(random_state=0, n_splits=3).fit(feats.loc[y.index], y)
    feats_now, risk_now = S.score_customers(data, model)
    tiers, signals = S.value_tiers(feats_now), S.early_warning_signals(feats_now)
    complaints = S.open_complaints(data.tickets, data.observation_end, days=90)
    assert (complaints > 0).sum() > 0
    w40 = S.build_watchlist(feats_now, risk_now, tiers=tiers, signals=signals, top_n=100,
                            open_complaints=complaints)
    cal = calibration.calibrate(model.oof_[model.best_name_], y.loc[model.oof_.index],
                                method="isotonic", n_splits=3, random_state=0)
    complaints60 = RA.open_complaints(data.tickets, data.observation_end, days=90)
    w60 = S.build_watchlist(feats_now, cal.apply(risk_now), tiers=tiers, signals=signals,
                            top_n=100, open_complaints=complaints60)
    state = w60.set_index("customer_id")
    state = state.join(S.playbook_state(feats_now, state.index, open_complaints=complaints60))
    acts60 = RA.state_actions(state)
    assert acts60["action"].tolist() == state["action"].tolist()   # 60's table = its CSV
    both = w40.merge(w60, on="customer_id", suffixes=("_40", "_60"))
    assert len(both) >= 50
    assert (both["action_40"] != both["action_60"]).sum() == 0
    assert (both["likely_reason_40"] == both["likely_reason_60"]).all()
    # the rules reach the list: open complaints -> service recovery, every action a rule's
    assert set(w40["action"]) <= RA.ACTIONS and S.ACTION_RULES is RA.ACTION_RULES
    has_open = w40["customer_id"].map(complaints).fillna(0).to_numpy() > 0
    recovery = w40["action"].str.contains("open complaint")
    assert has_open.sum() > 0 and (recovery.to_numpy() == has_open).all()


def _price_list(contracts, high):
    n = len(contracts)
    ids = [f"C{i}" for i in range(n)]
    feats = pd.DataFrame({"active": True, "m_score": np.where(high, 5, 2), "value": 1000.0 - np.arange(n),
                          "contract": contracts, "price_rise": 1}, index=ids)
    sig = pd.DataFrame({"signals": "", "n_signals": 0, "dominant_signal": "none"}, index=ids)
    return S.build_watchlist(feats, pd.Series(0.5, index=ids), tiers=pd.Series("regular", index=ids),
                             signals=sig, top_n=n)


def test_watchlist_never_offers_a_move_to_annual_to_a_customer_on_an_annual_contract():
    w = _price_list(["monthly", "annual", "Two year", "Month-to-month", "annual"],
                    high=[False, False, False, False, True])
    assert w["likely_reason"].tolist() == ["price"] * 5
    assert w["action"].tolist() == [
        "Price offer: move to an annual plan at a discount",
        "Price offer: loyalty discount at renewal (already on an annual or longer contract)",
        "Price offer: loyalty discount at renewal (already on an annual or longer contract)",
        "Price offer: move to an annual plan at a discount",
        "Account-manager call with a loyalty discount at renewal"]
    # an open complaint comes first: service recovery, not a price offer
    ids = ["C0", "C1"]
    feats = pd.DataFrame({"active": True, "m_score": 2, "value": [2.0, 1.0], "contract": "annual",
                          "price_rise": 1}, index=ids)
    sig = pd.DataFrame({"signals": "", "n_signals": 0, "dominant_signal": "none"}, index=ids)
    w = S.build_watchlist(feats, pd.Series(0.5, index=ids), tiers=pd.Series("regular", index=ids),
                          signals=sig, top_n=2, open_complaints=pd.Series({"C1": 1}))
    assert w["action"].tolist() == [
        "Price offer: loyalty discount at renewal (already on an annual or longer contract)",
        "Service recovery: call back, resolve the open complaint, follow up in 2 weeks"]
