"""Findings built in the package from key figures, and how they reach the reports and the index."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from churn_research import narrate
from churn_research.narrate import definitions
from churn_research.narrate import format as fmt
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.runner.findings_html import decorate_report, render_summary

CHANGE = {"freq": "quarter", "latest_period": "2025Q4", "churn_rate": 0.0887,
          "churn_rate_ci_low": 0.0773, "churn_rate_ci_high": 0.1016,
          "mean_churn_rate_per_period": 0.0737, "window_start": "2021-01-01",
          "window_end": "2025-12-31", "its.level_ratio": 1.557, "its.level_ratio_ci_low": 1.3196,
          "its.level_ratio_ci_high": 1.8377, "its.event_date": "2024-07-01",
          "its.event_period": "2024-07", "its.excess_churned": 405.2,
          "its.excess_churned_ci_low": 284.0, "its.excess_churned_ci_high": 526.4,
          "before_after.rate_before": 0.02387, "before_after.rate_after": 0.03042,
          "before_after.p_value": 5e-11, "churn_rate_new": 0.094, "churn_rate_existing": 0.064,
          "control_chart.latest_signal": "none", "control_chart.latest_period": "2025-12",
          "target.churn_rate.status": "off track", "complaint_rate": 0.1, "csat": 3.8}
SNAPSHOT = {"freq": "month", "latest_period": "2018-01", "churn_rate": 0.2654,
            "churn_rate_ci_low": 0.2552, "churn_rate_ci_high": 0.2758,
            "mean_churn_rate_per_period": 0.2654, "churn_rate_new": 0.47, "churn_rate_existing": 0.17}


def _words(found: StageFindings) -> str:
    return " ".join([found.headline, *(f.text for f in found.key_findings), *found.unavailable])


def test_formatters():
    assert fmt.pct(0.1234) == "12.3%" and fmt.pct(None) == fmt.MISSING
    assert fmt.pct_ci(0.0887, 0.0773, 0.1016) == "8.9% (95% CI 7.7–10.2%)"
    assert fmt.ratio_ci(1.557, 1.3196, 1.8377) == "1.56 (95% CI 1.32–1.84)"
    assert fmt.pvalue(5e-11) == "p < 0.001" and fmt.pvalue(0.0123) == "p = 0.012"
    assert fmt.money(124904.27) == "124,904" and fmt.money(22.526) == "22.53"
    assert fmt.money(1234567, "元") == "1,234,567 元"
    # a money interval: the unit once, after its high end, in every report (review s8)
    assert fmt.money_ends(103825.4, 121335.2, "元") == {"low": "103,825", "high": "121,335 元"}
    assert fmt.money_ends(12.6, 101.2, "USD") == {"low": "13", "high": "101 USD"}
    assert fmt.money_ends(12.5, 20.25) == {"low": "12.50", "high": "20.25"}
    assert fmt.money_ci(112352, 103825.4, 121335.2, "USD") == "112,352 USD (95% CI 103,825–121,335 USD)"
    assert fmt.count(530.9999999) == "531" and fmt.plural(1, "row") == "1 row"
    assert fmt.get({"a": float("nan"), "b": "-"}, "a", 0) == 0 and fmt.get({"b": "-"}, "b") is None


def test_indicators_headline_is_the_change_effect_with_its_interval():
    found = narrate.build("10_indicators", CHANGE, dataset="synthetic", context={})
    assert found.headline.startswith("Churn rose after the business change on 2024-07-01: "
                                     "1.56 (95% CI 1.32–1.84) times")
    assert "about 405 extra customers lost (95% CI 284–526)" in found.headline
    assert any("per month was 2.39% before and 3.04% after" in f.text for f in found.key_findings)
    assert not found.unavailable and 3 <= len(found.key_findings) <= 6


def test_no_clear_change_when_the_interval_covers_one():
    figs = {**CHANGE, "its.level_ratio": 1.05, "its.level_ratio_ci_low": 0.9,
            "its.level_ratio_ci_high": 1.2}
    found = narrate.build("10_indicators", figs, dataset="x", context={})
    assert found.headline.startswith("No clear change in churn after the business change")


def test_snapshot_churn_is_named_for_what_it_is():
    found = narrate.build("10_indicators", SNAPSHOT, dataset="telco",
                          context={"snapshot": "2018-01-31"})
    assert "left in its last month (2018-01)" in found.headline and "not the business's monthly" in found.headline
    assert any("change-impact analysis" in u for u in found.unavailable)
    assert any("tickets or surveys" in u for u in found.unavailable)


def test_purchase_log_headline_states_the_lapse_episodes():
    figs = {"freq": "month", "latest_period": "1997-12", "churn_rate": 0.1978,
            "churn_rate_ci_low": 0.1846, "churn_rate_ci_high": 0.2117,
            "mean_churn_rate_per_period": 0.1672, "mean_churn_rate_first_period": "1997-04",
            "mean_churn_rate_last_period": "1997-12", "window_start": "1997-01-01",
            "window_end": "1997-12-31", "lapses": "episodes", "returned": 523}
    found = narrate.build("10_indicators", figs, dataset="cdnow",
                          context={"kind": "non-contractual", "inactivity_days": 180})
    assert found.headline.startswith("Churn was 19.8% (95% CI 18.5–21.2%) in the latest complete "
                                     "month (1997-12), against 16.7% per month on average from "
                                     "1997-04 to 1997-12 (after the months of heavy acquisition).")
    assert ("every gap of more than 180 days without a purchase is a lapse, counted in the month of "
            "the purchase before it") in found.headline
    assert "the window ends on 1997-12-31" in found.headline and "ageing" not in found.headline


def test_causes_names_association_and_skips_collinear_or_null_terms():
    figs = {"driver_model.ratio": "hazard ratio",
            "driver_model.complaint_90d.ratio": 2.34, "driver_model.complaint_90d.ci_low": 2.14,
            "driver_model.complaint_90d.ci_high": 2.55, "driver_model.complaint_90d.p_value": 1e-40,
            "driver_model.region[east].ratio": 1.07, "driver_model.region[east].ci_low": 0.9,
            "driver_model.region[east].ci_high": 1.2, "driver_model.region[east].p_value": 1e-50,
            "reasons.top1": "price", "reasons.top1_share": 0.2532}
    found = narrate.build("20_causes", figs, dataset="synthetic", context={})
    assert found.headline == ("The most common exit reason is price, given by 25.3% of "
                              "churners.")
    text = found.key_findings[0].text
    assert "a complaint in the last 90 days, hazard ratio 2.34 (95% CI 2.14–2.55)" in text
    assert "not proof of cause" in text
    no_reasons = narrate.build("20_causes", {k: v for k, v in figs.items() if not k.startswith("reasons")},
                               dataset="telco", context={})
    assert no_reasons.headline.startswith("The strongest association")
    assert any("no reason for leaving" in u for u in no_reasons.unavailable)


def test_survival_median_wording_by_case():
    base = {"km_survival.12": 0.843, "km_survival_lower.12": 0.834, "km_survival_upper.12": 0.852,
            "time_unit": "months"}
    telco = narrate.build("30_survival", {**base, "km_median_label": "not reached"},
                          dataset="telco", context={})
    assert telco.headline.startswith("84.3% (95% CI 83.4–85.2%) of customers are still customers 12 months")
    assert "median lifetime is not reached" in _words(telco)
    cdnow = narrate.build("30_survival", {"km_survival.3": 0.383, "km_median": 0.0,
                                          "km_median_label": "0.0", "time_unit": "months"},
                          dataset="cdnow", context={"kind": "non-contractual"})
    assert "3 months" in cdnow.headline and "never bought again" in _words(cdnow)


def test_survival_findings_quote_the_concordance_of_the_model_the_report_reads():
    base = {"km_survival.12": 0.843, "km_survival_lower.12": 0.834, "km_survival_upper.12": 0.852,
            "time_unit": "months", "cox_concordance": 0.857}
    plain = _words(narrate.build("30_survival", {**base, "ph_violations": []}, dataset="telco", context={}))
    assert "The Cox model ranks who leaves first with concordance 0.86 (0.5 = chance)." in plain
    # proportional hazards fails: the report reads the stratified model, so the findings quote it,
    # not the unstratified model that 30_survival shows for reference only
    strat = {**base, "ph_violations": ["contract[Two year]"], "ph_remedy_strata": ["contract"],
             "cox_stratified_concordance": 0.712}
    words = _words(narrate.build("30_survival", strat, dataset="telco", context={}))
    assert ("The stratified Cox model, the one this report reads, ranks who leaves first with "
            "concordance 0.71 (0.5 = chance). It ranks on its other terms alone: the strata have no "
            "hazard ratio, so their differences are not in this ranking (with them, the "
            "unstratified model reaches 0.86).") in words
    # the unstratified figure appears only as that explanation, never as the headline
    assert words.count("0.86") == 1
    same = _words(narrate.build("30_survival", {**strat, "cox_stratified_concordance": 0.549,
                                                 "cox_concordance": 0.553}, dataset="cdnow", context={}))
    assert "concordance 0.55 (0.5 = chance; barely better than chance)." in same
    assert "It ranks on its other terms alone" not in same  # not when both read 0.55


def test_clv_money_carries_the_currency_and_snapshot_caveat():
    figs = {"cost_of_churn.lost_profit": 435988.26, "cost_of_churn.annual_churn_rate": 0.2658,
            "annual_churn.method": "survival curve",
            "cost_of_churn.lost_customers": 1869.0, "customer_equity": 3567460.58,
            "clv.mean": 689.5, "clv.median": 700.9,
            "clv.definition": "residual lifetime value of active customers (survival curve)"}
    found = narrate.build("50_clv", figs, dataset="telco",
                          context={"currency": "元", "snapshot": "2018-01-31", "kind": "contractual"})
    assert found.headline.startswith("Churn costs about 435,988 元 of profit a year: at 26.6% annual "
                                     "churn, about 1,869 of the customers active now would leave")
    assert "3,567,461 元" in found.headline
    assert "indicative" in found.key_findings[0].text
    # review s7: the cost of churn carries the annual churn's interval
    ci = {**figs, "cost_of_churn.lost_profit_ci_low": 401000.4, "cost_of_churn.lost_profit_ci_high":
          471500.6, "annual_churn.ci_low": 0.2445, "annual_churn.ci_high": 0.2876}
    found = narrate.build("50_clv", ci, dataset="telco", context={"currency": "USD", "kind": "contractual"})
    assert found.headline.startswith(
        "Churn costs about 435,988 USD (95% CI 401,000–471,501 USD, from the annual churn rate's "
        "interval alone) of profit a year: at 26.6% "
        "(95% CI 24.4–28.8%) annual churn, about 1,869 of the customers active now would leave")
    from churn_research.runner.findings_html import in_language

    # two yearly money figures on one page: the 12-month value lost says how it differs
    risk = {**ci, "money_at_risk.expected_loss": 480744.3, "money_at_risk.ci_low": 464146.5,
            "money_at_risk.ci_high": 497342.2, "money_at_risk.customers": 5174}
    line = [k.text for k in narrate.build("50_clv", risk, dataset="telco", context={}).key_findings
            if k.text.startswith("If nothing changes")][0]
    assert line.endswith("It counts each leaver's whole future profit; the yearly cost of churn "
                         "above counts one year of profit per leaver.")
    with in_language("zh"):
        zh = narrate.build("50_clv", ci, dataset="telco", context={"kind": "contractual"})
    assert zh.headline.startswith("流失每年造成的利润损失约为 435,988 元（95% 置信区间 401,000–471,501 元，"
                                  "仅反映年流失率的不确定性）："
                                  "按 26.6%（95% 置信区间 24.4–28.8%）的年流失率")


@pytest.mark.parametrize("stage", list(narrate.BUILDERS))
def test_every_builder_survives_empty_figures(stage):
    found = narrate.build(stage, {}, dataset="x", context={})
    assert found.headline and not re.search(r"\b(nan|None)\b", _words(found))


def test_findings_box_opens_the_report_and_links_sections(tmp_path):
    page = ("<html><head><title>Notebook</title></head><body><main><h1 id='t'>Indicators</h1>"
            "<p>intro</p><h2 id=\"How-many?\">How many customers do we lose, per period?</h2>"
            "<img src='data:image/png;base64,AAA'></main></body></html>")
    found = StageFindings("10_indicators", "synthetic", "Churn rose.",
                          [Finding("Latest churn 8.9%.", "How many customers do we lose")],
                          ["Not available for this dataset: x, because y."], "the truth")
    out = decorate_report(page, dataset="synthetic", stage="10_indicators", found=found)
    assert "<title>Indicators and change impact — synthetic</title>" in out
    assert out.index("cr-findings'") > out.index("</h1>") and out.index("cr-findings'") < out.index("<p>intro")
    assert "href='#How-many?'" in out and "Not available for this dataset: x" in out
    assert 'alt="Figure: How many customers do we lose, per period?"' in out
    ds = tmp_path / "synthetic"
    ds.mkdir()
    (ds / "10_indicators.html").write_text(out)
    found.write(ds / "10_indicators.findings.json")
    summary = render_summary(tmp_path, "synthetic").read_text()
    assert "How many customers do we lose, and is it getting worse?" in summary
    assert "Churn rose." in summary and "10_indicators.html#How-many?" in summary
    assert StageFindings.read(ds / "10_indicators.findings.json") == found
    assert json.loads((ds / "10_indicators.findings.json").read_text())["headline"] == "Churn rose."


def test_tables_read_cleanly():
    import numpy as np
    import pandas as pd

    from churn_research.narrate.tables import _styler_html, readable

    df = pd.DataFrame({"partial": [False, True], "at_risk": [1920.0, 1945.0],
                       "churn_rate": [0.0599, np.nan], "p_value": [1e-5, 0.2],
                       "revenue": [1234567.8, 2.5], "note": [None, "x"],
                       "when": pd.to_datetime(["2024-01-01", None]),
                       "n": pd.array([1, None], dtype="Int64")})
    out = readable(df)
    assert out["partial"].tolist() == ["no", "yes"] and out["at_risk"].tolist() == ["1,920", "1,945"]
    assert out.loc[1, "churn_rate"] == "–" and out.loc[0, "p_value"] == "< 0.001"
    assert out.loc[0, "revenue"] == "1,234,568" and out.loc[1, "note"] == "x"
    # p-value columns by their translated headers too (review s7: "0.000" under "adjusted p-value")
    shown = readable(pd.DataFrame({"adjusted p-value": [5e-10, 0.0123], "p 值（秩时间）": [1e-4, 0.5],
                                   "校正后 p 值": [2e-7, 0.04], "group": [3.0, 4.0]}))
    assert shown["adjusted p-value"].tolist() == ["< 0.001", "0.012"]
    assert shown["p 值（秩时间）"].tolist() == ["< 0.001", "0.500"]
    assert shown["校正后 p 值"].tolist() == ["< 0.001", "0.040"] and shown["group"].tolist() == ["3", "4"]
    assert out.loc[0, "when"] == "2024-01-01" and out.loc[1, "when"] == "–" and out.loc[1, "n"] == "–"
    html = readable(df)._repr_html_()
    assert not re.search(r">\s*(NaN|None|&lt;NA&gt;|NaT|True|False)\s*<", html)
    styled = _styler_html(df[["partial", "churn_rate"]].style.format({"churn_rate": "{:.1%}"},
                                                                    na_rep="–"))
    assert ">yes<" in styled and ">6.0%<" in styled and "True" not in styled
    assert df["partial"].tolist() == [False, True]   # the input is not changed


def test_reviewer_findings_watchlist_money_claims_and_truth():
    """Findings say what a number is: the watchlist carries no second money figure (60_retention
    gives the money at risk), a claim found in the opposite direction is contradicted, and a
    driver whose interval misses the generator's truth says so."""
    seg = narrate.build("40_segments", {"design": "prospective", "cv_auc": 0.73, "cv_auc_ci_low": 0.69,
                                        "cv_auc_ci_high": 0.77, "baseline_cv_auc": 0.58,
                                        "horizon_days": 90, "watchlist.size": 100,
                                        "watchlist.mean_risk": 0.23,
                                        "watchlist.value_at_risk": 20903.9,
                                        "watchlist.annual_value": 95142.1},
                        dataset="synthetic", context={})
    # one money-at-risk figure across the reports: 60_retention's, not a second one here
    assert not any("20,904" in f.text or "95,142" in f.text for f in seg.key_findings)
    claims = [{"claim": "age", "supported": False, "effect": 1.77, "p_value": 1e-40},
              {"claim": "gender", "supported": False, "effect": 0.97, "p_value": 0.47},
              {"claim": "tenure", "supported": True, "effect": 0.36, "p_value": 1e-100}]
    causes = narrate.build("20_causes", {"claims": claims, "driver_model.ratio": "odds ratio",
                                         "driver_model.complaint_90d.ratio": 2.3,
                                         "driver_model.complaint_90d.ci_low": 2.1,
                                         "driver_model.complaint_90d.ci_high": 2.5,
                                         "driver_model.complaint_90d.p_value": 1e-9,
                                         "truth_check.not_covered": ["complaint_90d"]},
                           dataset="synthetic", context={})
    words = _words(causes)
    assert "Contradicted: older customers churn less (the group churns 1.77× as much)" in words
    assert "Not shown: men churn less than women" in words and "without adjustment" in words
    assert "misses the generator's true effect" in causes.headline


def test_data_section_sentences():
    import pandas as pd

    from churn_research.narrate import data as say

    # review s5, 3: synthetic has six tables (campaigns too), not "five"
    assert say.tables_text([], ["customers", "transactions", "tickets", "surveys", "events",
                                "campaigns"]) == ("All 6 tables are present: customers, transactions, "
                                                  "tickets, surveys, events, campaigns.")
    assert say.tables_text(["tickets", "events"]).startswith(
        "Not available for this dataset: the tickets, events table(s), because the source has none")
    flows = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                          "active_at_month_end": [1200.0, 1100.0]})
    assert say.flows_text(flows, "X.") == ("The base peaked at 1,200 active customers in January "
                                           "2024 and stood at 1,100 at the observation end. X.")
    assert say.caveat_text(None) == "" and say.caveat_text("n") == "*Caveat:* n"
    assert say.personal_text({"customers": ["name", "phone"]}).endswith("customers: name, phone.")
    tenure = pd.Series([1.0, 3.0, 10.0, 20.0])
    churned = pd.Series([True, True, False, False])
    assert "2.0 months for churned customers and 15.0 months" in say.tenure_text(tenure, churned)


def test_definitions_put_every_churn_figure_and_change_estimate_side_by_side():
    """Issue 13, definitions layer: the reader sees what each 'churn' and each change estimate
    measures, so 27% a year and 35.5% in the first year do not read as a contradiction."""
    from churn_research.narrate import definitions

    figs = {"10_indicators": {**CHANGE, "churn_rate_overall": 0.6138, "churn_rate_overall_ci_low": 0.6002,
                              "churn_rate_overall_ci_high": 0.6272, "cohort_retention_12m_median": 0.658,
                              "before_after.ratio": 1.2745, "before_after.ratio_ci_low": 1.185,
                              "before_after.ratio_ci_high": 1.370, "its.true_level_change": 0.405465},
            "30_survival": {"km_survival.12": 0.6447, "km_survival_lower.12": 0.6277,
                            "km_survival_upper.12": 0.6611, "change_hr": 1.416, "change_hr_lower": 1.313,
                            "change_hr_upper": 1.527},
            "50_clv": {"annual_churn.rate": 0.2695, "annual_churn.ci_low": 0.2504,
                       "annual_churn.ci_high": 0.2896, "annual_churn.method": "window",
                       "annual_churn.months": 12, "annual_churn.at_risk": 1970,
                       "annual_churn.window_start": "2024-12-31", "annual_churn.window_end": "2025-12-31",
                       "annual_churn.window_rate": 0.2695},
            "40_segments": {"churn_rate_in_horizon": 0.0801, "horizon_days": 90, "design": "prospective"}}
    rows = {r.name: r for r in definitions.churn_definitions(figs)}
    assert rows["First-year churn of a new customer, 1 − S(12)"].value == "35.5% (95% CI 33.9–37.2%)"
    assert rows["Annual churn of the customer base"].value == "27.0% (95% CI 25.0–29.0%)"
    assert rows["Annual churn of the customer base"].measures.startswith(
        "of the 1,970 customers on the books on 2024-12-31, the share who left by 2025-12-31;")
    assert rows["First-year churn of a typical monthly cohort"].value == "34.2%"
    change = {r.name: r for r in definitions.change_definitions(figs)}
    assert change["Interrupted time series: level change"].value == "1.56 (95% CI 1.32–1.84)"
    assert change["Cox model: time-varying exposure to the change"].value == "1.42 (95% CI 1.31–1.53)"
    assert change["The generator's true effect"].value == "1.50"
    assert definitions.change_definitions({"10_indicators": SNAPSHOT}) == []
    telco = definitions.churn_definitions({"50_clv": {"annual_churn.rate": 0.0811,
                                                      "annual_churn.method": "survival curve",
                                                      "annual_churn.active": 5174}})
    assert "Kaplan–Meier" in telco[0].measures and "indicative" in telco[0].measures
    assert "annualised" not in telco[0].measures


def test_tables_show_full_text_and_no_meaningless_row_numbers():
    from churn_research.narrate.tables import _html
    long = "customers lost in the window / customers ever at risk in it; grows with the window's length"
    page = _html(pd.DataFrame({"figure": ["Share lost"], "what it counts": [long]}))
    assert long.replace("'", "&#39;") in page or long in page
    assert "<th>0</th>" not in page and "..." not in page
    named = _html(pd.DataFrame({"rate": [0.5]}, index=pd.Index(["a"], name="group")))
    assert "group" in named


def test_data_definitions_state_the_rules_for_each_kind_of_data():
    from churn_research.annual import annual_churn
    from churn_research.sources import load
    from churn_research.sources.synthetic import generate
    telco, synthetic = load("telco"), generate(1500, random_state=3)
    table = definitions.data_definitions(telco, annual_churn(telco, n_boot=20).flat_figures())
    rows = table.set_index("figure")
    assert rows.loc["Churn (the event)", "value"] == "1,869 customers (26.5%)"
    assert "churn flag" in rows.loc["Churn (the event)", "what it counts, for these data"]
    assert rows.loc["Active customers (the base)", "value"] == "5,174"
    assert "Kaplan–Meier" in rows.loc["Annual churn of the customer base", "what it counts, for these data"]
    rows = definitions.data_definitions(synthetic, annual_churn(synthetic).flat_figures()).set_index("figure")
    assert rows.loc["Churn (the event)", "what it counts, for these data"].startswith("an end date")
    assert "95% CI" in rows.loc["Annual churn of the customer base", "value"]
    assert not table.isna().any().any()


def test_summary_actions_follow_from_the_figures_of_each_kind_of_data():
    from churn_research.narrate import actions
    synthetic = {"00_data": {"kind": "contractual"},
                 "10_indicators": {"its.level_ratio": 1.557, "its.level_ratio_ci_low": 1.3196,
                                   "its.level_ratio_ci_high": 1.8377, "annual_churn.rate": 0.2695},
                 "30_survival": {"km_survival.12": 0.6447},
                 "20_causes": {"reasons.top1": "price", "reasons.top1_share": 0.2532},
                 "40_segments": {"watchlist.size": 100, "design": "prospective"},
                 "50_clv": {"clv.mean": 499.7, "scenarios.churn_minus_5_pts.extra_profit": 78230.3,
                            "scenario_years": 3, "annual_churn.rate": 0.2695}}
    say = {s: actions.action(s, synthetic, currency="元") for s in actions.ACTIONS}
    assert say["10_indicators"].startswith("The business change raised churn to 1.56 "
                                           "(95% CI 1.32–1.84) times the level the pre-change")
    assert "35.5% leave within their first year, against 27.0% of the whole base" in say["30_survival"]
    assert "price (25.3% of the reasons given)" in say["20_causes"]
    assert say["40_segments"].startswith("Contact the 100 customers") and "snapshot" not in say["40_segments"]
    assert "500 元 of future profit" in say["50_clv"] and "78,230 元 over 3 years" in say["50_clv"]
    # a snapshot: no trend to track, a descriptive score; without reasons, a control group
    telco = {"00_data": {"kind": "contractual"},
             "10_indicators": {"annual_churn.method": "survival curve", "annual_churn.rate": 0.081},
             "30_survival": {"km_survival.12": 0.95}, "20_causes": {"design": "snapshot"},
             "40_segments": {"watchlist.size": 100, "design": "cross-sectional"}}
    assert "export the same table again" in actions.action("10_indicators", telco)
    assert "Risk does not fall with tenure" in actions.action("30_survival", telco)
    assert "control group" in actions.action("20_causes", telco)
    assert "check it against the next export" in actions.action("40_segments", telco)
    assert actions.action("50_clv", telco) is None
    cdnow = {"00_data": {"kind": "non-contractual"}, "10_indicators": {"annual_churn.rate": 0.56}}
    assert "early-warning signals" in actions.action("10_indicators", cdnow)
    assert actions.action("30_survival", cdnow) is None


def test_snapshot_definitions_name_the_churn_flag_for_what_it_is():
    """Issue 13 (4): telco's 26.5% is the share who left in the snapshot month, not churn per month."""
    ind = {"freq": "month", "latest_period": "2018-01", "churn_rate": 0.2654,
           "churn_rate_ci_low": 0.2552, "churn_rate_ci_high": 0.2758, "churn_rate_overall": 0.2654,
           "annual_churn.method": "survival curve", "annual_churn.rate": 0.0811,
           "annual_churn.active": 5174}
    rows = definitions.churn_definitions({"10_indicators": ind})
    names = [r.name for r in rows]
    assert names[0] == "Share who left in the snapshot's last month (2018-01)"
    assert not any(n.startswith(("Churn per", "Share lost over the window")) for n in names)
    assert "not a monthly churn rate" in rows[0].measures


def test_snapshot_new_vs_existing_is_a_share_of_the_snapshot_month():
    figs = {"freq": "month", "churn_rate": 0.2654, "churn_rate_new": 0.4744,
            "churn_rate_existing": 0.1713, "latest_period": "2018-01"}
    found = narrate.build("10_indicators", figs, dataset="telco",
                          context={"snapshot": "2018-01-31", "kind": "contractual"})
    texts = [k.text for k in found.key_findings]
    assert "47.4% of the new customers in the snapshot left in its last month, against 17.1% of existing customers." in texts
    assert not any("per month, existing" in t for t in texts)
    named = narrate.build("10_indicators", {**figs, "new_tenure_months": 12}, dataset="telco",
                          context={"snapshot": "2018-01-31", "kind": "contractual"})
    assert ("47.4% of the new customers (under 12 months) in the snapshot left in its last month, "
            "against 17.1% of existing customers. This is the share who left in that one month, not "
            "in their first year: 30_survival's first-year retention spreads the same exits over "
            "every customer who reached each tenure.") in [k.text for k in named.key_findings]
    dated = narrate.build("10_indicators", {**figs, "new_tenure_months": 12}, dataset="synthetic",
                          context={"kind": "contractual"})
    assert any(k.text.startswith("New customers (under 12 months) churn 47.4% per")
               for k in dated.key_findings)


def test_data_findings_and_definitions_read_in_chinese():
    """Issue 14: with the language zh, 00_data's findings, sentences and the definitions read in
    Chinese with the seed terminology; numbers read as in English."""
    from churn_research import i18n
    from churn_research.narrate import data as say

    figs = {"n_customers": 5000, "n_churned": 3069, "churned_share": 0.6138, "kind": "contractual",
            "observation_end": "2025-12-31", "rows.customers": 5000, "rows.events": 1,
            "personal_columns_dropped": 3}
    i18n.set_language("zh")
    try:
        found = narrate.build("00_data", figs, dataset="synthetic",
                              context={"records_start": "2021-01-01"})
        assert found.headline == ("共 5,000 位客户（合同制数据，观察截至 2025-12-31）；其中 3,069 位"
                                  "（61.4%）在此之前已流失。")
        assert found.key_findings[0].text == "数据表：客户（5,000 行）、事件（1 行）。"
        assert found.key_findings[0].section == "各数据表包含什么"
        assert found.key_findings[-1].text == "在保存任何数据之前，已删除 3 个可能包含个人数据的列。"
        assert found.unavailable == ["本数据集无法提供：交易、工单、调查数据表，因为数据源中没有这些表；"
                                     "各阶段会跳过需要它们的分析。"]
        assert say.tables_text([]) == "数据表齐全。"
        assert say.tables_text([], ["customers", "campaigns"]) == "2 张数据表齐全：客户、营销活动。"
        flows = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                              "active_at_month_end": [1200.0, 1100.0]})
        assert say.flows_text(flows, "X。") == ("客户群在 2024年1月达到峰值，共 1,200 位活跃客户；"
                                               "到观察截止日为 1,100 位。X。")
        assert say.personal_text({"customers": ["name", "phone"]}).endswith("客户：姓名、电话。")
        annual = {"annual_churn.rate": 0.2695, "annual_churn.ci_low": 0.2504,
                  "annual_churn.ci_high": 0.2896, "annual_churn.method": "window",
                  "annual_churn.months": 12, "annual_churn.at_risk": 1970,
                  "annual_churn.window_start": "2024-12-31", "annual_churn.window_end": "2025-12-31"}
        assert definitions.annual_churn(annual) == (
            "客户群年流失率：**27.0%（95% 置信区间 25.0–29.0%）**。口径：2024-12-31 在册的 1,970 位"
            "客户中，到 2025-12-31 已流失的比例。")
        rows = {r.name: r for r in definitions.churn_definitions({"50_clv": annual})}
        assert "客户群年流失率" in rows
        assert "流失率" in definitions.CHURN_NOTE and "置信区间" in definitions.CHANGE_NOTE
    finally:
        i18n.set_language("en")
    assert definitions.CHURN_NOTE.startswith("These answer different questions")


def test_the_summary_sends_readers_to_the_state_aware_watchlist_when_60_retention_ran():
    """40_segments' playbook offers 'move to an annual plan' to customers already on one;
    60_retention's does not: the summary's call list is 60_retention's when it exists."""
    from churn_research.narrate.actions import _who

    seg = {"40_segments": {"watchlist.size": 100, "design": "prospective"}}
    assert _who(seg, "") == ("Contact the 100 customers of the watchlist (watchlist.csv), highest "
                             "risk × value first, with the action the playbook gives each.")
    both = {**seg, "60_retention": {"action_counts.high value": 37}}
    assert _who(both, "").startswith("Contact the 100 customers of the retention watchlist "
                                     "(retention_watchlist.csv of 60_retention)")


def test_indicators_findings_name_complaints_growth_and_each_event():
    figs = {**CHANGE, "events.count": 3,
            "events.1.event": "price_rise", "events.1.date": "2024-07-01", "events.1.rate_before": 0.0249,
            "events.1.rate_after": 0.0295, "events.1.ratio": 1.185, "events.1.ratio_ci_low": 1.071,
            "events.1.ratio_ci_high": 1.312, "events.1.csat_before": 3.684, "events.1.csat_after": 3.784,
            "events.1.csat_p_value": 8e-6, "events.1.complaint_share_before": 0.0386,
            "events.1.complaint_share_after": 0.0360, "events.1.complaint_share_p_value": 0.033,
            "events.2.event": "new_app", "events.2.date": "2025-03-01", "events.2.rate_before": 0.03,
            "events.2.rate_after": 0.02, "events.2.ratio": 0.667, "events.3.event": "x",
            "events.3.date": "2025-06-01", "events.3.rate_before": 0.02, "events.3.rate_after": 0.02,
            "complaints.available": True, "complaints.resolution_available": True,
            "complaints.risk_ratio": 2.007, "complaints.risk_ratio_ci_low": 1.670,
            "complaints.risk_ratio_ci_high": 2.412, "complaints.unresolved_rate": 0.3229,
            "complaints.resolved_rate": 0.1609, "complaints.within_days": 90,
            "complaints.within_target_rate": 0.5644, "complaints.service_target_days": 7.0,
            "growth.net_adds": -11, "growth.period": "2025Q4", "growth.joins": 169,
            "growth.losses": 180, "growth.returns": 0, "growth.growth_rate": -0.00567,
            "target.growth_rate.target": 0.0, "target.growth_rate.status": "on track"}
    found = narrate.build("10_indicators", figs, dataset="synthetic", context={})
    texts = [f.text for f in found.key_findings]
    assert ("Before vs after price rise (2024-07-01): churn per month 2.49% → 2.95%, ratio 1.19 "
            "(95% CI 1.07–1.31); mean CSAT 3.68 → 3.78 (p < 0.001); complaint share 3.86% → 3.60% "
            "(p = 0.033).") in texts
    # two events get a line each, the third is pointed to; the pooled line gives way to them
    assert texts[2] == ("Before vs after new app (2025-03-01): churn per month 3.00% → 2.00%, "
                        "ratio 0.67. 1 more event: see the section.")
    assert not any("Pooled churn" in x for x in texts)
    assert ("Complaints: 32.3% of the customers whose complaint was never resolved left within 90 "
            "days, against 16.1% after a resolved one: a risk ratio of 2.01 (95% CI 1.67–2.41); "
            "56.4% of complaints were resolved within the 7-day service target.") in texts
    assert ("Growth: net adds -11 in 2025Q4 (169 joined, 180 lost), a growth rate of -0.57% per "
            "quarter against a target of +0.00%: on track.") in texts
    # the growth target is said in the growth line, not again among the targets
    assert "Targets: churn rate off track." in texts
    assert len(texts) == 8 and not found.unavailable


def test_indicators_findings_say_once_what_a_snapshot_and_no_tickets_cannot_support():
    found = narrate.build("10_indicators", SNAPSHOT, dataset="telco",
                          context={"snapshot": "2018-01-31"})
    assert found.unavailable[1] == (
        "Not available for this dataset: complaint, satisfaction (CSAT) and recommendation (NPS) "
        "rates, complaint handling (resolution within the service target, churn after resolved vs "
        "unresolved complaints), because the data have no tickets or surveys.")
    assert found.unavailable[2] == ("Not available for this dataset: customer growth, acquisition "
                                    "and net adds per period, because the data are one snapshot, "
                                    "not a series of periods.")
    assert not any(f.text.startswith(("Growth", "Complaints")) for f in found.key_findings)


def test_highest_churn_profile_names_its_own_base_rate():
    """Review s7: "1.7 times the base churn rate" beside an annual churn of 24.8% read as 42%;
    the profile's base is its own outcome (31.5%), so the finding says both rates."""
    figs = {"profiles.top_rule": "contract = monthly & age ≤ 26", "profiles.top_lift": 1.7496,
            "profiles.base_rate": 0.31535, "profiles.top_support": 0.0403}
    words = _words(narrate.build("20_causes", figs, dataset="synthetic", context={}))
    assert ("Highest-churn profile: contract = monthly & age ≤ 26 — 55.2% churned, 1.7 times the "
            "31.5% of all customers in the profile analysis, covering 4.0% of customers.") in words
