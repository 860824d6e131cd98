"""Reviewer's report defects (rvB): one number for one quantity, readable targets, no Chinese
in English reports, formatted p-values, readable names."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd

from churn_research.indicators import target_table
from churn_research.narrate import definitions
from churn_research.narrate import indicators as ni
from churn_research.narrate import survival as ns
from churn_research.runner.findings_html import in_language

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_summary_table_gives_the_widened_pooled_interval_of_the_report():
    figs = {"10_indicators": {"before_after.ratio": 1.18535, "before_after.ratio_ci_low": 1.10148,
                              "before_after.ratio_ci_high": 1.27561,
                              "before_after.ratio_ci_adjusted_low": 1.07067,
                              "before_after.ratio_ci_adjusted_high": 1.31231}}
    rows = {r.name: r.value for r in definitions.change_definitions(figs)}
    assert rows["Pooled before/after ratio"] == "1.19 (95% CI 1.07–1.31)"


def _growth_series() -> pd.DataFrame:
    periods = pd.period_range("2024Q4", "2025Q4", freq="Q")
    return pd.DataFrame({"period": [str(p) for p in periods],
                         "period_end": [p.end_time.normalize() for p in periods],
                         "partial": False,
                         "growth_rate": [-0.02, -0.015, -0.01, -0.008, -0.005667]})


def test_growth_on_track_below_its_target_says_so_first():
    table = target_table(_growth_series(), {"growth_rate": {"value": 0.0, "by": "2026-06-30"}})
    r = table.iloc[0]
    assert (r["status"], r["rule"], r["baseline_period"]) == ("on track", "ahead", "2024Q4")
    # straight path from -2% (2024-12-31) to 0% (2026-06-30), at 2025-12-31: -2% * 181/546
    assert abs(r["expected_now"] - (-0.02 * 181 / 546)) < 1e-12
    assert ni.target_detail(next(table.itertuples())) == (
        "below the +0.00% target, but ahead of the straight path from the 2024Q4 baseline (the path "
        "expects -0.66% by now)")
    figures = {"growth.net_adds": -11, "growth.period": "2025Q4", "growth.joins": 169,
               "growth.losses": 180, "growth.returns": 0, "growth.growth_rate": -0.005667,
               "target.growth_rate.target": 0.0, "target.growth_rate.status": "on track",
               "target.growth_rate.rule": "ahead", "target.growth_rate.expected_now": r["expected_now"],
               "target.growth_rate.baseline_period": "2024Q4"}
    [finding] = ni._growth_finding(figures, unit="quarter")
    assert finding.text == ("Growth: net adds -11 in 2025Q4 (169 joined, 180 lost), a growth rate of "
                            "-0.57% per quarter: below the +0.00% target, but ahead of the straight "
                            "path from the 2024Q4 baseline (the path expects -0.66% by now), so on "
                            "track.")
    with in_language("zh"):
        zh = ni._growth_finding(figures, unit="quarter")[0].text
    assert "低于目标 +0.00%" in zh and "（按该路径，此时应为 -0.66%）" in zh


def test_target_table_shows_percentages_and_words():
    series = pd.DataFrame({"period": ["2024Q4", "2025Q4"],
                           "period_end": pd.to_datetime(["2024-12-31", "2025-12-31"]),
                           "partial": False, "churn_rate": [0.0848, 0.08531],
                           "churn_rate_ci_low": [0.07, 0.07413], "churn_rate_ci_high": [0.1, 0.09799]})
    table = target_table(series, {"churn_rate": {"value": 0.07635, "by": "2025-12-31"}})
    text = ni.targets_text(table, unit="quarter")
    assert "- **churn rate**: not distinguishable" in text
    assert ("not distinguishable from target (the target (7.63%) lies inside the 95% interval of "
            "the actual value (7.41%–9.80%)); actual 8.53% in 2025Q4 vs target 7.63% by 2025-12-31, "
            "change still needed -0.90%") in text
    view = ni.targets_view(table).data
    assert list(view.columns) == ["indicator", "baseline period", "baseline", "target", "deadline",
                                  "period", "actual", "straight path now", "change still needed",
                                  "change needed (relative to actual)", "status", "why"]
    assert view.iloc[0]["change still needed"] == "-0.90%" and view.iloc[0]["indicator"] == "churn rate"
    growth = target_table(_growth_series(), {"growth_rate": {"value": 0.0, "by": "2026-06-30"}})
    assert ni.targets_view(growth).data.iloc[0][["baseline", "target", "actual"]].tolist() == [
        "-2.00%", "+0.00%", "-0.57%"]
    assert not any("_" in c for c in view.columns)


def test_english_sentences_carry_no_chinese_terms():
    pooled = pd.DataFrame({"rate": [0.0955, 0.0653], "ci_low": [0.0906, 0.0624],
                           "ci_high": [0.1007, 0.0682]}, index=pd.Index(["new", "existing"], name="tenure_group"))
    en = ni.tenure_sentence(pooled, unit="quarter")
    assert en.startswith("New customers lost 9.55% per quarter (95% CI 9.06%–10.07%), existing ones "
                         "6.53% (6.24%–6.82%)") and not CJK.search(en)
    with in_language("zh"):
        assert "新客户" in ni.tenure_sentence(pooled, unit="quarter")


def test_survival_tables_and_names_read_as_words():
    hr = pd.DataFrame({"coef": [0.3646, -0.2], "hr": [1.44, 0.82], "lower": [1.33, 0.7],
                       "upper": [1.56, 0.95], "p": [3.6e-18, 0.01]},
                      index=pd.Index(["price_rise", "campaign_contact"], name="covariate"))
    shown = ns.show(hr, terms=True)
    assert list(shown.columns) == ["coefficient", "hazard ratio", "lower 95% limit", "upper 95% limit",
                                   "p-value"]
    assert list(shown.index) == ["price rise", "campaign contact"]
    assert shown.iloc[0, 1] == 1.44                       # numbers stay numbers in English
    assert ns.readable_name("rename_and_new_owner") == "rename and new owner"
    assert ns.readable_name("customer_type[business]") == "customer type[business]"
    assert ns.readable_name("price_rise @ [0, 12)") == "price rise @ [0, 12)"
    change = SimpleNamespace(exposure="after_change", name="rename_and_new_owner",
                             date=pd.Timestamp("2024-07-01"), hazard_ratios=hr.rename(
                                 index={"price_rise": "after_change"}),
                             episodes=pd.DataFrame({"customer_id": [1, 1, 2]}), events=pd.DataFrame(),
                             complaint_window_days=90)
    text = ns.change_text(change)
    assert text.startswith("**rename and new owner** (2024-07-01): 2 customers in 3 episodes.")
    assert "(95% CI 1.33–1.56, p < 0.001)" in text


def test_english_driver_and_segment_columns_read_as_words():
    ph = pd.DataFrame({"source": ["price_rise", "contract"], "p_rank": [0.139, 0.711]},
                      index=pd.Index(["price_rise", "contract[annual]"], name="covariate"))
    shown = ns.show(ph, terms=True)
    assert shown["driver"].tolist() == ["price rise", "contract"]
    assert list(shown.index) == ["price rise", "contract[annual]"]
    assert shown["p-value (rank time)"].tolist() == [0.139, 0.711]
