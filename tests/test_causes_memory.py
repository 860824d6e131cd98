"""The 20_causes stage's lean paths (issue 18: 10^7 customers in 6 GB) give exactly the numbers of
the straightforward computations they replace: each test computes the old way by hand (a frame of
every customer column, an object string per customer, ``pd.get_dummies`` in float64, a hash join on
``customer_id``) and asserts equality, counts exactly and rates to 1e-12 or bit for bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

from churn_research import ChurnData, ChurnDataError, causes, load
from churn_research.causes.competing import (
    UNKNOWN,
    _complaints,
    aalen_johansen,
    annual_split,
    reason_frame,
    reason_group,
)
from churn_research.causes.frame import text_codes, text_or
from churn_research.causes.rates import _text_counts
from churn_research.durations import durations
from churn_research.model import on_books


@pytest.fixture(scope="module")
def synth() -> ChurnData:
    return load("synthetic", n_customers=3000, random_state=1)


@pytest.fixture(scope="module")
def stored(synth, tmp_path_factory) -> ChurnData:
    """The synthetic data written and read back: its tables stay on disk until first used."""
    return ChurnData.read(synth.write(tmp_path_factory.mktemp("processed")))


# -- customer_frame(columns=) and durations' attributes by position ---------------------------
def test_customer_frame_columns_equal_the_whole_frames_columns(synth):
    whole = causes.customer_frame(synth, horizon_months=12)
    lean = causes.customer_frame(synth, horizon_months=12, columns=["plan", "age", "not_a_column"])
    assert list(lean.columns) == ["customer_id", "start_date", "end_date", "plan", "age",
                                  "churned", "entry_date", "exit_date", "tenure_months",
                                  "eligible", "outcome"]
    pd.testing.assert_frame_equal(lean, whole[lean.columns], check_exact=True)
    assert int(lean["outcome"].sum()) == int(whole["outcome"].sum()) > 0


def test_durations_attributes_by_position_equal_the_join_on_customer_id(synth):
    # shuffled rows, a left-truncation that drops early leavers: positions must still line up
    cust = synth.customers.sample(frac=1.0, random_state=3).set_index(
        pd.Index(np.arange(len(synth.customers)) * 7 + 5))
    data = synth.replace(customers=cust, records_start=pd.Timestamp("2022-06-01"))
    out = durations(data)
    assert out.attrs["excluded"] > 0
    attrs = cust.drop(columns=["customer_id", "start_date", "end_date"]).set_index(cust["customer_id"])
    expected = attrs.loc[out["customer_id"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(out[list(attrs.columns)], expected, check_exact=True)
    assert out["customer_id"].is_unique and len(out) == len(cust) - out.attrs["excluded"]


# -- competing reasons ------------------------------------------------------------------------
def _old_reason(frame: pd.DataFrame) -> pd.Series:
    reason = frame["churn_reason"].astype("object").where(frame["churn_reason"].notna(), UNKNOWN)
    return reason.astype(str).where(frame["event"] == 1, None)


def test_reason_frame_equals_the_string_per_customer_and_lean_columns(synth):
    whole = reason_frame(synth)
    pd.testing.assert_series_equal(whole["reason"], _old_reason(whole).rename("reason"),
                                   check_exact=True)
    lean = reason_frame(synth, columns=())
    assert "plan" not in lean and "reason" in lean
    pd.testing.assert_frame_equal(lean, whole[lean.columns], check_exact=True)
    counts = lean["reason"].value_counts()
    assert int(counts.sum()) == int(whole["event"].sum())


def test_aalen_johansen_on_codes_equals_object_labels_and_merges_equal_text():
    rng = np.random.default_rng(0)
    n = 4000
    duration = rng.integers(1, 40, n).astype(float)
    cause = np.array(["price", "move", "service"], dtype=object)[rng.integers(0, 3, n)]
    cause[rng.random(n) < 0.4] = None
    entry = np.where(rng.random(n) < 0.3, rng.integers(0, 10, n), 0).astype(float)
    entry = np.minimum(entry, duration - 1)
    as_object = aalen_johansen(duration, cause, entry)
    as_category = aalen_johansen(duration, pd.Categorical(cause), entry)
    pd.testing.assert_frame_equal(as_object, as_category, check_exact=True)
    # the events per reason are exact counts, and they add up to the exits
    for k in ("price", "move", "service"):
        assert as_object[("events", k)].sum() == int((cause == k).sum())
    assert as_object[("events", "all")].sum() == int(pd.notna(cause).sum())
    # 1 and "1" are one cause "1" (the text of the label), as before
    mixed = aalen_johansen([1.0, 2.0, 3.0, 4.0], np.array([1, "1", None, 2], dtype=object))
    assert mixed.attrs["causes"] == ["1", "2"]
    assert mixed[("events", "1")].tolist() == [1.0, 1.0, 0.0, 0.0]
    total = sum(mixed[("cif", k)].to_numpy() for k in ("1", "2"))
    assert np.allclose(total, 1 - mixed[("survival", "")].to_numpy(), atol=1e-12, rtol=0)


def test_annual_split_counts_equal_a_count_of_each_group(synth):
    annual = causes.competing_reasons(synth, drivers=["plan"], reference=None, horizons=[12],
                                      main=2).split.annual
    split = annual_split(synth, annual)
    cust = synth.customers
    lost = on_books(cust, annual.window_start) & ~on_books(cust, annual.window_end)
    group = (cust["churn_reason"].astype("object").where(cust["churn_reason"].notna(), UNKNOWN)
             .astype(str).map(reason_group))
    expected = group[lost].value_counts()
    got = split.table.set_index("group")["lost"]
    assert {g: int(got[g]) for g in got.index} == {g: int(expected.get(g, 0)) for g in got.index}
    assert int(got.sum()) == annual.lost > 0
    assert abs(split.table["rate"].sum() - annual.rate) < 1e-12


def test_complaints_read_from_disk_without_keeping_the_tickets(stored, synth):
    comp = _complaints(stored)
    assert type(stored._stored("tickets")).__name__ == "_StoredTable"  # still not in memory
    tk = synth.tickets
    expected = tk.loc[tk["kind"].astype(str) == "complaint", ["customer_id", "date"]]
    assert len(comp) == len(expected) > 0
    assert comp["customer_id"].tolist() == expected["customer_id"].tolist()
    assert (pd.to_datetime(comp["date"]).to_numpy() == pd.to_datetime(expected["date"]).to_numpy()).all()


def test_default_drivers_do_not_read_the_tables(stored, synth):
    fresh = ChurnData.read(stored.unread_path("tickets").parent)
    drivers = causes.default_drivers(fresh)
    assert drivers == causes.default_drivers(synth)
    assert {"complaint_90d", "last_csat"} <= set(drivers)
    for name in ("tickets", "surveys", "transactions"):
        assert fresh.unread_path(name) is not None, name


# -- driver rates ------------------------------------------------------------------------------
def test_text_counts_equal_the_groupby_of_object_levels():
    s = pd.Series(["b", "a", None, "b", "c", "a", "b", np.nan], dtype="str")
    outcome = pd.Series([True, False, True, True, False, True, False, True])
    got = _text_counts(s, outcome)
    levels = s.astype("object").where(s.notna(), None).rename("level")
    expected = (outcome.groupby(levels, observed=True, sort=False).agg(n="size", churned="sum")
                .reset_index())
    assert got["level"].tolist() == expected["level"].tolist() == ["b", "a", "c"]
    assert got["n"].tolist() == expected["n"].tolist() == [3, 2, 1]
    assert got["churned"].tolist() == expected["churned"].tolist() == [2, 1, 0]


def test_driver_rates_equal_a_groupby_of_the_whole_frame(synth):
    drivers = ["plan", "contract", "price_rise", "age", "monthly_revenue"]
    rates = causes.driver_rates(synth, drivers, horizon_months=12)
    frame = causes.customer_frame(synth, horizon_months=12)
    frame = frame[frame["eligible"]]
    assert abs(rates.attrs["base_rate"] - frame["outcome"].mean()) < 1e-12
    plan = rates[rates["driver"] == "plan"].set_index("level")
    by_plan = frame.groupby("plan")["outcome"].agg(["size", "sum"])
    for level, row in by_plan.iterrows():
        assert int(plan.loc[level, "n"]) == int(row["size"])
        assert int(plan.loc[level, "churned"]) == int(row["sum"])
        assert abs(plan.loc[level, "churn_rate"] - row["sum"] / row["size"]) < 1e-12
    assert plan["n"].is_monotonic_decreasing  # unordered levels: largest first, as before


# -- churn profiles -----------------------------------------------------------------------------
def _old_profiles(frame: pd.DataFrame, drivers: list[str], *, max_depth=3, min_support=0.03):
    """The tree of churn_profiles as it was built before: pd.get_dummies in float64."""
    frame = frame.dropna(subset=drivers)
    parts = []
    for d in drivers:
        s = frame[d]
        if pd.api.types.is_numeric_dtype(s) or s.dtype == bool:
            parts.append(s.astype(float).rename(d))
        else:
            dummies = pd.get_dummies(s.astype(str), dtype=float)
            parts += [dummies[lv].rename(f"{d}={lv}") for lv in dummies.columns]
    x = pd.concat(parts, axis=1)
    y = frame["outcome"].to_numpy(dtype=int)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(int(min_support * len(y)), 5),
                                  criterion="entropy", random_state=0).fit(x.to_numpy(), y)
    leaf = tree.apply(x.to_numpy())
    return sorted((int((leaf == v).sum()), int(y[leaf == v].sum())) for v in np.unique(leaf)), \
        list(x.columns)


def test_churn_profiles_equal_the_float64_dummies_tree():
    rng = np.random.default_rng(5)
    n = 6000
    obs = pd.Timestamp("2024-12-31")
    plan = rng.choice(["pro", "basic", "Zeta", "ämter"], n)
    price = rng.normal(50, 15, n).round(2)
    age = rng.integers(18, 90, n)
    rise = rng.random(n) < 0.3
    risk = 0.1 + 0.3 * (plan == "pro") + 0.2 * rise + 0.002 * (age - 18) + 0.002 * (price - 50)
    churn = rng.random(n) < np.clip(risk, 0.01, 0.95)
    start = obs - pd.to_timedelta(rng.integers(400, 1500, n), unit="D")
    end = start + pd.to_timedelta(rng.integers(1, 360, n), unit="D")
    customers = pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], "start_date": start,
                              "end_date": pd.Series(end).where(churn), "plan": plan,
                              "monthly_charges": price, "age": age, "price_rise": rise})
    customers.loc[rng.random(n) < 0.05, "plan"] = None
    data = ChurnData(customers, observation_end=obs)
    drivers = ["plan", "monthly_charges", "age", "price_rise"]
    out = causes.churn_profiles(data, drivers, horizon_months=12)
    frame = causes.customer_frame(data, horizon_months=12)
    leaves, columns = _old_profiles(frame[frame["eligible"]], drivers)
    assert columns == ["plan=Zeta", "plan=basic", "plan=pro", "plan=ämter", "monthly_charges",
                       "age", "price_rise"]
    assert sorted(zip(out["n"], out["churned"], strict=True)) == leaves
    assert int(out["n"].sum()) == sum(m for m, _ in leaves)
    base = sum(k for _, k in leaves) / sum(m for m, _ in leaves)
    assert abs(out.attrs["base_rate"] - base) < 1e-12
    assert len(leaves) > 2


def test_customer_frame_leaves_a_samples_transactions_unread(stored):
    sample = stored.sample_customers(500, random_state=0)
    frame = causes.customer_frame(sample)
    assert len(frame) == 500
    assert type(sample._stored("transactions")).__name__ == "_StoredTable"
    assert sample._stored("transactions").frame is None  # attributes present: never needed


# -- exit reasons ---------------------------------------------------------------------------
def test_reason_pareto_and_shift_count_as_a_string_per_churner(synth):
    cust = synth.customers
    churners = cust[cust["end_date"].notna()]
    text = churners["churn_reason"].astype("object").where(churners["churn_reason"].notna(),
                                                           "unknown").astype(str)
    pareto = causes.reason_pareto(synth)
    assert dict(zip(pareto["reason"], pareto["count"], strict=True)) == text.value_counts().to_dict()
    by_plan = causes.reason_pareto(synth, by="plan")
    expected = text.groupby(churners["plan"]).value_counts()
    assert {(r.plan, r.reason): r.count for r in by_plan.itertuples()} == expected.to_dict()
    shift = causes.reason_shift(synth)
    after = churners["end_date"] >= synth.event_date
    table = shift.table.set_index("reason")
    assert table["count_after"].to_dict() == text[after].value_counts().reindex(table.index,
                                                                                fill_value=0).to_dict()
    assert int(table["count_before"].sum()) == int((~after).sum())


def test_reason_pareto_errors_keep_their_order(synth):
    no_reason = synth.customers.drop(columns="churn_reason")
    with pytest.raises(ChurnDataError, match="there is no exit-reason column"):
        causes.reason_pareto(no_reason, by="nope")
    with pytest.raises(ChurnDataError, match="no column 'nope' to split the exit reasons by") as err:
        causes.reason_pareto(synth, by="nope")
    assert err.value.fix == "pick one of: " + ", ".join(synth.customers.columns)


# -- the text of a column, one string per distinct value ----------------------------------------
def test_text_codes_and_text_or_give_what_astype_str_gives():
    s = pd.Series(["b", None, "a", "b", np.nan], dtype=object)
    codes, texts = text_codes(s)
    assert codes.tolist() == [0, -1, 1, 0, -1] and texts.tolist() == ["b", "a"]
    expected = s.astype("object").where(s.notna(), "unknown").astype(str).tolist()
    assert text_or(s, "unknown").tolist() == expected == ["b", "unknown", "a", "b", "unknown"]
    arrow = pd.Series(["b", None, "a"], dtype="str")
    assert text_or(arrow, "?").tolist() == ["b", "?", "a"]
    codes, texts = text_codes([1, "1", 2.5, None])  # 1 and "1": two values, one text
    assert codes.tolist() == [0, 1, 2, -1] and texts.tolist() == ["1", "1", "2.5"]
    cat = pd.Categorical(["x", "y", None, "x"], categories=["y", "x", "z"])
    assert text_or(cat, "u").tolist() == ["x", "y", "u", "x"]
    # the strings are shared: one object per distinct value, not per row
    many = text_or(pd.Series(["price", "move"] * 1000, dtype="str"), "unknown")
    assert len({id(v) for v in many}) == 2
