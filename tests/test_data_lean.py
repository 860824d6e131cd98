"""00_data's lean paths (issue 18): the checks that run once per distinct value or on Arrow
(vocabulary flags and labels, summary rows, free-text churn reasons, known customers) give
what the per-row rules they replace gave, on object and on Arrow-backed text; an engine source
reads its small tables as Arrow-backed text and raises the pandas path's errors for them.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from churn_research import load
from churn_research.model import ChurnData, ChurnDataError
from churn_research.personal import REASON_MAX_WIDTH, _reduce_reasons
from churn_research.sources.tables import TEXT_DTYPE, _known_customers
from churn_research.sources.vocabulary import VOCABULARY, normalise_values

V = sys.modules["churn_research.sources.validate"]

#: Values that make the per-distinct-value rules differ from per-row ones if they slip:
#: blanks, missing values of both kinds, case and width variants, a summary row's label.
MESSY = ["yes", " No ", "", "  ", None, np.nan, "是", "否", "YES", "ｙｅｓ", "no", "yes",
         " Total", "合计 ", "\x1cGRAND TOTAL\u3000", "grand  total", "sub-total", "\u200btotal",
         "totals", "C001", "\u212aelvin"]


def _both(values) -> list[pd.Series]:
    """``values`` as an object column and as pandas' Arrow-backed text."""
    obj = pd.Series(values, dtype=object)
    return [obj, obj.astype(TEXT_DTYPE)]


# -- the per-row rules the lean paths replace (the project's code before issue 18) ----------
def _old_total_rows(ids: pd.Series) -> np.ndarray:
    low = ids.astype("string").str.strip().str.lower()
    return low.isin(V.TOTAL_LABELS).fillna(False).to_numpy()


def _old_present_unique(s: pd.Series):
    present = s.notna() & s.astype(str).str.strip().ne("")
    return present, pd.unique(s[present])


def test_summary_rows_are_found_as_by_the_per_row_rule():
    for ids in _both(MESSY * 3):
        got = V._total_rows(ids)
        assert got.tolist() == _old_total_rows(ids).tolist()
        assert got.sum() == 3 * 5  # ' Total', '合计 ', '\x1cGRAND TOTAL\u3000', sub-total, totals


def test_isin_equals_pandas_isin_on_arrow_text():
    ids = pd.Series(["a", "b", None, "c", "d", "a"], dtype=TEXT_DTYPE)
    for known in (pd.Series(["a", "c"], dtype=TEXT_DTYPE).unique(),
                  pd.Series(["a", None, "d"], dtype=TEXT_DTYPE).unique(),
                  pd.Index(["c", "zz"], dtype=object)):
        assert V.isin(ids, known).tolist() == ids.isin(known).tolist()
    assert V.isin(ids, pd.Series(["a", "c"], dtype=TEXT_DTYPE).unique()).tolist() == [
        True, False, False, True, False, True]


def test_flags_and_labels_per_distinct_value_equal_the_per_row_rule():
    rng = np.random.default_rng(5)
    flags = list(rng.choice(["是", "否", " yes", "NO", "", None], size=400))
    reasons = list(rng.choice(["价格太高", "competitor", "Price", "  ", None, "搬家了"], size=400))
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(400)], "price_rise": flags,
                          "churn_reason": reasons, "paperless": list(rng.choice(["Yes", "No"], 400)),
                          "region": list(rng.choice(["north", "south", ""], 400))})
    out_obj = normalise_values({"customers": frame})["customers"]
    out_arrow = normalise_values({"customers": frame.astype(
        {c: TEXT_DTYPE for c in frame.columns})})["customers"]
    # the expected values by the per-row rule of the old _flag
    present, _ = _old_present_unique(frame["price_rise"])
    yes = frame["price_rise"].map(lambda v: None if v is None else
                                  str(v).strip().lower() in ("是", "yes"))
    expected = yes.where(present).astype("boolean")
    pd.testing.assert_series_equal(out_obj["price_rise"], expected, check_names=False)
    pd.testing.assert_series_equal(out_arrow["price_rise"], expected, check_names=False)
    assert out_obj["paperless"].dtype == bool and out_arrow["paperless"].dtype == bool
    assert out_obj["paperless"].tolist() == (frame["paperless"] == "Yes").tolist()
    # labels: recoded where the vocabulary knows the value, kept where not, NaN where missing
    for out in (out_obj, out_arrow):
        got = out["churn_reason"]
        assert got.dtype == object
        assert got[frame["churn_reason"] == "Price"].eq("price").all()
        assert got[frame["churn_reason"] == "competitor"].eq("competitor").all()
        assert got[frame["churn_reason"] == "  "].eq("  ").all()
        assert got[frame["churn_reason"].isna()].isna().all()
        pd.testing.assert_series_equal(out["region"].astype(object), frame["region"].astype(object))


def test_an_unknown_flag_names_the_same_rows_on_arrow_text():
    frame = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "start_date": ["2020-01-01"] * 4,
                          "price_rise": ["yes", "maybe", None, "maybe"]})
    errors = []
    for f in (frame, frame.astype({"customer_id": TEXT_DTYPE, "price_rise": TEXT_DTYPE})):
        with pytest.raises(ChurnDataError) as err:
            normalise_values({"customers": f})
        errors.append(err.value)
    assert str(errors[0]) == str(errors[1])
    assert errors[1].rows == ["row 3 (customer_id=b)", "row 5 (customer_id=d)"]
    assert "2 value(s) that are not yes/no: ['maybe']" in str(errors[1])


def test_free_text_reasons_reduced_as_by_the_per_row_rule():
    long = "x" * (REASON_MAX_WIDTH + 1)
    values = ["price", "  ", None, long, "call me on 13812345678", "competitor", long, "other"]
    categories = set(VOCABULARY["churn_reason"]) | {"other"}
    for s in _both(values * 2):
        got, rows, distinct = _reduce_reasons(s, categories)
        assert (rows, distinct) == (6, 2)
        expected = s.astype(object).where(~s.isin([long, "call me on 13812345678"]), "other")
        assert got.astype(object).tolist() == expected.tolist()


def test_known_customers_as_arrow_keep_ids_and_dates():
    c = pd.DataFrame({"customer_id": pd.Series(["a", "b"], dtype=TEXT_DTYPE),
                      "start_date": pd.to_datetime(["2020-01-01", "2021-06-30"]),
                      "end_date": pd.to_datetime([None, "2022-01-01"])})
    for frame in (c, c.astype({"customer_id": object})):
        t = _known_customers(frame).to_pandas()
        assert t["customer_id"].tolist() == ["a", "b"]
        assert t["start_date"].tolist() == c["start_date"].tolist()
        assert t["end_date"].isna().tolist() == [True, False]


def _customers_source(tmp_path, customers: pd.DataFrame) -> tuple:
    """The same customers as one file (the pandas path) and as a directory (the engine)."""
    raw = tmp_path / "raw"
    (raw / "customers").mkdir(parents=True)
    customers.to_parquet(raw / "customers.parquet", index=False)
    customers.to_parquet(raw / "customers" / "part-0.parquet", index=False)
    tx = pd.DataFrame({"customer_id": customers["customer_id"].iloc[:2],
                       "date": pd.to_datetime(["2022-02-01", "2022-03-01"]), "amount": [1.0, 2.0]})
    (raw / "tx").mkdir()
    tx.to_parquet(raw / "tx" / "part-0.parquet", index=False)
    out = []
    for name, file in (("p.yaml", "customers.parquet"), ("e.yaml", "customers/")):
        (raw / name).write_text(yaml.safe_dump({"observation_end": "2023-12-31", "tables": {
            "customers": {"file": file}, **({"transactions": {"file": "tx/"}} if name == "e.yaml"
                                            else {})}}))
        out.append(raw / name)
    return tuple(out)


@pytest.mark.parametrize("case", ["duplicate", "total", "flag"])
def test_engine_customers_errors_equal_the_pandas_paths(case, tmp_path):
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                              "start_date": pd.to_datetime(["2022-01-01"] * 4),
                              "end_date": pd.to_datetime([None, "2023-05-01", None, None]),
                              "senior": ["yes", "no", "no", "yes"]})
    if case == "duplicate":
        customers.loc[3, "customer_id"] = "b"
    elif case == "total":
        customers.loc[2, "customer_id"] = " Total"
    else:
        customers.loc[[1, 3], "senior"] = ["maybe", "perhaps"]
    pandas_yaml, engine_yaml = _customers_source(tmp_path, customers)
    with pytest.raises(ChurnDataError) as expected:
        load(pandas_yaml)
    with pytest.raises(ChurnDataError) as got:
        load(engine_yaml, processed_dir=tmp_path / "out")
    assert str(got.value) == str(expected.value)
    assert got.value.rows == expected.value.rows and got.value.table == "customers"
    assert got.value.rows == {"duplicate": ["row 3 (customer_id=b)", "row 5 (customer_id=b)"],
                              "total": ["row 4 (customer_id= Total)"],
                              "flag": ["row 3 (customer_id=b)", "row 5 (customer_id=d)"]}[case]


def test_engine_reads_its_small_tables_as_arrow_text(tmp_path):
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
                              "start_date": pd.to_datetime(["2022-01-01"] * 3),
                              "end_date": pd.to_datetime([None, "2023-05-01", None]),
                              "region": ["north", None, "south"]})
    pandas_yaml, engine_yaml = _customers_source(tmp_path, customers)
    data = load(engine_yaml, processed_dir=tmp_path / "out")
    assert isinstance(data, ChurnData)
    assert data.customers["customer_id"].dtype == TEXT_DTYPE
    assert data.customers["region"].dtype == TEXT_DTYPE
    expected = load(pandas_yaml).customers
    pd.testing.assert_frame_equal(data.customers.astype({"customer_id": object, "region": object}),
                                  expected, check_exact=True)
