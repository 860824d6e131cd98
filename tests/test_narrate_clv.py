"""Section sentences of 50_clv (narrate.clv) built from hand-made result objects."""

from types import SimpleNamespace

import pandas as pd
import pytest

from churn_research.annual import AnnualChurn
from churn_research.clv import analysis, churn_cost, retention_scenarios
from churn_research.narrate import clv as nc


def _data(kind, tables=("customers",)):
    return SimpleNamespace(kind=kind, has=lambda t: t in tables)


def _derl(curve: dict, renewals=(0, 12, 24, 36)):
    idx = pd.Index(list(renewals), name="renewals")
    segs = list(curve)
    sbg = pd.DataFrame({"gamma": 1.0, "delta": 2.0, "mean_churn": 0.05, "polarisation": 0.3,
                        "customers": 100}, index=segs)
    sbg_table = pd.DataFrame({s: [20.0, 24.0, 28.0, 32.3] for s in segs}, index=idx)
    return analysis.DerlResult(sbg, sbg_table, pd.DataFrame(curve, index=idx), 0.10)


def test_derl_levels_off_per_segment_as_the_table_reads():
    # issue 13 point 8: standard keeps rising (27.6 -> 31.9 -> 39.5), only basic levels off
    r = _derl({"basic": [20.2, 25.6, 27.37, 27.32], "standard": [23.0, 27.6, 31.9, 39.5]})
    assert analysis.rises_until(r.curve_table) == {"basic": 24, "standard": None}
    text = nc.derl(r)
    assert "20.0 months, one with 36 renewals 32.3" in text
    assert "levels off for basic from about 24 renewals" in text
    assert "for standard it keeps rising up to 36 renewals" in text
    assert "standard from about" not in text


def test_derl_segments_grouped_by_where_they_level_off():
    r = _derl({"basic": [20, 25, 27.4, 27.3], "premium": [27, 32, 36.3, 36.0]})
    text = nc.derl(r)
    assert "levels off for basic, premium from about 24 renewals" in text
    assert text.endswith("while the sBG keeps rising.")


def test_derl_all_rising_and_not_rising():
    r = _derl({"basic": [20, 22, 21.5, 30]})          # a dip, but higher at the end: keeps rising
    assert "keeps rising up to 36 renewals, as the sBG does" in nc.derl(r)
    # telco: the hazard does not fall for the contracts with fixed terms
    r = _derl({"Month-to-month": [40, 50, 55, 60], "Two year": [70, 60, 50, 40]})
    text = nc.derl(r)
    assert "shows it only for Month-to-month: for Two year the hazard does not fall" in text


def test_derl_flat_sbg_segments():
    r = _derl({"basic": [1, 2, 3, 4], "pro": [1, 2, 3, 4]})
    assert nc.derl_flat(r) == ""
    r.sbg.loc["pro", "polarisation"] = 0.001
    assert nc.derl_flat(r).startswith("For pro the sBG finds no heterogeneity")


def test_not_available_lines():
    cdnow = _data("non-contractual", ("customers", "transactions"))
    assert nc.retention_curve(None, data=cdnow, value_col="monthly_revenue") == (
        "Not available for this dataset: survival-based lifetime value, because it needs "
        "contractual data with a revenue-per-month column (`monthly_revenue`) and these data are "
        "non-contractual (their value is modelled with BG/NBD below).")
    assert nc.derl(None, data=cdnow) == ("Not available for this dataset: DERL, because it is a "
                                         "contractual (renewal) measure and these data are "
                                         "non-contractual.")
    telco = _data("contractual")
    assert nc.btyd_split(None, data=telco).endswith("these data are contractual without transactions.")
    synthetic = _data("contractual", ("customers", "transactions"))
    assert "subscription invoices" in nc.btyd_split(None, data=synthetic)
    assert nc.money_at_risk(None, design="prospective") == (
        "Not available for this dataset: the value at risk, because no per-customer value could "
        "be computed for these data.")
    gone = analysis.DerlResult.not_available("the data are one snapshot: exits ...", 0.10)
    assert nc.derl(gone, data=telco) == ("Not available for this dataset: DERL under the "
                                         "shifted-beta-geometric (sBG) model, because the data "
                                         "are one snapshot: exits ....")
    assert nc.derl_flat(gone) == ""


def _cost(*, months, lost, at_risk, kind="contractual", method=None):
    rate = lost / at_risk
    annual_rate = 1 - (1 - rate) ** (12 / months)
    end = pd.Timestamp("2018-01-31")
    annual = AnnualChurn(annual_rate, annual_rate - 0.01, annual_rate + 0.01,
                         method or ("window" if months == 12 else "window, annualised"), months,
                         end - pd.DateOffset(months=months), end, at_risk, lost, rate, 5174)
    if method == "survival curve":
        annual = AnnualChurn(0.0811, 0.0739, 0.0890, method, 12, None, None, 0, 0, float("nan"), 5174)
    inputs = {"annual": annual, "annual_revenue_per_customer": 778.0,
              "revenue_source": "monthly_revenue", "active": 5174}
    cost = churn_cost(5174, annual.rate, 778.0, 0.30, 5.0, retention_cost_per_customer=778.0 / 12)
    return analysis.ChurnCostResult(inputs, cost, kind, 180, end)


def test_churn_cost_snapshot_reads_the_survival_curve():
    text = nc.churn_cost(_cost(months=12, lost=0, at_risk=1, method="survival curve"))
    assert text.startswith("Annual churn of the customer base: **8.1% (95% CI 7.4–8.9%)**")
    assert "Kaplan–Meier" in text and "indicative" in text
    assert "the 5,174 customers active at 2018-01-31 would lose about 420 a year" in text
    assert "Telco" not in text and "the column monthly_revenue" in text


def test_churn_cost_non_contractual_window_and_annualised_rate():
    r = _cost(months=9, lost=4588, at_risk=9962, kind="non-contractual")
    text = nc.churn_cost(r)
    assert "of the 9,962 customers on the books on 2017-04-30, the share who left by 2018-01-31" in text
    assert "(46.1% in 9 months), annualised as 1 − (1 − rate)^(12/9)" in text
    assert "The window ends 180 days before the observation end" in text
    r = _cost(months=12, lost=531, at_risk=1970)
    assert "the share who left by 2018-01-31. A customer brings 778" in nc.churn_cost(r)


def test_scenarios_and_base():
    table = retention_scenarios(1931, 0.27, 784.0, 0.30, reductions=[0.01, 0.05], horizon=3,
                                discount_rate=0.10)
    text = nc.scenarios(table, annual_churn=0.27, years=3, discount_rate=0.10)
    top = table.iloc[-1]
    assert text.startswith("Cutting annual churn by 5 points (from 27.0% to 22.0%) keeps "
                           f"{top['extra_customers_end']:,.0f} more customers after 3 years")
    assert f"**{top['extra_profit']:,.0f} of profit**" in text
    r = _cost(months=12, lost=531, at_risk=1970)
    assert nc.scenario_base(r) == "The scenarios project the 5,174 customers active at 2018-01-31."
    figs = analysis.scenario_figures(table, base_customers=1931, years=3)
    assert list(figs["scenarios"]) == ["baseline", "churn_minus_1_pts", "churn_minus_5_pts"]


def test_contractual_value_sentences():
    seg = pd.DataFrame({"customers": [100, 300], "clv": [700.0, 200.0], "tail_share": [0.03, 0.05]},
                       index=pd.Index(["premium", "basic"], name="plan"))
    residual = pd.DataFrame({"segment": ["basic"] * 9 + ["premium"], "tenure": 12.0,
                             "residual_clv": [100.0] * 9 + [1000.0]})
    v = analysis.ContractualValue("plan", None, "all", pd.DataFrame(), seg, residual, 0.30, 0.10)
    assert v.new_mean == pytest.approx(325.0)
    assert nc.new_customer_value(v) == (
        "A new customer is worth **325** of profit on average (margin 30%, discounted at 10% a "
        "year). By plan: premium 700 vs basic 200. The parametric tail contributes 3%-5% of the "
        "discounted lifetime: that part is an extrapolation beyond the observed tenures.")
    assert nc.customer_equity(v) == (
        "**Customer equity:** the 10 active customers are worth **1,900** of future profit "
        "(mean 190, median 100 per customer); the top 10% of customers hold 53% of it.")
    assert nc.retention_curve(v, data=None, value_col="x") == (
        "Retention curve by plan, from all exits in the data.")
    assert v.key_figures()["customer_equity"] == 1900.0


def test_sanity_checks_and_stage_figures_order():
    checks = analysis.sanity_checks()
    assert checks["ok"].all() and nc.sanity(checks) == "All 11 worked examples are reproduced exactly."
    data = SimpleNamespace(kind="contractual", observation_end=pd.Timestamp("2025-12-31"))
    cost = _cost(months=12, lost=531, at_risk=1970)
    figs = analysis.stage_figures(data, dataset="x", margin=0.3, discount_rate=0.1, sanity=checks,
                                  results=[None, cost, None], scenarios={"scenario_years": 3})
    assert list(figs) == ["dataset", "kind", "margin", "discount_rate", "observation_end", "sanity",
                          "annual_cost_of_churn", "annual_churn", "cost_of_churn", "scenario_years"]
    assert figs["sanity"]["churn_cost_lost_profit"] == 200_000


# ---------------------------------------------------------------------------------------
# Chinese (REPORT_LANG=zh): the same sentences in Chinese, money in 元
# ---------------------------------------------------------------------------------------
@pytest.fixture()
def zh():
    from churn_research import i18n
    i18n.set_language("zh")
    yield
    i18n.set_language("en")


def test_chinese_sentences_and_money(zh):
    r = _derl({"basic": [20.2, 25.6, 27.37, 27.32], "standard": [23.0, 27.6, 31.9, 39.5]})
    text = nc.derl(r)
    assert "基础版约从续约 24 次起趋于平稳" in text and "标准版则与 sBG 一样一直上升到续约 36 次" in text
    assert "levels" not in text
    cdnow = _data("non-contractual", ("customers", "transactions"))
    assert nc.derl(None, data=cdnow).startswith("本数据集无法提供：DERL，因为")
    figs = {"cost_of_churn.lost_profit": 122431.55, "cost_of_churn.annual_churn_rate": 0.27,
            "cost_of_churn.lost_customers": 520, "cost_of_churn.customers_active": 1931,
            "customer_equity": 964952.8, "clv_new_customer.mean": 352.85, "sanity.all_ok": True}
    out = nc.findings(figs, dataset="x", context={"kind": "contractual"})
    assert out.headline == ("流失每年造成的利润损失约为 122,432 元：按 27.0% 的年流失率，当前 1,931 位活跃"
                            "客户中每年约有 520 位会流失；活跃客户的未来利润价值合计 964,953 元。")
    assert any(k.text == "一位新客户平均带来利润 353 元。" for k in out.key_findings)
    assert out.checked_against == "教科书算例"


def test_chinese_worked_examples_are_in_yuan(zh):
    checks = analysis.sanity_checks()
    table = analysis.sanity_table(checks)
    assert list(table.columns) == ["检验项", "计算值", "期望值", "通过"]
    assert "每周 100 元 × 50 周 = 5,000 元" in table.iloc[0, 0]
    assert set(table["通过"]) == {"是"}
    assert nc.sanity(checks) == "全部 11 个算例均被精确复现。"


def test_headline_table_names_the_mean_value_by_its_model():
    """Review s7: the key-figures table showed the raw key "clv.mean", which is the residual value
    of the active customers on contractual data and the 3-year value of every customer on
    purchase logs."""
    from churn_research.i18n import set_language
    from churn_research.narrate import clv as nc

    flat = {"clv.mean": 22.53, "clv.definition": "3-year BG/NBD x Gamma-Gamma value",
            "customer_equity": 530939.71, "other": 1.0}
    table = nc.headline_figures(flat)
    assert list(table.index) == ["3-year BG/NBD x Gamma-Gamma value: mean per customer",
                                 "customer equity"]
    contractual = nc.headline_figures({"clv.mean": 522.9, "clv.definition":
                                       "residual lifetime value of active customers (survival curve)"})
    set_language("zh")
    try:
        zh = nc.headline_figures({"clv.mean": 522.9, "clv.definition":
                                  "residual lifetime value of active customers (survival curve)"})
    finally:
        set_language("en")
    assert list(contractual.index) == [
        "Residual lifetime value of active customers (survival curve): mean per customer"]
    assert list(zh.index) == ["活跃客户的剩余终身价值（基于留存曲线）：每位客户平均"]


def test_cost_of_churn_on_a_purchase_log_says_a_leaver_is_a_lapse():
    """Review s8 (cdnow): the yearly cost of churn counted every 180-day lapse as a leaver with no
    word that lapsed customers buy again; contractual data get no such caveat."""
    from churn_research.i18n import set_language

    figs = {"cost_of_churn.lost_profit": 141563.0, "cost_of_churn.annual_churn_rate": 0.561,
            "cost_of_churn.lost_customers": 3014, "cost_of_churn.customers_active": 5374,
            "money_at_risk.expected_loss": 74894.0, "money_at_risk.horizon_months": 12}
    log = nc.findings(figs, dataset="cdnow", context={"kind": "non-contractual", "inactivity_days": 180,
                                                       "currency": "USD"})
    [caveat] = [k.text for k in log.key_findings if k.text.startswith("A leaver here is a lapse")]
    assert caveat == ("A leaver here is a lapse: no purchase for 180 days. Some lapsed customers buy "
                      "again later (60_retention's win-back section measures how many come back "
                      "within 6 and 12 months), so the yearly cost of churn counts profit that partly "
                      "returns. The value lost to churn within 12 months uses the BG/NBD probability "
                      "of having stopped for good instead.")
    no_risk = nc.findings({**figs, "money_at_risk.expected_loss": None}, dataset="cdnow",
                          context={"kind": "non-contractual", "inactivity_days": 180})
    assert any(k.text.endswith("counts profit that partly returns.") for k in no_risk.key_findings)
    contract = nc.findings(figs, dataset="telco", context={"kind": "contractual"})
    assert not any("lapse" in k.text for k in contract.key_findings)
    set_language("zh")
    try:
        zh = nc.findings(figs, dataset="cdnow", context={"kind": "non-contractual", "inactivity_days": 180})
    finally:
        set_language("en")
    assert any(k.text.startswith("这里的流失是一次中断：连续 180 天没有购买。") and "《从预警名单到决策》" in k.text
               for k in zh.key_findings)
