"""Chinese values, dates and file types of a user's export (issue 14): the vocabulary
(sources/vocabulary.py), the date parser (sources/dates.py) and .xlsx/Parquet files, each checked
against the English canonical tables of the synthetic generator (the known answer)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from conftest import write_tables

from churn_research.causes.claims import test_claims as claims_of
from churn_research.model import ChurnDataError
from churn_research.sources import generate, load
from churn_research.sources.dates import parse_dates
from churn_research.sources.vocabulary import canonical_key, normalise_values

PERSONAL = ["name", "phone", "email"]
HEADERS = {
    "customers": {"customer_id": "客户编号", "start_date": "开户日期", "end_date": "销户日期",
                  "churn_reason": "流失原因", "gender": "性别", "age": "年龄", "senior": "是否老年",
                  "region": "地区", "channel": "渠道", "customer_type": "客户类型", "plan": "套餐",
                  "contract": "合同", "price_rise": "是否涨价", "monthly_revenue": "月收入"},
    "transactions": {"customer_id": "客户编号", "date": "交易日期", "amount": "金额",
                     "quantity": "数量"},
    "tickets": {"customer_id": "客户编号", "date": "日期", "kind": "工单类型", "resolved": "是否解决",
                "resolution_days": "处理天数"},
    "surveys": {"customer_id": "客户编号", "date": "调查日期", "csat": "满意度", "nps": "推荐意愿"},
    "events": {"date": "日期", "name": "事件", "description": "说明"},
}
ZH_VALUES = {
    "churn_reason": {"price": "价格太高", "competitor": "竞争对手", "product_quality": "质量",
                     "service_quality": "服务差", "needs_changed": "不再需要", "relocation": "搬家",
                     "other": "其他"},
    "gender": {"female": "女", "male": "男"},
    "channel": {"online": "线上", "store": "门店", "partner": "代理"},
    "customer_type": {"consumer": "个人", "business": "企业客户"},
    "contract": {"monthly": "月付", "annual": "年付"},
    "senior": {True: "是", False: "否"},
    "price_rise": {True: "是", False: "否"},
    "kind": {"complaint": "投诉", "inquiry": "咨询", "technical": "报修"},
    "resolved": {True: "已解决", False: "未解决"},
}
# free labels: kept as they are unless the mapping's `values:` recodes them
REGIONS = {"north": "华北", "south": "华南", "east": "华东", "west": "华西"}
PLANS = {"basic": "基础版", "standard": "标准版", "premium": "高级版"}


def _chinese_date(s: pd.Series) -> pd.Series:
    return s.map(lambda d: "" if pd.isna(d) else f"{d.year}年{d.month}月{d.day}日")


DATE_FORMS = {  # (table, column) -> how the export writes it
    ("customers", "start_date"): _chinese_date,
    ("customers", "end_date"): lambda s: s.map(lambda d: "" if pd.isna(d) else
                                               f"{d.year}/{d.month}/{d.day}"),
    ("transactions", "date"): lambda s: s.dt.strftime("%Y%m%d"),
    ("tickets", "date"): lambda s: ((s - pd.Timestamp("1899-12-30")).dt.days).astype(str),
    ("surveys", "date"): _chinese_date,
}


@pytest.fixture(scope="module")
def english():
    """The generator's canonical tables (200 customers), without personal data."""
    data = generate(n_customers=200, random_state=3)
    return {t: (df.drop(columns=PERSONAL) if t == "customers" else df).copy()
            for t, df in data.tables().items()}


def _to_chinese(tables: dict[str, pd.DataFrame], *, dates: bool = True) -> dict[str, pd.DataFrame]:
    out = {}
    for t, df in tables.items():
        df = df.copy()
        for col, recode in ZH_VALUES.items():
            if col in df:
                df[col] = df[col].map(recode).where(df[col].notna(), None)
        if t == "customers":
            df["region"] = df["region"].map(REGIONS)
            df["plan"] = df["plan"].map(PLANS)
        if dates:
            for (table, col), form in DATE_FORMS.items():
                if table == t:
                    df[col] = form(df[col])
        out[t] = df.rename(columns=HEADERS[t])
    return out


def _mapping(files: dict[str, str], **extra) -> dict:
    return {"encoding": "gb18030", "observation_end": "2025-12-31",
            "tables": {t: {"file": f, "columns": {v: k for k, v in HEADERS[t].items()}}
                       for t, f in files.items()},
            "values": {"customers.region": {v: k for k, v in REGIONS.items()},
                       "customers.plan": {v: k for k, v in PLANS.items()}},
            **extra}


def _write_mapping(directory, mapping) -> object:
    spec = directory / "mapping.yaml"
    spec.write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    return spec


@pytest.fixture(scope="module")
def loaded(english, tmp_path_factory):
    """The same data loaded from an English CSV directory and a GB18030 Chinese export."""
    root = tmp_path_factory.mktemp("zh")
    en = load(write_tables(root / "en", english), observation_end="2025-12-31")
    raw = root / "crm"
    raw.mkdir()
    files = {}
    for t, df in _to_chinese(english).items():
        files[t] = f"{t}_导出.csv"
        df.to_csv(raw / files[t], index=False, encoding="gb18030")
    zh = load(_write_mapping(raw, _mapping(files)))
    return en, zh, raw


def test_chinese_gb18030_export_loads_to_the_english_canonical_tables(english, loaded):
    en, zh, _ = loaded
    for t in ("customers", "transactions", "tickets", "surveys", "events"):
        pd.testing.assert_frame_equal(getattr(zh, t), getattr(en, t), check_like=False)
    assert zh.observation_end == en.observation_end == pd.Timestamp("2025-12-31")
    # and both equal the generator's own tables (the known answer)
    c = english["customers"]
    assert zh.customers["price_rise"].dtype == bool
    assert int((~zh.customers["price_rise"]).sum()) == int((~c["price_rise"]).sum())  # 否 is False
    assert zh.customers["start_date"].equals(c["start_date"])  # 2023年1月5日 form
    assert zh.transactions["date"].equals(english["transactions"]["date"])  # 20230105 form
    assert zh.tickets["date"].equals(english["tickets"]["date"])  # Excel serials


def test_complaints_counted_from_投诉_equal_the_english_count(english, loaded):
    en, zh, _ = loaded
    truth = int((english["tickets"]["kind"] == "complaint").sum())
    assert truth > 100
    assert int((zh.tickets["kind"] == "complaint").sum()) == truth
    assert int((en.tickets["kind"] == "complaint").sum()) == truth
    assert set(zh.tickets["kind"]) == {"complaint", "inquiry", "technical"}
    assert int(zh.tickets["resolved"].sum()) == int(english["tickets"]["resolved"].sum())


def test_vocabulary_maps_chinese_and_english_variants():
    tables = {
        "customers": pd.DataFrame({
            "customer_id": list("abcdefghij"),
            "customer_type": ["代理商", "经销商", "批发商", "零售商", "Reseller", "企业客户", "公司",
                              "个人", "consumer", "Business"],
            "contract": ["月付", "按年", "两年", "Month-to-month", "yearly", "Two year", "monthly",
                         "年度", "二年", "月度"],
            "gender": ["男", "女", "男性", "女性", "M", "F", "Male", "female", "男", "女"],
            "churn_reason": ["价格", "太贵", "服务差", "质量", "竞品", "搬家", "需求变化", "不再需要",
                             "Too expensive", None],
            "price_rise": ["是", "否", "Y", "N", "yes", "no", "true", "False", "1", "0"],
            "vip": ["是", "否", "是", "否", "是", "否", "是", "否", None, "是"],
        }),
        "tickets": pd.DataFrame({"customer_id": list("abcdef"),
                                 "kind": ["投诉", "客诉", "Complaint", "咨询", "question", "故障"],
                                 "resolved": ["是", "否", "对", "错", "T", "F"]}),
    }
    out = normalise_values(tables)
    c, t = out["customers"], out["tickets"]
    assert c["customer_type"].tolist() == ["intermediary"] * 5 + ["business"] * 2 + [
        "consumer"] * 2 + ["business"]
    assert c["contract"].tolist() == ["monthly", "annual", "two_year", "monthly", "annual",
                                      "two_year", "monthly", "annual", "two_year", "monthly"]
    assert c["gender"].tolist() == ["male", "female"] * 5
    assert c["churn_reason"].tolist()[:9] == ["price", "price", "service_quality",
                                              "product_quality", "competitor", "relocation",
                                              "needs_changed", "needs_changed", "price"]
    assert pd.isna(c["churn_reason"].iloc[9])
    assert c["price_rise"].tolist() == [True, False] * 5 and c["price_rise"].dtype == bool
    assert c["vip"].dtype == "boolean" and int(c["vip"].sum()) == 5  # an undeclared 是/否 column
    assert t["kind"].tolist() == ["complaint"] * 3 + ["inquiry"] * 2 + ["technical"]
    assert t["resolved"].tolist() == [True, False, True, False, True, False]
    assert canonical_key("Ｍｏｎｔｈ－to_month ") == "month to month"  # full-width, case, separators
    assert tables["tickets"]["kind"].iloc[0] == "投诉"  # the input is not modified


def test_free_labels_are_kept():
    df = pd.DataFrame({"customer_id": ["a", "b"], "region": ["华东", "华南"], "plan": ["Y", "N"],
                       "channel": ["门店", "抖音"]})
    out = normalise_values({"customers": df})["customers"]
    assert out["region"].tolist() == ["华东", "华南"]
    assert out["plan"].tolist() == ["Y", "N"]  # letters alone never make a column a flag
    assert out["channel"].tolist() == ["store", "抖音"]  # a channel label the vocabulary lacks


def test_intermediary_claim_is_testable_with_chinese_and_english_types(tmp_path):
    n = 40
    for labels in (("代理商", "个人"), ("Reseller", "individual")):
        customers = pd.DataFrame({
            "customer_id": [f"K{i:03d}" for i in range(n)],
            "start_date": ["2022-01-01"] * n,
            "end_date": (["2022-06-01"] * 4 + [""] * 16) + (["2022-06-01"] * 12 + [""] * 8),
            "customer_type": [labels[0]] * 20 + [labels[1]] * 20,
        })
        data = load(write_tables(tmp_path / labels[0], {"customers": customers}),
                    observation_end="2023-01-01")
        assert data.customers["customer_type"].value_counts().to_dict() == {
            "intermediary": 20, "consumer": 20}
        claim = claims_of(data, design="snapshot").set_index("claim").loc["channel"]
        assert not pd.isna(claim["supported"])
        assert claim["effect"] == pytest.approx((4 / 20) / (12 / 20))  # risk ratio 1/3


@pytest.mark.parametrize("kind", ["售后", "x" * 30])
def test_unknown_ticket_kind_stops_naming_column_values_and_fix(tmp_path, valid_tables, kind):
    valid_tables["tickets"]["kind"] = ["投诉", kind]
    with pytest.raises(ChurnDataError) as err:
        load(write_tables(tmp_path / "t", valid_tables))
    msg = str(err.value)
    assert "table 'tickets', column 'kind'" in msg and "values:" in msg and "tickets.kind" in msg
    shown = kind if len(kind) <= 20 else kind[:19] + "…"
    assert f"'{shown}'" in msg and "row 3 (customer_id=A3)" in msg
    assert "x" * 21 not in msg  # never a value longer than 20 characters


def test_values_mapping_extends_the_vocabulary(tmp_path, valid_tables):
    valid_tables["tickets"]["kind"] = ["投诉", "售后"]
    d = write_tables(tmp_path / "t", valid_tables)
    data = load(d, values={"tickets.kind": {"售后": "technical"}})
    assert data.tickets["kind"].tolist() == ["complaint", "technical"]
    with pytest.raises(ChurnDataError, match="names column"):
        load(d, values={"tickets.kindd": {"售后": "technical"}})


def test_flag_that_is_not_yes_no_stops(tmp_path, valid_tables):
    valid_tables["customers"]["price_rise"] = ["是", "否", "也许", "否"]
    with pytest.raises(ChurnDataError) as err:
        load(write_tables(tmp_path / "t", valid_tables))
    msg = str(err.value)
    assert "column 'price_rise'" in msg and "'也许'" in msg and "customers.price_rise" in msg
    assert "row 4 (customer_id=A3)" in msg


@pytest.mark.parametrize("value", ["2023年1月5日", "2023/1/5", "2023-1-5", "20230105", "44931",
                                   "2023.01.05", "2023年01月05日 00:00"])
def test_date_forms_parse_to_the_same_day(value):
    out = parse_dates(pd.Series([value, None]), table="t", column="date")
    assert out.iloc[0] == pd.Timestamp("2023-01-05") and pd.isna(out.iloc[1])


def test_numeric_dates_from_excel_or_parquet():
    out = parse_dates(pd.Series([44931, 20230105, 44931.5]), table="t", column="date")
    assert out.tolist() == [pd.Timestamp("2023-01-05"), pd.Timestamp("2023-01-05"),
                            pd.Timestamp("2023-01-05 12:00")]


def test_day_month_order_settled_by_the_values_or_declared(tmp_path, valid_tables):
    c = valid_tables["customers"]
    c["start_date"] = ["03/04/2023", "05/06/2023", "07/08/2023", "09/10/2023"]
    c["end_date"] = ["", "", "", ""]
    valid_tables = {"customers": c}
    with pytest.raises(ChurnDataError) as err:
        load(write_tables(tmp_path / "a", valid_tables))
    msg = str(err.value)
    assert "table 'customers', column 'start_date'" in msg and "date_format: DD/MM/YYYY" in msg
    data = load(tmp_path / "a", date_format="DD/MM/YYYY")
    assert data.customers["start_date"].iloc[0] == pd.Timestamp("2023-04-03")
    # another date column of the table settles the order (25 > 12: day first)
    c["end_date"] = ["25/12/2023", "", "", ""]
    data = load(write_tables(tmp_path / "b", {"customers": c}))
    assert data.customers["start_date"].iloc[0] == pd.Timestamp("2023-04-03")
    assert data.customers["end_date"].iloc[0] == pd.Timestamp("2023-12-25")
    # month first, settled by 12/25
    c["end_date"] = ["12/25/2023", "", "", ""]
    data = load(write_tables(tmp_path / "c", {"customers": c}))
    assert data.customers["start_date"].iloc[0] == pd.Timestamp("2023-03-04")


def test_mixed_day_month_orders_stop():
    with pytest.raises(ChurnDataError, match="mix day/month/year and month/day/year"):
        parse_dates(pd.Series(["25/01/2023", "01/25/2023"]), table="t", column="date")


def test_xlsx_export_loads_identically(english, loaded):
    _, zh_csv, raw = loaded
    tables = {t: english[t] for t in ("customers", "tickets")}
    # Excel holds real dates and numbers; the headers and coded values are Chinese
    zh = _to_chinese(tables, dates=False)
    with pd.ExcelWriter(raw / "导出.xlsx") as xl:
        zh["customers"].to_excel(xl, sheet_name="客户", index=False)
        zh["tickets"].to_excel(xl, sheet_name="工单", index=False)
    mapping = _mapping({"customers": "导出.xlsx", "tickets": "导出.xlsx"})
    mapping["tables"]["tickets"]["sheet"] = "工单"
    data = load(_write_mapping(raw / ".." / raw.name, mapping))
    for t in ("customers", "tickets"):
        pd.testing.assert_frame_equal(getattr(data, t), getattr(zh_csv, t))
    assert int((data.tickets["kind"] == "complaint").sum()) == int(
        (english["tickets"]["kind"] == "complaint").sum())


def test_parquet_and_utf8_bom_csv(tmp_path, english):
    c = _to_chinese({"customers": english["customers"]})["customers"]
    d = tmp_path / "p"
    d.mkdir()
    c.to_csv(d / "bom.csv", index=False, encoding="utf-8-sig")  # Excel's "CSV UTF-8"
    c.to_parquet(d / "c.parquet")  # numbers stay numbers, the rest text
    mapping = _mapping({"customers": "bom.csv"}, encoding="utf-8")
    a = load(_write_mapping(d, mapping))
    mapping["tables"]["customers"]["file"] = "c.parquet"
    b = load(_write_mapping(d, mapping))
    pd.testing.assert_frame_equal(a.customers, b.customers)
    assert int(a.customers["price_rise"].sum()) == int(english["customers"]["price_rise"].sum())


def test_mapping_date_format_per_table_and_column(tmp_path, valid_tables):
    c = valid_tables["customers"].drop(columns=["name", "email"])
    c["start_date"] = ["03/04/2023", "05/06/2023", "07/08/2023", "09/10/2023"]
    c["end_date"] = ["04.11.2023", "", "", ""]
    c.to_csv(tmp_path / "c.csv", index=False)
    mapping = {"tables": {"customers": {
        "file": "c.csv", "date_format": {"start_date": "MM/DD/YYYY", "end_date": "%d.%m.%Y"}}}}
    data = load(_write_mapping(tmp_path, mapping))
    assert data.customers["start_date"].tolist()[:2] == [pd.Timestamp("2023-03-04"),
                                                         pd.Timestamp("2023-05-06")]
    assert data.customers["end_date"].iloc[0] == pd.Timestamp("2023-11-04")
    mapping["date_format"] = "YYYY-MM-DD"  # a top-level format the table's own one overrides
    assert load(_write_mapping(tmp_path, mapping)).customers["start_date"].iloc[0] == pd.Timestamp(
        "2023-03-04")
    del mapping["tables"]["customers"]["date_format"]
    with pytest.raises(ChurnDataError, match="does not follow `date_format: YYYY-MM-DD`"):
        load(_write_mapping(tmp_path, mapping))
