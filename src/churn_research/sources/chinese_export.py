"""The synthetic business as a Chinese CRM export: the ``synthetic_zh`` source.

Chinese businesses' exports are GB18030 files with Chinese headers and Chinese values (投诉,
是/否, 代理商, 2023年1月5日), some of them spreadsheets. :func:`write_export` writes the synthetic
generator's tables in that shape, with a mapping YAML as the README tells a user to write one;
:func:`load_synthetic_zh` writes it and loads it back through the user's path
(:func:`~churn_research.sources.files.load_mapping`: encoding, header mapping, the value
vocabulary, the date parser, the ``.xlsx`` reader), so every run of the Chinese sample exercises
what a Chinese user's data go through, and its numbers can be compared with the English
``synthetic`` source of the same size and seed (the same business).

The export (``build/raw/synthetic_zh/`` by default; raw data of the project are never written):

============  ===========  =====================================================================
file          encoding     what is Chinese
============  ===========  =====================================================================
客户.csv       GB18030      headers; 男/女, 是/否, 华北/华南/华东/华西, 线上/门店/代理商, 个人/企业客户,
                           基础版/标准版/高级版, 月付/年付, 价格太高/服务差/搬家 …; dates 2023年1月5日;
                           Chinese names, mobile numbers and e-mails (dropped by 00_data)
交易.csv       GB18030      headers; dates 2023/1/5
工单.xlsx      (Excel)      headers; 投诉/咨询/报修 …, 已解决/未解决; date cells
满意度调查.csv  GB18030      headers; dates 20230105 (YYYYMMDD)
事件.csv       GB18030      headers, the event's name and description; dates 2024年7月1日
营销活动.csv    GB18030      only with ``campaign=...``: headers, 是/否; dates 2025年6月1日
mapping.yaml   UTF-8        the mapping onto the data model (as in the README)
============  ===========  =====================================================================

Free labels (region, plan) stay Chinese in the processed data, as a user's would; coded values
(gender, channel, customer type, contract, churn reason, ticket kind, yes/no) become the data
model's codes through the vocabulary. The generator's ground truth is carried over with its
region and plan levels renamed, so the Chinese reports are checked against it as the English
ones are.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from churn_research.model import ChurnData
from churn_research.sources.files import load_mapping
from churn_research.sources.packaged import PROJECT_ROOT
from churn_research.sources.synthetic import generate

__all__ = ["LEVELS", "HEADERS", "write_export", "load_synthetic_zh", "DEFAULT_EXPORT_DIR"]

#: Where :func:`load_synthetic_zh` writes the export (generated, never committed).
DEFAULT_EXPORT_DIR = PROJECT_ROOT / "build" / "raw" / "synthetic_zh"

#: The Chinese value of each of the generator's values, per column (as a Chinese CRM writes them).
LEVELS: dict[str, dict[Any, str]] = {
    "gender": {"female": "女", "male": "男"},
    "region": {"north": "华北", "south": "华南", "east": "华东", "west": "华西"},
    "channel": {"online": "线上", "store": "门店", "partner": "代理商"},
    "customer_type": {"consumer": "个人", "business": "企业客户", "intermediary": "经销商"},
    "plan": {"basic": "基础版", "standard": "标准版", "premium": "高级版"},
    "contract": {"monthly": "月付", "annual": "年付", "two_year": "两年"},
    "churn_reason": {"price": "价格太高", "competitor": "竞争对手", "product_quality": "质量问题",
                     "service_quality": "服务差", "needs_changed": "不再需要", "relocation": "搬家",
                     "other": "其他"},
    "kind": {"complaint": "投诉", "inquiry": "咨询", "technical": "报修", "billing": "账单",
             "cancellation": "退订", "other": "其他"},
    "resolved": {True: "已解决", False: "未解决"},
    "flag": {True: "是", False: "否"},
}
#: The free labels: kept Chinese in the processed data (the others are coded values).
FREE_LABELS = ("region", "plan")

#: Chinese header of each data-model column, per file.
HEADERS: dict[str, dict[str, str]] = {
    "customers": {"customer_id": "客户编号", "name": "客户姓名", "phone": "手机号", "email": "邮箱",
                  "start_date": "开户日期", "end_date": "销户日期", "churn_reason": "流失原因",
                  "gender": "性别", "age": "年龄", "senior": "是否老年", "region": "地区",
                  "channel": "渠道", "customer_type": "客户类型", "plan": "套餐",
                  "contract": "合同类型", "price_rise": "是否涨价", "monthly_revenue": "月费"},
    "transactions": {"customer_id": "客户编号", "date": "交易日期", "amount": "金额",
                     "quantity": "数量"},
    "tickets": {"customer_id": "客户编号", "date": "工单日期", "kind": "工单类型",
                "resolved": "处理结果", "resolution_days": "处理天数"},
    "surveys": {"customer_id": "客户编号", "date": "调查日期", "csat": "满意度评分",
                "nps": "推荐意愿"},
    "events": {"date": "日期", "name": "事件", "description": "说明"},
    "campaigns": {"customer_id": "客户编号", "date": "活动日期", "campaign": "活动",
                  "treated": "是否干预", "cost": "活动成本"},
}
FILES = {"customers": "客户.csv", "transactions": "交易.csv", "tickets": "工单.xlsx",
         "surveys": "满意度调查.csv", "events": "事件.csv", "campaigns": "营销活动.csv"}
#: How each file writes its dates (a Chinese export mixes them; the loader reads them all).
DATE_STYLES = {"customers": "{y}年{m}月{d}日", "transactions": "{y}/{m}/{d}", "surveys": "{y}{m:02d}{d:02d}",
               "events": "{y}年{m}月{d}日", "campaigns": "{y}年{m}月{d}日"}
FIXED_TIME = pd.Timestamp("2026-01-01")
EVENT_TEXT = {"rename_and_new_owner": ("公司更名及股东变更", "公司更名，控股股东变更")}

#: Surname + two given-name characters, none of them a common word of a report (so a name found
#: in an output is a leak, not a coincidence such as 于华东 or 平均).
_SURNAMES = "王李张刘陈杨黄赵吴徐孙朱胡郭林罗郑梁谢宋唐韩冯邓彭肖董袁潘蒋蔡杜叶苏魏吕丁沈"
_GIVEN = "伟芳娜敏静丽磊娟涛秀霞桂兰萍辉鹏浩晨欣怡琳涵梓轩婷玲燕斌峰琴蕾瑶璐倩雯昊"


def _dates(values: pd.Series, style: str) -> pd.Series:
    ts = pd.to_datetime(values)
    out = [style.format(y=t.year, m=t.month, d=t.day) if not pd.isna(t) else "" for t in ts]
    return pd.Series(out, index=values.index, dtype="object")


def _personal(n: int, rng: np.random.Generator) -> tuple[list[str], list[str], list[str]]:
    """Chinese names, mobile numbers (1[3-9]x xxxx xxxx) and e-mails: personal data the mapping
    must drop (they never reach processed data or a report)."""
    names = [_SURNAMES[rng.integers(len(_SURNAMES))] + _GIVEN[rng.integers(len(_GIVEN))]
             + _GIVEN[rng.integers(len(_GIVEN))] for _ in range(n)]
    phones = [f"1{rng.integers(3, 10)}{rng.integers(0, 10**9):09d}" for _ in range(n)]
    mails = [f"kh{i:07d}@example.cn" for i in range(n)]
    return names, phones, mails


def _chinese(table: str, df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    out = df.copy()
    if table == "customers":
        out["name"], out["phone"], out["email"] = _personal(len(out), rng)
        for col in ("gender", "region", "channel", "customer_type", "plan", "contract", "churn_reason"):
            if col in out:
                out[col] = out[col].map(LEVELS[col]).where(out[col].notna(), "")
        for col in ("senior", "price_rise"):
            if col in out:
                out[col] = out[col].map(LEVELS["flag"])
    elif table == "tickets":
        out["kind"] = out["kind"].map(LEVELS["kind"])
        out["resolved"] = out["resolved"].map(LEVELS["resolved"])
    elif table == "events":
        out["description"] = [EVENT_TEXT.get(n, (n, d))[1] for n, d in zip(out["name"], out["description"], strict=True)]
        out["name"] = [EVENT_TEXT.get(n, (n, ""))[0] for n in out["name"]]
    elif table == "campaigns":
        out["treated"] = out["treated"].astype(bool).map(LEVELS["flag"])
    style = DATE_STYLES.get(table)
    for col in ("start_date", "end_date", "date"):
        if col in out and style:
            out[col] = _dates(out[col], style)
    return out.rename(columns=HEADERS[table])


def write_export(data: ChurnData, folder: str | Path, *, random_state: int = 0) -> Path:
    """Write ``data`` (the synthetic generator's) as a Chinese CRM export into ``folder`` and
    return its mapping YAML. Deterministic: the same data and seed give the same bytes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(random_state)
    tables: dict[str, Any] = {}
    for table, file in FILES.items():
        df = getattr(data, table, None)
        if df is None:
            continue
        zh = _chinese(table, df, rng)
        path = folder / file
        if path.suffix == ".xlsx":
            _write_xlsx(zh, path)
        else:
            zh.to_csv(path, index=False, encoding="gb18030", lineterminator="\n")
        # personal data mapped onto the data model's names, which 00_data drops and reports
        columns = {HEADERS[table][c]: c for c in df.columns if c in HEADERS[table]}
        tables[table] = {"file": file, "columns": columns}
    spec = {
        "encoding": "gb18030",
        "kind": "contractual",
        "records_start": str(pd.Timestamp(data.records_start).date()) if data.records_start is not None else None,
        "observation_end": str(pd.Timestamp(data.observation_end).date()),
        "licence": "synthetic (generated by churn_research.sources.synthetic)",
        "tables": tables,
    }
    spec = {k: v for k, v in spec.items() if v is not None}
    mapping = folder / "mapping.yaml"
    mapping.write_text("# A Chinese CRM export of the synthetic business, mapped onto the data model\n"
                       "# (written by churn_research.sources.chinese_export; see README, 'Your own data').\n"
                       + yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return mapping


def _write_xlsx(df: pd.DataFrame, path: Path) -> None:
    """An Excel sheet with date cells, with fixed timestamps (document properties and zip
    entries) so that the same data give the same bytes."""
    frame = df.copy()
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.normalize()
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="工单")
        props = writer.book.properties
        props.created = props.modified = FIXED_TIME.to_pydatetime()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, content)
            dst.writestr(entry, content)


def _rename_levels(term: str) -> str:
    """A ground-truth term with its region/plan level in Chinese: ``plan[premium]`` ->
    ``plan[高级版]``."""
    for col in FREE_LABELS:
        for en, zh in LEVELS[col].items():
            term = term.replace(f"{col}[{en}]", f"{col}[{zh}]")
    return term


def load_synthetic_zh(*, n_customers: int = 5000, random_state: int = 0,
                      export_dir: str | Path | None = None, **options: Any) -> ChurnData:
    """Generate the synthetic business, write it as a Chinese export and load it as a user's
    data (see the module docstring); ``options`` go to the generator."""
    data = generate(n_customers=n_customers, random_state=random_state, **options)
    mapping = write_export(data, export_dir or DEFAULT_EXPORT_DIR, random_state=random_state)
    out = load_mapping(mapping)
    truth = dict(data.meta.get("truth") or {})
    if isinstance(truth.get("log_hr"), dict):
        truth["log_hr"] = {_rename_levels(k): v for k, v in truth["log_hr"].items()}
    out.meta.update({"source": "synthetic_zh", "params": data.meta.get("params"), "truth": truth,
                     "licence": "generated (CC0)"})
    return out
