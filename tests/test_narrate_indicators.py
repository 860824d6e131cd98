"""10_indicators' section sentences (narrate.indicators) and the rules and key figures behind
them (indicators.figures), on hand-built results: contractual, one snapshot (telco) and
non-contractual (cdnow) branches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research import indicators as ind
from churn_research.model import ChurnData
from churn_research.narrate import indicators as narrate
from churn_research.sources.synthetic import generate

D = pd.Timestamp


def _data(kind="contractual", snapshot=None, records_start=None, n=3):
    cust = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                         "start_date": pd.to_datetime(["2023-01-01"] * n),
                         "end_date": pd.to_datetime([None] * n)})
    return ChurnData(customers=cust, observation_end=D("2024-06-30"), kind=kind,
                     inactivity_days=90, snapshot=snapshot, records_start=records_start)


def _periods(rates, new, at_risk, partial=None):
    n = len(rates)
    return pd.DataFrame({"period": [f"2024-{m:02d}" for m in range(1, n + 1)],
                         "partial": partial or [False] * n, "churn_rate": rates,
                         "new": new, "at_risk": at_risk})


def _pooled(col, rows):
    return pd.DataFrame(rows, columns=[col, "rate", "ci_low", "ci_high"])


def test_not_available_is_one_line():
    assert narrate.not_available("X", "Y") == "Not available for this dataset: X, because Y."


def test_window_text_contractual_with_records_start():
    text = narrate.window_text(_data(records_start="2023-06-01"), dataset="synthetic",
                               window=(D("2023-06-01"), D("2024-06-30")), unit="quarter",
                               impact_unit="month")
    assert "**Dataset:** synthetic (contractual); 3 customers." in text
    assert "2023-06-01 to 2024-06-30; dashboard periods are quarters, change-impact periods are months" in text
    assert "Records start on 2023-06-01" in text
    assert "inferred" not in text and "snapshot" not in text


def test_window_text_snapshot_and_non_contractual():
    snap = narrate.window_text(_data(snapshot="2024-06-30"), dataset="telco",
                               window=(D("2024-06-01"), D("2024-06-30")), unit="month", impact_unit="month")
    assert "**one snapshot**" in snap
    cd = narrate.window_text(_data(kind="non-contractual"), dataset="cdnow",
                             window=(D("2023-01-01"), D("2024-04-01")), unit="quarter", impact_unit="month")
    assert "more than 90 days before the snapshot (2024-06-30)" in cd
    assert "the window ends on 2024-04-01" in cd
    # an explicit parameter wins over the data's own window
    assert "more than 30 days" in narrate.window_text(
        _data(kind="non-contractual"), dataset="cdnow", window=(D("2023-01-01"), D("2024-04-01")),
        unit="quarter", impact_unit="month", inactivity_days=30)


def test_trend_text_and_settled_acquisition():
    t = _periods([0.5, 0.4, 0.05, 0.04, 0.03], new=[100, 50, 5, 5, 1], at_risk=[0, 100, 200, 200, 200])
    contractual = narrate.trend_text(t, kind="contractual", unit="month")
    assert contractual == ("Churn per month moved from 50.00% (2024-01) to 3.00% (2024-05); shaded bands "
                           "are 95% Wilson intervals.")
    trend, inflated = ind.trend_periods(t, kind="non-contractual")
    assert list(trend["period"]) == ["2024-03", "2024-04", "2024-05"] and inflated == 0.5
    cd = narrate.trend_text(t, kind="non-contractual", unit="month", event_date=D("2024-03-01"))
    assert "before 2024-03 show inflated churn (up to 50%)" in cd
    assert "moved from 5.00% (2024-03) to 3.00% (2024-05)" in cd
    assert cd.endswith("the dotted line marks the business change.")


def test_trend_text_one_snapshot_period():
    t = _periods([0.265], new=[0], at_risk=[7043])
    assert not ind.has_trend(t)
    assert narrate.trend_text(t, kind="contractual", unit="month").startswith("Only one month can be measured")


def test_segment_sentence_overlap_and_clear_gap():
    clear = _pooled("plan", [("basic", 0.08, 0.07, 0.09), ("premium", 0.04, 0.03, 0.05)])
    assert narrate.segment_sentence(clear, "plan", unit="quarter") == (
        "By **plan**: highest churn in *basic* (8.00% per quarter, 95% CI 7.00%–9.00%), lowest in "
        "*premium* (4.00%, 3.00%–5.00%); the gap is clear.")
    # review s5, 4a: a raw column name in words, a yes/no level named with its column
    overlap = _pooled("senior_citizen", [(True, 0.08, 0.05, 0.11), (False, 0.07, 0.06, 0.08)])
    text = narrate.segment_sentence(overlap, "senior_citizen", unit="month")
    assert text == ("By **senior citizen**: highest churn in *senior citizen = yes* (8.00% per month, "
                    "95% CI 5.00%–11.00%), lowest in *senior citizen = no* (7.00%, 6.00%–8.00%); "
                    "their intervals overlap, so the difference is not clear.")
    assert narrate.segments_unavailable(["plan"]) == (
        "Not available for this dataset: churn by segment, because none of the segment columns in "
        "the parameters (`plan`) is in the customers table.")
    assert narrate.segments_unavailable([]) == (
        "Not available for this dataset: churn by segment, because no segment columns are set "
        "(parameter `segments`).")


def test_tenure_sentence_and_figures():
    pooled = _pooled("tenure_group", [("new", 0.10, 0.09, 0.11), ("existing", 0.05, 0.04, 0.06)]
                     ).set_index("tenure_group")
    text = narrate.tenure_sentence(pooled, unit="quarter")
    assert "New customers lost 10.00% per quarter (95% CI 9.00%–11.00%)" in text
    assert "new customers churn more and the intervals do not overlap." in text
    assert narrate.tenure_sentence(pooled, unit="quarter", new_tenure_months=12).startswith(
        "New customers (under 12 months) lost 10.00% per quarter (95% CI 9.00%–11.00%)")
    assert ind.tenure_figures(pooled, new_tenure_months=12) == {
        "churn_rate_new": 0.10, "churn_rate_existing": 0.05, "new_tenure_months": 12}
    only_existing = pooled.loc[["existing"]]
    assert narrate.tenure_sentence(only_existing, unit="month").startswith("Not available for this dataset")
    assert ind.tenure_figures(only_existing, new_tenure_months=12) == {}


def test_complaint_sentence_counts_the_customers_on_the_books_not_the_active_base():
    """review s5, 2d: synthetic 2025Q4, 218 complaints from 203 of the 2,110 customers on the books
    at some time in the quarter (at_risk + new), not "active customers" (1,930 at its end)."""
    import pandas as pd

    table = pd.DataFrame({"period": ["2025Q4"], "period_start": pd.to_datetime(["2025-10-01"]),
                          "partial": [False], "complaints": [218], "complainants": [203],
                          "active": [2110], "complaint_rate": [218 / 2110],
                          "share_complaining": [203 / 2110], "share_complaining_ci_low": [0.0843],
                          "share_complaining_ci_high": [0.1096]})
    assert narrate.complaint_sentence(table) == (
        "In 2025Q4 218 complaints came from 203 of the 2,110 customers on the books during that "
        "period: 0.103 complaints per customer on the books and 9.6% of them complaining (95% CI "
        "8.4%–11.0%).")


def test_experience_sentences_not_available():
    assert narrate.complaint_sentence(None) == (
        "Not available for this dataset: complaint rates, because the data have no tickets table.")
    assert narrate.repeat_sentence(None).startswith("Not available for this dataset: repeat purchases")
    assert narrate.revenue_sentence(None, unit="month").startswith("Not available")
    assert ind.complaint_figures(None) == {} and ind.revenue_figures(None) == {}
    assert ind.survey_measures(None) == [] and ind.satisfaction_figures(None) == {}


def test_revenue_sentence_with_recurring_view():
    rev = pd.DataFrame({"period": ["2024Q1", "2024Q2"], "period_start": [D("2024-01-01"), D("2024-04-01")],
                        "partial": [False, False], "grr": [0.9, 0.85], "nrr": [1.0, 0.95]})
    rec = rev.assign(grr=[0.95, 0.92], nrr=[0.97, 0.94])
    text = narrate.revenue_sentence(rev, rec, unit="quarter")
    assert text.startswith("In 2024Q2 GRR was **85.0%** and NRR **95.0%** of the previous quarter's")
    assert "GRR was 92.0% and NRR 94.0%" in text
    assert ind.revenue_figures(rev, rec) == {"grr": 0.85, "nrr": 0.95, "grr_recurring": 0.92,
                                             "nrr_recurring": 0.94}


def test_cohort_sentence():
    cohorts = pd.DataFrame({0: [1.0, 1.0], 6: [0.8, 0.7], 12: [0.6, np.nan]}, index=["2023-01", "2023-02"])
    text = narrate.cohort_sentence(cohorts, kind="non-contractual")
    assert "After 12 months between 60% and 60% of a cohort remained (median 60%)." in text
    assert text.endswith("bought again after their first day.")
    assert ind.cohort_figures(ind.cohort_retention_at(cohorts)) == {"cohort_retention_12m_median": 0.6}
    one = cohorts.iloc[:1]
    assert narrate.cohort_sentence(one, kind="contractual").startswith(
        "Not available for this dataset: cohort retention, because no cohort can be followed")


def test_targets_text_lists_decided_targets():
    tt = pd.DataFrame({"indicator": ["churn_rate", "csat"], "status": ["off track", "no data"],
                       "detail": ["above the path", ""], "actual": [0.0887, np.nan],
                       "period": ["2025Q4", None], "target": [0.0805, 3.9],
                       "by": [D("2025-12-31"), D("2026-06-30")], "change_needed": [-0.0082, np.nan]})
    text = narrate.targets_text(tt, unit="quarter")
    assert text.startswith("Targets refer to quarterly values.")
    assert ("- **churn rate**: off track (above the path); actual 8.87% in 2025Q4 vs target 8.05% by "
            "2025-12-31, change still needed -0.82%") in text
    assert "csat" not in text
    assert ind.target_figures(tt)["target.churn_rate.status"] == "off track"


def test_impact_readiness_and_skip_reasons():
    none = ind.ImpactReadiness(None)
    assert not none.ready
    assert narrate.impact_skip_reason(none, unit="month") == (
        "no business change is recorded (no events table) and no `event_date` parameter is set")
    short = ind.ImpactReadiness(D("2024-07-01"), n_before=5, n_after=18)
    assert not short.ready
    assert narrate.impact_skip_reason(short, unit="month") == (
        "only 5 complete months before and 18 after the change on 2024-07-01; at least 6 and 2 are needed")
    assert ind.ImpactReadiness(D("2024-07-01"), n_before=6, n_after=2).ready
    assert narrate.impact_unavailable(none, unit="month").startswith(
        "Not available for this dataset: the change-impact analysis (before/after, interrupted time "
        "series, control chart), because no business change is recorded")
    verdict = narrate.verdict_text(short, unit="month")
    assert verdict.startswith("**No change-impact verdict:** only 5 complete months before")
    assert ind.verdict_figures(verdict, ready=False) == {}
    skipped = ind.impact_skipped_figures("why")
    assert skipped["impact_skipped"] == "why" and skipped["control_chart.flagged_periods"] == []
    assert ind.impact_figures() == {}


def test_impact_readiness_on_data_without_a_change():
    assert ind.impact_readiness(_data(), freq="M", event_date=None).event_date is None


def test_did_sentence():
    assert narrate.did_sentence(None, None).startswith("No segment is known to have been spared")
    did = {"ratio": 1.5, "ratio_ci_low": 1.2, "ratio_ci_high": 1.9, "pretrend_p_value": 0.41}
    seg = {"column": "region", "treated": ["north"], "control": ["south"]}
    assert narrate.did_sentence(did, seg) == (
        "Difference in differences (['north'] exposed vs ['south'] not): ratio 1.50 (95% CI 1.20–1.90), "
        "parallel pre-trends check p = 0.41.")


@pytest.mark.slow
def test_impact_sentences_on_synthetic_data():
    data = generate(n_customers=3000, random_state=1)
    change = ind.impact_readiness(data, freq="M", event_date=None)
    assert change.ready
    its = ind.impact.InterruptedTimeSeries().fit(change.table, event_date=change.event_date)
    truth = ind.synthetic_truth(data)
    text = narrate.its_sentence(its, unit="month", truth=truth)
    assert "Binomial GLM with a cloglog link" in text and "*Check against the synthetic truth:*" in text
    assert narrate.its_sentence(its, unit="month", truth=None).count("\n\n") == 0
    figs = ind.impact_figures(its=its, truth=truth)
    assert figs["its.true_level_change"] == truth["log_hr"]


def test_a_rising_satisfaction_trend_names_survivor_selection():
    """Issue 13 (10): the dissatisfied leave, so a rising CSAT of those still answering is stated
    with its survivor-selection caveat; a flat one is not."""
    from churn_research.narrate.indicators import survey_sentence

    table = pd.DataFrame({
        "period": ["2024Q1", "2024Q2", "2024Q3"], "partial": [False, False, False],
        "period_start": pd.to_datetime(["2024-01-01", "2024-04-01", "2024-07-01"]),
        "period_end": pd.to_datetime(["2024-03-31", "2024-06-30", "2024-09-30"]),
        "csat": [3.50, 3.70, 3.90], "csat_ci_low": [3.40, 3.60, 3.80],
        "csat_ci_high": [3.60, 3.80, 4.00], "csat_responses": [300, 300, 300],
        "share_satisfied": [0.50, 0.55, 0.60]})
    text = survey_sentence(table, "csat", satisfied_min=4)
    assert text.startswith("In 2024Q3 mean CSAT was **3.90** (95% CI 3.80–4.00, 300 answers)")
    assert "CSAT rose from 3.50 in 2024Q1. Part of such a rise can be survivor selection" in text
    flat = table.assign(csat=[3.50, 3.52, 3.55])
    assert "survivor" not in survey_sentence(flat, "csat", satisfied_min=4)


# --- Chinese reports (REPORT_LANG=zh) ------------------------------------------------------------

@pytest.fixture()
def zh():
    from churn_research import i18n

    i18n.set_language("zh")
    yield
    i18n.set_language("en")


def test_period_names_and_tenure_levels_read_in_chinese(zh):
    from churn_research.i18n import label

    assert [label(ind.FREQ_NAMES[c]) for c in "MQHY"] == ["月", "季度", "半年", "年"]
    assert [label(v) for v in ind.TENURE_LABELS] == ["新客户", "老客户"]
    assert {v: label(v) for v in ind.TENURE_LABELS} == ind.TENURE_LABELS_ZH
    # the key figures keep the English names (other stages and machines read them)
    assert ind.header_figures(dataset="d", unit=ind.FREQ_NAMES["Q"], denominator="exposed",
                              window=(D("2024-01-01"), D("2024-06-30")))["freq"] == "quarter"


def test_window_and_tenure_sentences_in_chinese(zh):
    text = narrate.window_text(_data(records_start="2023-06-01"), dataset="synthetic",
                               window=(D("2023-06-01"), D("2024-06-30")), unit="quarter",
                               impact_unit="month")
    assert "**数据集：** synthetic（合同制）；共 3 位客户。" in text
    assert "看板按季度统计，业务变更影响分析按月统计" in text
    assert "Dataset" not in text and "quarter" not in text
    pooled = _pooled("tenure_group", [("new", 0.10, 0.09, 0.11), ("existing", 0.05, 0.04, 0.06)]
                     ).set_index("tenure_group")
    tenure = narrate.tenure_sentence(pooled, unit="quarter")
    assert tenure.startswith("新客户每季度流失 10.00%（95% 置信区间 9.00%–11.00%），老客户为 5.00%")
    assert "新客户流失更多，且两者的置信区间不重叠。" in tenure
    # review s5: "new" means different tenures in different stages; the sentence names its cut-off
    named = narrate.tenure_sentence(pooled, unit="quarter", new_tenure_months=12)
    assert named.startswith("新客户（在网不足 12 个月）每季度流失 10.00%（95% 置信区间")
    assert narrate.tenure_title(12, unit="month") == "每月流失率：新客户（在网不足 12 个月）与老客户"


def test_segment_and_target_lines_in_chinese(zh):
    clear = _pooled("plan", [("basic", 0.08, 0.07, 0.09), ("premium", 0.04, 0.03, 0.05)])
    assert narrate.segment_sentence(clear, "plan", unit="quarter") == (
        "按**套餐**：*基础版* 流失最高（每季度 8.00%，95% 置信区间 7.00%–9.00%），*高级版* 最低"
        "（4.00%，3.00%–5.00%）；差距明确。")
    assert narrate.segments_unavailable([]).startswith("本数据集无法提供：按细分群体的流失率")
    assert narrate.surveys_unavailable() == narrate.SURVEYS_UNAVAILABLE
    assert narrate.TARGETS_UNAVAILABLE.startswith("本数据集无法提供：目标达成进度")


def test_findings_in_chinese_link_to_the_chinese_headings(zh):
    import nbformat

    figures = {"freq": "quarter", "latest_period": "2025Q4", "churn_rate": 0.089,
               "churn_rate_ci_low": 0.077, "churn_rate_ci_high": 0.102,
               "mean_churn_rate_per_period": 0.074, "window_start": "2021-01-01",
               "window_end": "2025-12-31", "its.level_ratio": 1.56, "its.level_ratio_ci_low": 1.32,
               "its.level_ratio_ci_high": 1.84, "its.event_date": "2024-07-01",
               "its.event_period": "2024-07", "before_after.rate_before": 0.0239,
               "before_after.rate_after": 0.0304, "before_after.p_value": 0.0001,
               "churn_rate_new": 0.094, "churn_rate_existing": 0.064,
               "control_chart.latest_signal": "none", "control_chart.latest_period": "2025-12",
               "target.churn_rate.status": "on track", "target.nps.status": "off track"}
    found = narrate.findings(figures, dataset="synthetic", context={"kind": "contractual"})
    assert found.headline.startswith("2024-07-01 业务变更之后流失上升")
    texts = [f.text for f in found.key_findings]
    assert "合并计算的每月流失率在变化前为 2.39%，变化后为 3.04%（p < 0.001）；这一简单对比未考虑任何趋势。" in texts
    assert "目标：流失率：目前按计划推进；净推荐值：目前偏离计划。" in texts
    nb = nbformat.read(narrate.__file__.replace("src/churn_research/narrate/indicators.py",
                                                "notebooks/10_indicators.ipynb"), as_version=4)
    headings = "\n".join(c.source for c in nb.cells if "lang-zh" in c.metadata.get("tags", []))
    for f in found.key_findings:
        assert f.section in headings, f.section
    assert found.unavailable == [
        "本数据集无法提供：投诉率、满意度（CSAT）和推荐率（净推荐值），以及投诉处理（服务时限内解决的占比、"
        "投诉已解决与未解决客户的后续流失），因为数据中没有工单或满意度调查。"]


def test_missing_verdict_reads_in_chinese(zh):
    short = ind.ImpactReadiness(D("2024-07-01"), n_before=5, n_after=18)
    assert narrate.verdict_text(short, unit="month") == (
        "**没有业务变更影响结论：** 2024-07-01 的变化之前只有 5 个完整的月、之后只有 18 个；至少分别需要 6 个"
        "和 2 个。上面的指标描述了观察窗口内的流失情况；早期预警控制图需要一个有日期的变化（或选定的基线）"
        "作为比较对象。")


def test_events_views_say_how_windows_are_cut_and_what_is_missing():
    none = narrate.events_views(None, unit="month")
    assert none == ["Not available for this dataset: before/after and interrupted time series for "
                    "every business event, because no business change is recorded (no events table)."]
    data = generate(1500, random_state=0)
    data.events = pd.concat([data.events, pd.DataFrame({"date": [pd.Timestamp("2023-01-01")],
                                                        "name": ["price_rise"]})])
    res = ind.events_impact(data, freq="M", seasonality="auto")
    assert res.table["event"].tolist() == ["price_rise", "rename_and_new_owner"]
    views = narrate.events_views(res, unit="month")
    assert views[0].startswith("**Every business event** (2 recorded or chosen by the parameter `events`)")
    assert "its \"after\" months end before the next one" in views[0]
    shown = views[1].data
    assert shown["Window"].tolist() == ["2021-01 – 2024-06", "2023-01 – 2025-12"]
    assert shown["Months before / after"].tolist() == ["24 / 18", "18 / 18"]
    assert views[2] == "Churn jumped clearly at: rename and new owner; dropped clearly at: none."
    assert views[3].data["Measure"].tolist()[:3] == ["Mean satisfaction (CSAT, 1–5)", "NPS",
                                                   "Share of customers on the books complaining"]
    only = ind.events_impact(data, freq="M", events=["rename_and_new_owner"])
    assert len(only.table) == 1 and only.table.loc[0, "periods_before"] == 42
