"""The data layer: loaders, validation (one test per documented error), persistence."""

from __future__ import annotations

import hashlib
import shutil

import pandas as pd
import pytest
import yaml
from conftest import write_tables

from churn_research.model import ChurnData, ChurnDataError, infer_end_dates
from churn_research.sources import load, validate


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the valid case --------------------------------------------------------------------------
def test_directory_loads_all_tables_with_types(valid_dir):
    data = load(valid_dir, observation_end="2024-06-30")
    assert set(data.tables()) == {"customers", "transactions", "tickets", "surveys", "events"}
    assert data.observation_end == pd.Timestamp("2024-06-30")
    assert data.kind == "contractual"
    assert pd.api.types.is_datetime64_any_dtype(data.customers["start_date"])
    assert data.customers["end_date"].isna().sum() == 2  # blanks = still customers
    assert data.transactions["amount"].sum() == pytest.approx(60.5)
    assert data.event_date == pd.Timestamp("2023-07-01")
    assert set(data.meta["checksums"]) == {f"{t}.csv" for t in data.tables()}


def test_observation_end_defaults_to_latest_date(valid_dir):
    assert load(valid_dir).observation_end == pd.Timestamp("2024-02-29")


def test_only_customers_is_required(tmp_path, valid_tables):
    d = write_tables(tmp_path / "c", {"customers": valid_tables["customers"]})
    data = load(d)
    assert data.transactions is None and data.tables().keys() == {"customers"}


def test_raw_files_are_never_modified(valid_dir):
    before = {p.name: _sha(p) for p in valid_dir.iterdir()}
    data = load(valid_dir, observation_end="2024-06-30")
    data.customers.loc[0, "customer_id"] = "changed"
    data.write(valid_dir.parent / "processed")
    assert {p.name: _sha(p) for p in valid_dir.iterdir()} == before


def _text_as_object(df: pd.DataFrame) -> pd.DataFrame:
    """Processed data's text columns (``str``) as the loaders' Python strings, to compare values."""
    return df.astype({c: object for c in df.columns if str(df[c].dtype) == "str"})


def test_write_read_roundtrip_drops_personal_data(valid_dir, tmp_path):
    data = load(valid_dir, observation_end="2024-06-30")
    out = data.write(tmp_path / "processed")
    back = ChurnData.read(out)
    assert "name" not in back.customers and "email" not in back.customers
    # text is read back Arrow-backed (pandas' ``str`` dtype, NaN for missing), values unchanged
    assert str(back.customers["customer_id"].dtype) == "str"
    assert back.customers["churn_reason"].isna().equals(data.customers["churn_reason"].isna())
    pd.testing.assert_frame_equal(_text_as_object(back.transactions), data.transactions)
    assert back.observation_end == data.observation_end and back.kind == data.kind
    text = b"".join(p.read_bytes() for p in out.iterdir())
    assert b"Lovelace" not in text and b"ada@example.com" not in text


def test_read_without_processed_data_says_what_to_do(tmp_path):
    with pytest.raises(ChurnDataError, match="make data"):
        ChurnData.read(tmp_path / "nothing")


# -- one test per documented error -----------------------------------------------------------
def _broken(tmp_path, tables, table, **changes):
    tables = {k: v.copy() for k, v in tables.items()}
    df = tables[table]
    for col, (row, value) in changes.items():
        df.loc[row, col] = value
    return write_tables(tmp_path / "broken", tables)


def test_missing_required_column(tmp_path, valid_tables):
    valid_tables["customers"] = valid_tables["customers"].drop(columns="start_date")
    d = write_tables(tmp_path / "m", valid_tables)
    with pytest.raises(ChurnDataError) as err:
        load(d)
    msg = str(err.value)
    assert "table 'customers'" in msg and "column 'start_date'" in msg and "Fix:" in msg


def test_unparsable_date(tmp_path, valid_tables):
    d = _broken(tmp_path, valid_tables, "transactions", date=(2, "31/02/2023x"))
    with pytest.raises(ChurnDataError) as err:
        load(d)
    msg = str(err.value)
    assert "table 'transactions', column 'date'" in msg and "31/02/2023x" in msg
    assert "row 4 (customer_id=A2)" in msg  # CSV line 4 = third data row


def test_end_before_start(tmp_path, valid_tables):
    d = _broken(tmp_path, valid_tables, "customers", end_date=(0, "2022-12-31"))
    with pytest.raises(ChurnDataError, match=r"column 'end_date'.*end_date before start_date.*customer_id=A1"):
        load(d)


def test_duplicate_customer_id(tmp_path, valid_tables):
    d = _broken(tmp_path, valid_tables, "customers", customer_id=(1, "A1"))
    with pytest.raises(ChurnDataError) as err:
        load(d)
    msg = str(err.value)
    assert "column 'customer_id'" in msg and "duplicate customer_id" in msg and "de-duplicate" in msg


def test_negative_amount(tmp_path, valid_tables):
    d = _broken(tmp_path, valid_tables, "transactions", amount=(3, -5.0))
    with pytest.raises(ChurnDataError) as err:
        load(d)
    msg = str(err.value)
    assert "table 'transactions', column 'amount'" in msg and "-5.0" in msg
    assert "customer_id=A3" in msg and "refunds" in msg


@pytest.mark.parametrize("table", ["transactions", "tickets", "surveys"])
def test_rows_for_unknown_customers(tmp_path, valid_tables, table):
    d = _broken(tmp_path, valid_tables, table, customer_id=(0, "ZZ9"))
    with pytest.raises(ChurnDataError, match=rf"table '{table}', column 'customer_id'.*not in the customers table.*ZZ9"):
        load(d)


def test_dates_after_observation_end(valid_dir):
    with pytest.raises(ChurnDataError) as err:
        load(valid_dir, observation_end="2023-12-31")
    msg = str(err.value)
    assert "after observation_end 2023-12-31" in msg and "later observation_end" in msg


def test_empty_customers_table(tmp_path, valid_tables):
    d = write_tables(tmp_path / "e", {"customers": valid_tables["customers"].iloc[:0]})
    with pytest.raises(ChurnDataError, match="table 'customers'.*empty"):
        load(d)


def test_csv_in_wrong_encoding(tmp_path, valid_tables):
    valid_tables["customers"]["churn_reason"] = ["价格", "", "竞争对手", ""]
    d = write_tables(tmp_path / "gbk", valid_tables, encoding="gb18030")
    with pytest.raises(ChurnDataError) as err:
        load(d)
    msg = str(err.value)
    assert "table 'customers'" in msg and "cannot decode" in msg and "gb18030" in msg


@pytest.mark.parametrize(("column", "value"), [("csat", 6), ("nps", 11), ("csat", 0)])
def test_scores_out_of_range(tmp_path, valid_tables, column, value):
    d = _broken(tmp_path, valid_tables, "surveys", **{column: (1, value)})
    with pytest.raises(ChurnDataError, match=rf"table 'surveys', column '{column}'.*customer_id=A3"):
        load(d)


def test_unknown_source():
    with pytest.raises(ChurnDataError, match="unknown data source"):
        load("no-such-source")


# -- YAML mapping, Chinese CRM export in GB18030 ----------------------------------------------
def test_yaml_mapping_gb18030_chinese_headers(tmp_path):
    raw = tmp_path / "crm"
    raw.mkdir()
    customers = pd.DataFrame({
        "客户编号": ["K001", "K002", "K003"],
        "姓名": ["张伟", "王芳", "李娜"],
        "手机": ["13800000001", "13800000002", "13800000003"],
        "开户日期": ["2023-01-01", "2023-02-15", "2023-03-01"],
        "销户日期": ["2023-08-01", "", ""],
        "流失原因": ["价格", "", ""],
        "地区": ["华东", "华南", "华东"],
    })
    orders = pd.DataFrame({"客户编号": ["K001", "K002", "K003"],
                           "交易日期": ["2023-02-01", "2023-03-01", "2023-04-01"],
                           "金额": ["100.5", "88", "120"]})
    customers.to_csv(raw / "客户.csv", index=False, encoding="gb18030")
    orders.to_csv(raw / "交易.csv", index=False, encoding="gb18030")
    mapping = {
        "encoding": "gb18030",
        "observation_end": "2023-12-31",
        "tables": {
            "customers": {"file": "客户.csv",
                          "columns": {"客户编号": "customer_id", "开户日期": "start_date",
                                      "销户日期": "end_date", "流失原因": "churn_reason",
                                      "地区": "region", "姓名": None, "手机": "phone"},
                          "values": {"churn_reason": {"价格": "price"}}},
            "transactions": {"file": "交易.csv",
                             "columns": {"客户编号": "customer_id", "交易日期": "date", "金额": "amount"}},
        },
    }
    spec = raw / "mapping.yaml"
    spec.write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    before = _sha(raw / "客户.csv")
    data = load(spec)
    c = data.customers
    assert list(c["customer_id"]) == ["K001", "K002", "K003"]
    assert c.loc[0, "churn_reason"] == "price" and c.loc[0, "region"] == "华东"
    assert c["end_date"].notna().sum() == 1 and "姓名" not in c
    assert data.transactions["amount"].sum() == pytest.approx(308.5)
    assert data.observation_end == pd.Timestamp("2023-12-31")
    out = data.write(tmp_path / "processed")
    assert "phone" not in ChurnData.read(out).customers  # personal data never processed
    assert _sha(raw / "客户.csv") == before


def test_yaml_mapping_wrong_encoding_is_explained(tmp_path):
    raw = tmp_path / "crm"
    raw.mkdir()
    pd.DataFrame({"客户编号": ["K1"], "开户日期": ["2023-01-01"], "销户日期": [""]}).to_csv(
        raw / "c.csv", index=False, encoding="gb18030")
    spec = raw / "m.yaml"
    spec.write_text(yaml.safe_dump({"tables": {"customers": {"file": "c.csv", "columns": {
        "客户编号": "customer_id", "开户日期": "start_date", "销户日期": "end_date"}}}},
        allow_unicode=True), encoding="utf-8")
    with pytest.raises(ChurnDataError, match="cannot decode c.csv as utf-8.*encoding: gb18030"):
        load(spec)


def test_yaml_mapping_names_missing_source_column(tmp_path, valid_dir):
    spec = tmp_path / "m.yaml"
    spec.write_text(yaml.safe_dump({"tables": {"customers": {
        "file": str(valid_dir / "customers.csv"), "columns": {"客户编号": "customer_id"}}}},
        allow_unicode=True), encoding="utf-8")
    with pytest.raises(ChurnDataError, match="table 'customers', column '客户编号'.*not found"):
        load(spec)


# -- packaged real datasets ------------------------------------------------------------------
def test_telco_counts_and_mapping():
    data = load("telco")
    c = data.customers
    assert len(c) == 7043 and c["end_date"].notna().sum() == 1869
    assert data.observation_end == pd.Timestamp("2018-01-31") and data.kind == "contractual"
    assert c["customer_id"].is_unique
    # tenure maps onto start_date exactly (months before the snapshot)
    months = (data.observation_end.to_period("M") - c["start_date"].dt.to_period("M")).map(lambda p: p.n)
    assert (months == c["tenure_months"]).all()
    # the 11 blank total charges are the tenure-0 customers, set to 0 and flagged
    assert c["total_charges_imputed"].sum() == 11
    assert (c.loc[c["total_charges_imputed"], "tenure_months"] == 0).all()
    assert c["total_charges"].notna().all()
    assert c["contract"].value_counts()["Month-to-month"] == 3875
    assert data.meta["checksums"] and "licence" in data.meta


def test_cdnow_counts():
    full = load("cdnow")
    assert full.customers.shape[0] == 23570 and len(full.transactions) == 69659
    assert full.kind == "non-contractual" and full.inactivity_days == 180
    sample = load("cdnow", sample=True)
    assert sample.customers.shape[0] == 2357 and len(sample.transactions) == 6919
    assert sample.transactions["date"].min() == pd.Timestamp("1997-01-01")
    assert sample.transactions["date"].max() <= pd.Timestamp("1998-06-30")
    assert full.customers["start_date"].max() < pd.Timestamp("1997-04-01")  # the 1997-Q1 cohort


def test_checksum_mismatch_is_reported(tmp_path, monkeypatch):
    import churn_research.sources.packaged as d

    fake = tmp_path / "manifest.yaml"
    m = yaml.safe_load(d.MANIFEST_PATH.read_text())
    m["files"]["telco"]["sha256"] = "0" * 64
    fake.write_text(yaml.safe_dump(m))
    monkeypatch.setattr(d, "MANIFEST_PATH", fake)
    with pytest.raises(ChurnDataError, match="checksum mismatch for 'telco'.*make clean-env env"):
        load("telco")
    m["files"]["telco"]["package"] = "no_such_package_xyz"
    fake.write_text(yaml.safe_dump(m))
    with pytest.raises(ChurnDataError, match="not installed.*make env"):
        load("telco")


# -- non-contractual inference ---------------------------------------------------------------
def test_infer_end_dates_rule():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
                              "start_date": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-12-01"])})
    tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
                       "date": pd.to_datetime(["2020-01-01", "2020-03-01", "2020-12-15", "2020-12-01"])})
    out = infer_end_dates(customers, tx, observation_end="2020-12-31", inactivity_days=90)
    assert list(out["status"]) == ["churned", "active", "undetermined"]
    assert out.loc[0, "end_date"] == pd.Timestamp("2020-03-01")
    assert out["end_date"].iloc[1:].isna().all()
    assert "end_date" not in customers  # input untouched


def test_directory_non_contractual_infers_churn(tmp_path, valid_tables):
    c = valid_tables["customers"].drop(columns="end_date")
    d = write_tables(tmp_path / "nc", {"customers": c, "transactions": valid_tables["transactions"]})
    data = load(d, kind="non-contractual", inactivity_days=60, observation_end="2024-06-30")
    assert data.kind == "non-contractual"
    assert data.customers["end_date"].notna().all()  # everyone's last purchase is > 60 days old
    assert data.customers.set_index("customer_id").loc["A1", "end_date"] == pd.Timestamp("2023-03-01")


def test_validate_does_not_mutate_input(valid_dir):
    data = load(valid_dir, observation_end="2024-06-30")
    snapshot = data.customers.copy()
    validate(data)
    pd.testing.assert_frame_equal(snapshot, data.customers)


def test_directory_copy_is_independent(tmp_path, valid_dir):
    copy = tmp_path / "copy"
    shutil.copytree(valid_dir, copy)
    # 4 columns: name and email (personal data) are dropped by the loader itself
    assert load(copy, observation_end="2024-06-30").customers.shape == (4, 4)


# ---------------------------------------------------------------------------------------
# model samples of large customer bases
# ---------------------------------------------------------------------------------------
def test_sample_customers_keeps_whole_customers_and_is_seeded():
    from churn_research.data import sample_note

    data = load("synthetic", n_customers=3000, random_state=1)
    small = data.sample_customers(3000)
    assert small is data and sample_note(small) == ""
    assert data.sample_customers(None) is data
    s = data.sample_customers(500, random_state=7)
    ids = set(s.customers["customer_id"])
    assert len(ids) == 500 and ids <= set(data.customers["customer_id"])
    for name in ("transactions", "tickets", "surveys"):
        full, part = getattr(data, name), getattr(s, name)
        assert set(part["customer_id"]) <= ids
        # every row of a sampled customer is kept, none of the others
        assert len(part) == int(full["customer_id"].isin(ids).sum())
    pd.testing.assert_frame_equal(s.events, data.events)
    assert s.meta["sample"] == {"customers": 500, "of": 3000, "random_state": 7}
    assert "truth" in s.meta and s.observation_end == data.observation_end
    again = data.sample_customers(500, random_state=7)
    assert list(again.customers["customer_id"]) == list(s.customers["customer_id"])
    other = data.sample_customers(500, random_state=8)
    assert set(other.customers["customer_id"]) != ids
    assert "500 of the 3,000 customers (seed 7" in sample_note(s)
    with pytest.raises(ValueError, match="at least 1"):
        data.sample_customers(0)


@pytest.mark.slow
def test_sample_churn_rate_is_unbiased():
    """The sample's churn share stays within sampling error of the whole base's."""
    data = load("synthetic", n_customers=20_000, random_state=2)
    p = data.customers["end_date"].notna().mean()
    shares = [data.sample_customers(2000, random_state=k).customers["end_date"].notna().mean()
              for k in range(20)]
    se = (p * (1 - p) / 2000 * (1 - 2000 / 20_000)) ** 0.5
    assert abs(sum(shares) / len(shares) - p) < 3 * se / len(shares) ** 0.5
    assert max(abs(x - p) for x in shares) < 4 * se


def test_flow_sentence_averages_only_months_with_observable_exits():
    from churn_research import profile

    cust = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "start_date": pd.to_datetime(["2020-01-15", "2020-02-10", "2023-01-05", "2023-02-20"]),
        "end_date": pd.to_datetime([pd.NaT, "2023-01-20", "2023-02-10", pd.NaT]),
    })
    data = ChurnData(customers=cust, observation_end=pd.Timestamp("2023-03-31"))
    text = profile.flow_sentence(data, profile.monthly_flows(data))
    # exits observable from January 2023: 3 months, 2 joins and 2 exits -> 1 per month each
    assert text.startswith("From January 2023 to March 2023 (3 months")
    assert "on average 1 customers joined and 1 left per month" in text
    snap = ChurnData(customers=cust, observation_end=pd.Timestamp("2023-03-31"), snapshot="2023-03-31")
    assert "one snapshot" in profile.flow_sentence(snap, profile.monthly_flows(snap))
    lapsed = ChurnData(customers=cust, observation_end=pd.Timestamp("2023-03-31"), kind="non-contractual",
                       inactivity_days=31)
    text = profile.flow_sentence(lapsed, profile.monthly_flows(lapsed))
    assert "(2 months" in text and "after February 2023 cannot show exits yet" in text


def test_records_start_declared_by_user_data_and_kept_through_processing(tmp_path, valid_dir):
    """Left truncation is a ChurnData field a user's mapping or source_options can declare."""
    data = load(valid_dir, observation_end="2024-03-31", records_start="2023-02-01")
    assert data.records_start == pd.Timestamp("2023-02-01")
    mapping = {"observation_end": "2024-03-31", "records_start": "2023-03-01",
               "tables": {"customers": {"file": str(valid_dir / "customers.csv"),
                                        "columns": {"customer_id": "customer_id",
                                                    "start_date": "start_date",
                                                    "end_date": "end_date"}}}}
    spec = tmp_path / "mapping.yaml"
    spec.write_text(yaml.safe_dump(mapping), encoding="utf-8")
    assert load(spec).records_start == pd.Timestamp("2023-03-01")
    again = ChurnData.read(data.write(tmp_path / "processed"))
    assert again.records_start == data.records_start and again.inactivity_days == 180
    assert load(valid_dir, observation_end="2024-03-31").records_start is None


def test_typed_fields_of_the_packaged_sources():
    synth = load("synthetic", n_customers=300, random_state=1)
    assert synth.records_start == pd.Timestamp(synth.meta["truth"]["left_truncated_at"])
    assert not synth.is_snapshot and synth.snapshot is None
    telco = load("telco")
    assert telco.is_snapshot and telco.snapshot == telco.observation_end
    cdnow = load("cdnow", sample=True, inactivity_days=120)
    assert cdnow.inactivity_days == 120 and not cdnow.is_snapshot and cdnow.records_start is None


def test_notebooks_read_data_model_fields_not_meta():
    """snapshot, records_start and inactivity_days are ChurnData fields: a notebook reading them
    from ``meta`` silently gets nothing (a telco report once lost its snapshot caveat so)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    pattern = re.compile(r"meta(\.get\(|\[)\\?[\"'](snapshot|inactivity_days|left_truncated_at|"
                         r"study_start|observation_start|records_start)")
    for nb in sorted((root / "notebooks").glob("*.ipynb")):
        assert not pattern.search(nb.read_text(encoding="utf-8")), nb.name


def test_data_profile_reads_in_chinese():
    """Issue 14: 00_data's sentences on flows and tables, and its table views, in Chinese."""
    from churn_research import i18n, profile

    cust = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "start_date": pd.to_datetime(["2020-01-15", "2020-02-10", "2023-01-05", "2023-02-20"]),
        "end_date": pd.to_datetime([pd.NaT, "2023-01-20", "2023-02-10", pd.NaT]),
    })
    data = ChurnData(customers=cust, observation_end=pd.Timestamp("2023-03-31"))
    i18n.set_language("zh")
    try:
        text = profile.flow_sentence(data, profile.monthly_flows(data))
        assert text == "从 2023年1月到 2023年3月（共 3 个可观察到流失的月份），平均每月新增 1 位客户、流失 1 位。"
        lapsed = ChurnData(customers=cust, observation_end=pd.Timestamp("2023-03-31"),
                           kind="non-contractual", inactivity_days=31)
        assert "2023年2月之后的月份尚无法显示流失" in profile.flow_sentence(lapsed, profile.monthly_flows(lapsed))
        miss = profile.missingness(data)
        html = profile.missingness_view(miss).to_html()
        assert "缺失占比" in html and "结束日期" in html and "活跃客户（删失）" in html
        html = profile.table_view(profile.table_profile(data)).to_html()
        assert "缺失单元格占比" in html and "客户" in html and "16.7%" in html
    finally:
        i18n.set_language("en")
    assert list(profile.missingness(data).columns) == ["table", "column", "missing share", "note"]


# -- the optional campaigns table (issue 16) ---------------------------------------------------
def _campaigns(**changes):
    df = pd.DataFrame({"customer_id": ["A2", "A3", "A4"],
                       "date": ["2024-01-10", "2024-01-10", "2024-01-10"],
                       "campaign": ["winter_offer"] * 3, "treated": ["1", "0", "1"],
                       "cost": ["5", "0", "5"]})
    for col, (row, value) in changes.items():
        df.loc[row, col] = value
    return df


def test_campaigns_table_loads_validates_and_round_trips(tmp_path, valid_tables):
    d = write_tables(tmp_path / "c", {**valid_tables, "campaigns": _campaigns()})
    data = load(d)
    camp = data.campaigns
    assert list(camp["treated"]) == [1, 0, 1] and camp["treated"].dtype == "int8"
    assert camp["cost"].sum() == pytest.approx(10.0)
    assert camp["date"].iloc[0] == pd.Timestamp("2024-01-10")
    back = ChurnData.read(data.write(tmp_path / "processed"))
    assert "campaigns" in back.tables()
    pd.testing.assert_frame_equal(_text_as_object(back.campaigns), camp)
    # a Parquet directory reads the same (integers 0/1 as written by a program)
    pq = tmp_path / "pq"
    pq.mkdir()
    for name, df in data.tables().items():
        df.to_parquet(pq / f"{name}.parquet", index=False)
    assert list(load(pq).campaigns["treated"]) == [1, 0, 1]


@pytest.mark.parametrize(("change", "pattern"), [
    ({"customer_id": (0, "ZZ9")},
     r"table 'campaigns', column 'customer_id'.*1 row\(s\) refer to customers not in the "
     r"customers table.*ZZ9"),
    ({"treated": (1, "2")},
     r"table 'campaigns', column 'treated'.*not yes/no: \['2'\].*Offending rows: row 3 "
     r"\(customer_id=A3\)"),
    ({"date": (2, "2022-06-01")},
     r"table 'campaigns', column 'date': 1 campaign date\(s\) before the records begin "
     r"\(2023-01-15\).*row 4 \(customer_id=A4\)"),
    ({"date": (0, "2025-01-01")},
     r"table 'campaigns', column 'date': 1 date\(s\) after observation_end 2024-06-30"),
    ({"customer_id": (1, "A2")},
     r"table 'campaigns', column 'customer_id': 1 customer\(s\) appear more than once in the "
     r"same campaign"),
    ({"cost": (0, "-3")}, r"table 'campaigns', column 'cost': 1 negative cost"),
])
def test_campaigns_errors_name_table_column_rows_and_fix(tmp_path, valid_tables, change, pattern):
    d = write_tables(tmp_path / "bad", {**valid_tables, "campaigns": _campaigns(**change)})
    with pytest.raises(ChurnDataError, match=pattern) as err:
        load(d, observation_end="2024-06-30")
    assert "Fix:" in str(err.value)


def test_campaigns_treated_not_0_1_in_data_built_by_hand(valid_dir):
    data = load(valid_dir, observation_end="2024-06-30")
    camp = _campaigns().assign(date=pd.Timestamp("2024-01-10"), treated=[1, 0, 7], cost=0.0)
    with pytest.raises(ChurnDataError, match=r"table 'campaigns', column 'treated': treated must "
                       r"be 1 \(contacted\) or 0 \(control, held out\) in every row; 1 row\(s\) "
                       r"hold \['7'\]\..*row 4 \(customer_id=A4\)"):
        validate(data.replace(campaigns=camp))


def test_campaigns_mapping_with_chinese_headers_and_values(tmp_path, valid_tables):
    raw = tmp_path / "crm"
    write_tables(raw, {k: v for k, v in valid_tables.items() if k != "campaigns"})
    pd.DataFrame({"客户编号": ["A2", "A3", "A4"], "活动日期": ["2024年1月10日"] * 3,
                  "活动": ["冬季优惠"] * 3, "是否干预": ["是", "对照组", "否"],
                  "活动成本": ["5", "0", "0"]}).to_csv(raw / "营销活动.csv", index=False,
                                                    encoding="gb18030")
    tables = {t: {"file": f"{t}.csv"} for t in valid_tables}
    tables["campaigns"] = {"file": "营销活动.csv", "encoding": "gb18030",
                           "columns": {"客户编号": "customer_id", "活动日期": "date",
                                       "活动": "campaign", "是否干预": "treated",
                                       "活动成本": "cost"}}
    spec = raw / "mapping.yaml"
    spec.write_text(yaml.safe_dump({"tables": tables}, allow_unicode=True), encoding="utf-8")
    camp = load(spec).campaigns
    assert list(camp["treated"]) == [1, 0, 0] and list(camp["campaign"]) == ["冬季优惠"] * 3
    assert camp["date"].iloc[0] == pd.Timestamp("2024-01-10")
    from churn_research.sources.scaffold import recognise
    assert [recognise(h, "campaigns") for h in ("活动", "是否干预", "活动日期")] == [
        "campaign", "treated", "date"]


def test_read_defers_tables_until_used_and_a_sample_reads_only_its_rows(tmp_path):
    from churn_research.model import TABLES

    data = load("synthetic", n_customers=400, random_state=3)
    out = data.write(tmp_path / "processed")
    lazy = ChurnData.read(out)
    assert isinstance(lazy._stored("customers"), pd.DataFrame)
    assert type(lazy._stored("transactions")).__name__ == "_StoredTable"
    assert lazy.has("transactions")  # from the file's metadata: still not read
    assert type(lazy._stored("transactions")).__name__ == "_StoredTable"
    sample = lazy.sample_customers(50, random_state=1)
    assert type(sample._stored("transactions")).__name__ == "_StoredTable"
    eager = ChurnData.read(out)
    for name in TABLES:
        getattr(eager, name)
    expected = eager.sample_customers(50, random_state=1)
    for name in TABLES:
        got, want = getattr(sample, name), getattr(expected, name)
        assert (got is None) == (want is None)
        if want is not None:
            pd.testing.assert_frame_equal(got, want)
    assert sample.transactions["customer_id"].nunique() <= 50 < len(sample.transactions)
    pd.testing.assert_frame_equal(_text_as_object(lazy.transactions),
                                  pd.read_parquet(out / "transactions.parquet"))
    assert isinstance(lazy._stored("transactions"), pd.DataFrame)  # read once, then kept


def test_a_sample_takes_its_rows_from_the_whole_table_once_that_is_read(tmp_path):
    data = load("synthetic", n_customers=300, random_state=4)
    out = data.write(tmp_path / "processed")
    lazy = ChurnData.read(out)
    sample = lazy.sample_customers(40, random_state=2)
    whole = lazy.transactions  # the whole table is read first ...
    (out / "transactions.parquet").unlink()  # ... so the sample must not need the file
    want = whole[whole["customer_id"].isin(sample.customers["customer_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(sample.transactions, want)
    assert len(want) > 40


def test_copies_of_unread_data_share_one_read_of_each_table(tmp_path):
    data = load("synthetic", n_customers=200, random_state=5)
    lazy = ChurnData.read(data.write(tmp_path / "processed"))
    copy = lazy.replace(customers=lazy.customers.head(10))
    assert copy.transactions is lazy.transactions  # one frame, as with tables read at once
