"""Personal data (issue 19): recognised by header and by content in every table, dropped before
anything is written, listed in 00_data; free-text churn reasons reduced to "other"; phone-like
customer ids refused; error messages never quote a personal-looking value."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import write_tables

from churn_research import i18n
from churn_research.model import ChurnData, ChurnDataError, offending_rows
from churn_research.personal import (
    content_reason,
    header_reason,
    looks_personal,
    mask,
    screen,
)
from churn_research.sources import load, profile
from churn_research.sources.synthetic import generate

ROOT = Path(__file__).resolve().parents[1]


def cn_id(body17: str) -> str:
    """A Chinese resident ID number with its ISO 7064 check character."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights, strict=True)) % 11]


# ------------------------------------------------------------------------------------------
# detection
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("column", "reason"), [
    ("name", "names"), ("Name", "names"), ("customer_name", "names"), ("客户姓名", "names"),
    ("payer_name", "names"), ("姓名", "names"), ("Customer Name", "names"),
    ("phone", "phone numbers"), ("Phone Number", "phone numbers"), ("phoneNumber", "phone numbers"),
    ("手机号码", "phone numbers"), ("联系电话", "phone numbers"), ("手机号", "phone numbers"),
    ("email", "e-mail addresses"), ("E-mail", "e-mail addresses"), ("邮箱", "e-mail addresses"),
    ("address", "postal addresses"), ("地址", "postal addresses"),
    ("身份证号", "ID numbers"), ("证件号码", "ID numbers"), ("id_number", "ID numbers"),
    ("wechat", "messaging accounts"), ("微信号", "messaging accounts"), ("QQ", "messaging accounts"),
    ("contact", "contact details"), ("联系方式", "contact details"),
    ("account_manager", "employee names"), ("客户经理", "employee names"),
    ("agent", "employee names"), ("customer_service_agent", "employee names"),
    ("notes", "free text"), ("备注", "free text"), ("comment", "free text"),
    ("birth_date", "birth dates"), ("出生日期", "birth dates"),
])
def test_header_patterns_in_english_and_chinese(column, reason):
    for table in ("customers", "transactions", "tickets", "surveys"):
        assert header_reason(table, column) == reason


@pytest.mark.parametrize("column", [
    # the packaged datasets' columns (Telco's phone_service, partner, payment_method, ...)
    "partner", "phone_service", "payment_method", "multiple_lines", "tech_support",
    "paperless_billing", "dependents", "internet_service", "online_security", "online_backup",
    "device_protection", "streaming_tv", "streaming_movies", "senior_citizen",
    "total_charges_imputed", "customer_id", "churn_reason", "region", "channel", "plan",
    "quantity", "amount", "last_purchase", "status", "kind", "resolved", "csat", "nps",
    # neutral headers that are not personal by name
    "plan_name", "last_contact_date", "mail_opt_in", "x1", "contact_channel", "流失原因", "地区",
])
def test_legitimate_headers_are_kept(column):
    assert header_reason("customers", column) is None


def test_events_name_and_description_are_not_a_persons():
    assert header_reason("events", "name") is None and header_reason("events", "description") is None
    assert header_reason("customers", "name") == "names"


@pytest.mark.parametrize(("values", "reason"), [
    (["13700000001", "13912345678", None, "13800001111"], "phone numbers"),
    (["137 0000 0002", "+86 139-1234-5679"], "phone numbers"),
    (["+1-555-0123-4567", "(555) 123-4567"], "phone numbers"),
    (["010-12345678"], "phone numbers"),
    (["ok", "moved abroad, call 13700000001", "ok"], "phone numbers"),
    (["a.b@example.cn", "c@d.com"], "e-mail addresses"),
    ([cn_id("11010519491231002")], "ID numbers"),
    (["wxid_abcdef123"], "messaging accounts"),
    (["王伟芳", "李娜静", "张磊涛", "刘敏娟", "陈丽霞", "杨浩晨"], "names"),
    (["Agatha Pennyworth", "Barnaby Quill", "Cordelia Vance", "Desmond Holt", "Eudora Finch"], "names"),
    ([f"The customer said the evening speed was poor, visit {i}" for i in range(8)], "free text"),
    ([f"客户反映晚上网速很慢，希望第{i}次上门处理" for i in range(8)], "free text"),
])
def test_content_rules_under_neutral_names(values, reason):
    assert content_reason(pd.Series(values, dtype=object)) == reason
    tables, record = screen({"customers": pd.DataFrame({"customer_id": [f"C{i}" for i in range(len(values))],
                                                        "x1": values})})
    assert "x1" not in tables["customers"]
    assert record["dropped"] == [{"table": "customers", "column": "x1", "reason": reason,
                                  "found_by": "values"}]


@pytest.mark.parametrize("values", [
    ["Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"] * 5,
    ["C0000001", "C0000002", "C0000003", "C0000004", "C0000005", "C0000006"],
    ["00001", "00002", "00003", "00004", "00005", "00006"],
    ["2023-01-05", "2023/1/5", "20230105", "2023年1月5日"],
    [cn_id("11010519491231002")[:-1] + ("0" if cn_id("11010519491231002")[-1] != "0" else "1")],
    ["华北", "华东", "华南", "西南", "华中"] * 3,
    ["12.50", "8.00", "1234567.89"],
    ["Fiber optic", "DSL", "No"],
])
def test_content_rules_keep_labels_codes_dates_and_wrong_checksums(values):
    assert content_reason(pd.Series(values, dtype=object)) is None


def test_numbers_and_flags_are_never_personal_by_content():
    assert content_reason(pd.Series([13700000001, 13912345678])) is None
    assert content_reason(pd.Series([True, False])) is None


def test_looks_personal_and_mask():
    assert looks_personal("call 13700000001 soon") == "phone numbers"
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in "13700000001")
    assert looks_personal(full_width) == "phone numbers"
    assert looks_personal("C0000001") is None and looks_personal(None) is None
    assert mask("customer 13700000001 (a.b@example.cn), ID " + cn_id("11010519491231002")) == \
        "customer <phone number> (<e-mail>), ID <ID number>"
    assert mask("公司更名，控股股东变更") == "公司更名，控股股东变更"  # unchanged, full-width comma kept
    assert mask("2 date(s) after observation_end 2024-12-31.") == \
        "2 date(s) after observation_end 2024-12-31."


# ------------------------------------------------------------------------------------------
# churn reasons, identifiers, errors
# ------------------------------------------------------------------------------------------
def test_free_text_churn_reasons_become_other_and_are_counted():
    customers = pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(7)],
        "churn_reason": ["price", "moved abroad, call 13700000001", "客户说要移民，联系电话13911112222",
                         "the service was bad and the app kept crashing every day", "moved abroad",
                         None, "competitor"]})
    tables, record = screen({"customers": customers}, churn_categories=["price", "competitor"])
    assert tables["customers"]["churn_reason"].tolist() == [
        "price", "other", "other", "other", "moved abroad", None, "competitor"]
    assert record["churn_reasons_reduced"] == {"rows": 3, "values": 3}
    assert customers["churn_reason"].iloc[1].startswith("moved abroad, call")  # input untouched


def test_customer_ids_that_look_like_phone_numbers_are_refused(tmp_path):
    d = write_tables(tmp_path / "raw", {"customers": pd.DataFrame({
        "customer_id": ["13700000001", "13700000002"], "start_date": ["2023-01-01", "2023-02-01"],
        "end_date": ["", "2023-06-01"]})})
    with pytest.raises(ChurnDataError) as err:
        load(d)
    msg = str(err.value)
    assert msg.startswith("table 'customers', column 'customer_id': 2 of 2 customer ids checked "
                          "look like phone numbers;")
    assert "map the CRM's own customer number onto customer_id" in msg
    assert "1370000000" not in msg


def test_error_messages_mask_personal_values():
    df = pd.DataFrame({"customer_id": ["13700000001", "C2"], "x": [1, 2]})
    rows = offending_rows(df, [True, True])
    assert rows == ["row 2 (customer_id=<phone number>)", "row 3 (customer_id=C2)"]
    err = ChurnDataError("non-numeric values such as ['a.b@example.cn', '13912345678'].",
                         table="customers", column="age", rows=rows,
                         fix="remove 13912345678 from the column.")
    text = str(err)
    assert "13912345678" not in text and "a.b@example.cn" not in text and "13700000001" not in text
    assert text == ("table 'customers', column 'age': non-numeric values such as ['<e-mail>', "
                    "'<phone number>']. Offending rows: row 2 (customer_id=<phone number>), row 3 "
                    "(customer_id=C2). Fix: remove <phone number> from the column.")


def test_loader_error_on_a_mapped_personal_column_does_not_quote_it(tmp_path):
    d = write_tables(tmp_path / "raw", {"customers": pd.DataFrame({
        "customer_id": ["K1", "K2"], "start_date": ["2023-01-01", "2023-02-01"], "end_date": ["", ""],
        "monthly_revenue": ["call 13700000001", "40"]})})
    with pytest.raises(ChurnDataError) as err:
        load(d)
    assert "13700000001" not in str(err.value) and "<phone number>" in str(err.value)


def test_write_drops_personal_headers_of_hand_built_data(tmp_path):
    data = ChurnData(customers=pd.DataFrame({
        "customer_id": ["A"], "start_date": pd.to_datetime(["2023-01-01"]), "end_date": [pd.NaT],
        "客户经理": ["欧阳丽娜"], "Phone Number": ["+1-555-0100-0001"], "partner": [True]}),
        observation_end=pd.Timestamp("2023-12-31"))
    back = ChurnData.read(data.write(tmp_path / "p"))
    assert list(back.customers.columns) == ["customer_id", "start_date", "end_date", "partner"]


# ------------------------------------------------------------------------------------------
# the packaged datasets keep their columns and numbers
# ------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(("source", "dropped"), [
    ("synthetic", ["name", "phone", "email"]), ("telco", []), ("cdnow", []),
])
def test_packaged_datasets_keep_every_legitimate_column(source, dropped):
    data = load(source)
    record = data.meta["personal_data"]
    assert [d["column"] for d in record["dropped"]] == dropped
    assert all(d["found_by"] == "header" for d in record["dropped"])
    assert record["churn_reasons_reduced"] == {"rows": 0, "values": 0}
    if source == "telco":
        assert {"partner", "phone_service", "payment_method", "multiple_lines",
                "paperless_billing"} <= set(data.customers.columns)
        assert data.customers.shape == (7043, 24)
    if source == "cdnow":
        assert list(data.transactions.columns) == ["customer_id", "date", "quantity", "amount"]
    if source == "synthetic":
        assert data.customers.shape == (5000, 14)
        assert profile.personal_columns(data) == {"customers": ["name", "phone", "email"]}


def test_personal_view_in_english_and_chinese():
    dropped = pd.DataFrame([
        {"table": "customers", "column": "name", "reason": "names", "found_by": "header"},
        {"table": "tickets", "column": "x1", "reason": "phone numbers", "found_by": "values"}])
    try:
        i18n.set_language("en")
        en = profile.personal_view(dropped).data
        assert en.columns.tolist() == ["table", "column", "why it was dropped"]
        assert en.iloc[:, 2].tolist() == ["names, recognised by its name",
                                          "phone numbers, found in its values"]
        i18n.set_language("zh")
        zh = profile.personal_view(dropped).data
        assert zh.columns.tolist() == ["数据表", "列", "删除原因"]
        assert zh.iloc[:, 2].tolist() == ["姓名（从列名识别）", "电话号码（从列中的取值识别）"]
        assert zh.iloc[0, 0] == i18n.label("customers") and zh.iloc[0, 1] == "姓名"
    finally:
        i18n.set_language("en")


# ------------------------------------------------------------------------------------------
# end to end: planted values in every table, every output searched
# ------------------------------------------------------------------------------------------
ENGLISH_NAMES = ["Zebulon Quartermaine", "Philippa Dunsworth", "Octavia Brambleton",
                 "Lysander Pocklington", "Wilhelmina Fairweather", "Thaddeus Cromwellby"]
CHINESE_NAMES = ["欧阳娜霞", "司马晨璐", "诸葛浩瑶", "上官琳雯", "东方昊蕾", "慕容斌倩"]
MANAGERS = ["Agatha Pennyworth", "Barnaby Quillfeather"]
MANAGERS_ZH = ["皇甫晓磊", "令狐秀兰"]
AGENTS = ["Ignatius Scrumbleton", "Perpetua Wolfington"]
#: Distinct Chinese names (a list of names under the neutral header x2) from these characters.
SURNAMES, GIVEN = "王李张刘陈杨黄赵吴徐", "伟芳娜敏静丽磊娟涛秀霞桂兰萍辉鹏浩晨欣怡"
FREE_REASONS = ["moved abroad, call 13700000001", "客户说要移民，联系电话13911112222"]


def _planted(n: int) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """A small synthetic business with personal values planted in every table under unusual
    column names; returns the tables (as the data model's CSV files) and the planted values."""
    data = generate(n, random_state=3)
    rng = np.random.default_rng(5)
    c = data.customers.drop(columns=["name", "phone", "email"]).copy()
    k = len(c)
    phones = [f"137{i:08d}" for i in range(10, 10 + k)]
    ids = [cn_id(f"110105{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}")
           for i in range(k)]
    c["身份证号"] = ids
    c["ref_b"] = [cn_id(f"310104{1960 + i % 40}{1 + i % 12:02d}{1 + i % 28:02d}{(i + 7) % 1000:03d}")
                  for i in range(k)]                                        # IDs, neutral name
    c["手机号码"] = phones
    c["联系电话"] = [f"0755-8{i:07d}" for i in range(k)]
    c["Phone Number"] = [f"+1-555-01{i % 100:02d}-{i:04d}" for i in range(k)]
    c["E-mail"] = [f"zq{i}@mailbox-example.org" for i in range(k)]
    c["x1"] = [f"holder{i}@quietmail-example.net" for i in range(k)]     # e-mails, neutral name
    c["contact"] = [f"139 {i:04d} {i:04d}" for i in range(k)]
    c["customer_name"] = [ENGLISH_NAMES[i % 6] + f" {chr(65 + i % 26)}" for i in range(k)]
    c["客户姓名"] = [CHINESE_NAMES[i % 6] for i in range(k)]
    c["x2"] = [SURNAMES[i % 10] + GIVEN[i // 10 % 20] + GIVEN[i // 200 % 20] for i in range(k)]
    c["wechat"] = [f"wxid_plant{i:05d}" for i in range(k)]
    c["notes"] = [f"moved abroad, call 1370000{i:04d}" if i % 3 == 0 else "" for i in range(k)]
    c["备注"] = [f"客户{CHINESE_NAMES[i % 6]}说月底搬家，电话1381234{i:04d}" if i % 4 == 0 else ""
                 for i in range(k)]
    c["account_manager"] = [MANAGERS[i % 2] for i in range(k)]
    c["客户经理"] = [MANAGERS_ZH[i % 2] for i in range(k)]
    churned = c.index[c["end_date"].notna()]
    c.loc[churned[:20], "churn_reason"] = FREE_REASONS[0]
    c.loc[churned[20:40], "churn_reason"] = FREE_REASONS[1]
    tx = data.transactions.copy()
    tx["payer_name"] = [ENGLISH_NAMES[i % 6] for i in range(len(tx))]
    tx["付款人手机"] = [f"1590000{i % 10000:04d}" for i in range(len(tx))]
    tk = data.tickets.copy()
    tk["notes"] = [f"Caller asked for a callback on 1360000{i % 10000:04d}" for i in range(len(tk))]
    tk["agent"] = [AGENTS[i % 2] for i in range(len(tk))]
    tk["col_q"] = [f"ticket{i}@helpdesk-example.com" for i in range(len(tk))]
    sv = data.surveys.copy()
    sv["comment"] = [f"{ENGLISH_NAMES[i % 6]} says the app is slow; reach me at 1350000{i % 10000:04d}"
                     for i in range(len(sv))]
    sv["q9"] = [f"请回电 1330000{i % 10000:04d}" for i in range(len(sv))]
    ev = data.events.copy()
    ev["contact_person"] = ["Zebulon Quartermaine"] * len(ev)
    ev["description"] = ev["description"].astype(str) + "; press: press@zq-example.com, 13122223333"
    for df in (c, tx, tk, sv):
        for col in ("start_date", "end_date", "date"):
            if col in df:
                df[col] = pd.to_datetime(df[col]).dt.strftime("%Y-%m-%d")
    ev["date"] = pd.to_datetime(ev["date"]).dt.strftime("%Y-%m-%d")
    tables = {"customers": c, "transactions": tx, "tickets": tk, "surveys": sv, "events": ev}
    del rng
    values = [*phones[:50], *ids[:50], *c["ref_b"][:20], *c["联系电话"][:20], *c["Phone Number"][:20],
              *c["E-mail"][:20], *c["x1"][:20], *c["wechat"][:20], *ENGLISH_NAMES, *CHINESE_NAMES,
              *c["x2"][:50], *MANAGERS, *MANAGERS_ZH, *AGENTS, "13700000001", "13911112222",
              "moved abroad", "移民", "press@zq-example.com", "13122223333", "1381234", "1370000",
              "1360000", "1350000", "1330000", "1590000", "139 0001 0001", "helpdesk-example",
              "quietmail-example", "mailbox-example", "wxid_plant", "Pennyworth", "Quillfeather",
              "Scrumbleton"]
    return tables, values


def test_planted_values_never_reach_the_loaded_data(tmp_path):
    tables, values = _planted(300)
    raw = write_tables(tmp_path / "raw", tables)
    assert [v for v in values if v not in "".join(_texts(p) for p in raw.iterdir())] == []
    data = load(raw, records_start="2021-01-01")
    record = data.meta["personal_data"]
    dropped = {(d["table"], d["column"]): (d["reason"], d["found_by"]) for d in record["dropped"]}
    assert dropped == {
        ("customers", "身份证号"): ("ID numbers", "header"),
        ("customers", "ref_b"): ("ID numbers", "values"),
        ("customers", "手机号码"): ("phone numbers", "header"),
        ("customers", "联系电话"): ("phone numbers", "header"),
        ("customers", "Phone Number"): ("phone numbers", "header"),
        ("customers", "E-mail"): ("e-mail addresses", "header"),
        ("customers", "x1"): ("e-mail addresses", "values"),
        ("customers", "contact"): ("contact details", "header"),
        ("customers", "customer_name"): ("names", "header"),
        ("customers", "客户姓名"): ("names", "header"),
        ("customers", "x2"): ("names", "values"),
        ("customers", "wechat"): ("messaging accounts", "header"),
        ("customers", "notes"): ("free text", "header"),
        ("customers", "备注"): ("free text", "header"),
        ("customers", "account_manager"): ("employee names", "header"),
        ("customers", "客户经理"): ("employee names", "header"),
        ("transactions", "payer_name"): ("names", "header"),
        ("transactions", "付款人手机"): ("phone numbers", "header"),
        ("tickets", "notes"): ("free text", "header"),
        ("tickets", "agent"): ("employee names", "header"),
        ("tickets", "col_q"): ("e-mail addresses", "values"),
        ("surveys", "comment"): ("free text", "header"),
        ("surveys", "q9"): ("phone numbers", "values"),
        ("events", "contact_person"): ("contact details", "header"),
    }
    assert record["churn_reasons_reduced"] == {"rows": 40, "values": 2}
    text = "\n".join(df.astype(str).to_csv() for df in data.tables().values())
    assert [v for v in values if v in text] == []
    assert data.events["description"].iloc[0].endswith("; press: <e-mail>, <phone number>")


def _run(root: Path, dataset: str, stage: str) -> subprocess.CompletedProcess:
    code = ("import sys; from pathlib import Path; from churn_research.runner.pipeline import "
            "run_stage; run_stage(sys.argv[1], sys.argv[2], root=Path(sys.argv[3]), quiet=True)")
    return subprocess.run([sys.executable, "-c", code, dataset, stage, str(root)],
                          capture_output=True, text=True, timeout=1200)


def _texts(path: Path) -> str:
    """Everything a reader or a program could read in an output file, as text."""
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
        return " ".join(map(str, df.columns)) + "\n" + df.astype(str).to_csv()
    raw = path.read_bytes().decode("utf-8", errors="ignore")
    if path.suffix in (".json", ".ipynb"):
        raw += json.dumps(json.loads(raw), ensure_ascii=False)
    return raw


@pytest.mark.subprocess
def test_planted_values_are_in_no_report_processed_file_or_build(tmp_path):
    """Acceptance of issue 19 (part 1): the planted values are in no file under reports/,
    data/processed/ or build/ after every stage ran."""
    tables, values = _planted(1500)
    root = tmp_path / "proj"
    raw = write_tables(root / "data" / "raw" / "pii", tables)
    assert [v for v in values if v not in "".join(_texts(p) for p in raw.iterdir())] == []
    (root / "notebooks").mkdir(parents=True)
    stages = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for stage in stages:
        shutil.copy(ROOT / "notebooks" / f"{stage}.ipynb", root / "notebooks")
    params = yaml.safe_load((ROOT / "params" / "synthetic.yaml").read_text(encoding="utf-8"))
    params.update(source=str(raw), source_options={"records_start": "2021-01-01"},
                  title="Planted personal data")
    params["stages"] = {s: params["stages"][s] for s in stages}
    (root / "params").mkdir()
    (root / "params" / "pii.yaml").write_text(yaml.safe_dump(params, allow_unicode=True),
                                              encoding="utf-8")
    for stage in stages:
        done = _run(root, "pii", stage)
        assert done.returncode == 0, done.stderr[-3000:]
        assert not [v for v in values if v in done.stdout + done.stderr]
    files = [p for d in ("reports", "data/processed", "build") for p in (root / d).rglob("*")
             if p.is_file()]
    assert {p.name for p in files} >= {f"{s}.html" for s in stages} | {
        "customers.parquet", "meta.json", "00_data.ipynb", "watchlist.csv"}
    leaks = {p.relative_to(root).as_posix(): [v for v in values if v in _texts(p)] for p in files}
    assert {k: v for k, v in leaks.items() if v} == {}
    figures = json.loads((root / "reports" / "pii" / "00_data.json").read_text())
    assert figures["personal_columns_dropped"] == 24 and figures["churn_reasons_reduced"] == 40
    page = (root / "reports" / "pii" / "00_data.html").read_text(encoding="utf-8")
    assert "why it was dropped" in page and "ID numbers, found in its values" in page
    assert "40 churn reasons were free text rather than categories" in page
