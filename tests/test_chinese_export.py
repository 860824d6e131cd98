"""The Chinese sample (source ``synthetic_zh``): a GB18030 CRM export with Chinese headers, values
and dates, read back through the user's mapping path, is the same business as ``synthetic``."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from churn_research.sources import load
from churn_research.sources.chinese_export import (
    FREE_LABELS,
    LEVELS,
    load_synthetic_zh,
    write_export,
)
from churn_research.sources.synthetic import generate

N = 400


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zh-export")
    zh = load_synthetic_zh(n_customers=N, random_state=3, export_dir=folder)
    en = load("synthetic", n_customers=N, random_state=3)
    return en, zh, folder


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_export_is_what_a_chinese_crm_writes(both):
    _en, _zh, folder = both
    raw = (folder / "客户.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")                              # GB18030, not UTF-8
    customers = pd.read_csv(folder / "客户.csv", encoding="gb18030", dtype=str)
    assert {"客户编号", "开户日期", "流失原因", "是否涨价", "客户类型", "客户姓名", "手机号"} <= set(customers)
    assert customers["开户日期"].str.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日").all()
    assert set(customers["是否涨价"]) == {"是", "否"}
    assert customers["手机号"].str.fullmatch(r"1[3-9]\d{9}").all()
    tickets = pd.read_excel(folder / "工单.xlsx", dtype={"客户编号": str})
    assert "投诉" in set(tickets["工单类型"]) and pd.api.types.is_datetime64_any_dtype(tickets["工单日期"])
    tx = pd.read_csv(folder / "交易.csv", encoding="gb18030", dtype=str)
    assert tx["交易日期"].str.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}").all()


def test_chinese_export_reads_back_as_the_same_business(both):
    en, zh, _folder = both
    cols = [c for c in en.customers if c not in ("name", "phone", "email")]
    back = zh.customers[cols].copy()
    for col in FREE_LABELS:  # free labels stay Chinese in the processed data
        assert set(back[col]) <= set(LEVELS[col].values())
        back[col] = back[col].map({v: k for k, v in LEVELS[col].items()})
    pd.testing.assert_frame_equal(back.reset_index(drop=True),
                                  en.customers[cols].reset_index(drop=True), check_dtype=False)
    for table in ("transactions", "tickets", "surveys"):
        pd.testing.assert_frame_equal(getattr(zh, table).reset_index(drop=True),
                                      getattr(en, table).reset_index(drop=True), check_dtype=False)
    # coded values through the vocabulary: 投诉 is a complaint, 否 is False, 月付 is monthly
    assert (zh.tickets["kind"] == "complaint").sum() == (en.tickets["kind"] == "complaint").sum() > 0
    assert zh.customers["price_rise"].sum() == en.customers["price_rise"].sum()
    assert zh.observation_end == en.observation_end and zh.event_date == en.event_date
    assert zh.meta["truth"]["log_hr"]["plan[高级版]"] == en.meta["truth"]["log_hr"]["plan[premium]"]


def test_export_is_reproducible_and_never_modified_by_loading(tmp_path):
    data = generate(n_customers=150, random_state=1)
    write_export(data, tmp_path / "a", random_state=1)
    write_export(data, tmp_path / "b", random_state=1)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    before = _digest(tmp_path / "a")
    load(tmp_path / "a" / "mapping.yaml")
    assert _digest(tmp_path / "a") == before
