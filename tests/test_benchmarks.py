"""The benchmark harness (benchmarks/): fast checks only, no timing assertions."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import TARGETS, _util, cli, project, render, steps  # noqa: E402

REQUIRED_KEYS = ("pipeline_vs_floor_ratio", "noop_make_s", "scaling", "bgnbd_speedup_vs_lifetimes",
                 "cox_overhead_ratio")


# ---------------------------------------------------------------------------------------
# growth exponents and extrapolation
# ---------------------------------------------------------------------------------------
def test_growth_exponent_recovers_power_law():
    sizes = [1e4, 1e5, 1e6]
    fit = _util.growth_exponent(sizes, [2e-6 * n ** 1.3 for n in sizes])
    assert fit["exponent"] == pytest.approx(1.3, abs=1e-12)
    assert fit["exponent_top"] == pytest.approx(1.3, abs=1e-12)
    assert fit["coefficient"] == pytest.approx(2e-6, rel=1e-9)
    assert fit["r2"] == pytest.approx(1.0)
    assert fit["sizes"] == [10_000, 100_000, 1_000_000]


def test_growth_exponent_fixed_cost_flattens_small_sizes_only():
    sizes = [1e3, 1e4, 1e5, 1e6]
    times = [0.5 + 1e-6 * n for n in sizes]  # 0.5 s fixed cost + linear work
    fit = _util.growth_exponent(sizes, times)
    assert fit["exponent"] < fit["exponent_top"] < 1.0
    assert fit["exponent_top"] == pytest.approx(math.log(1.5 / 0.6) / math.log(10), rel=1e-12)


def test_growth_exponent_needs_two_positive_points():
    assert _util.growth_exponent([1e4], [1.0])["exponent"] is None
    assert _util.growth_exponent([1e4, 1e5], [1.0, None])["exponent"] is None
    assert _util.growth_exponent([1e4, 1e5], [0.0, 1.0])["exponent"] is None


def test_predict_extrapolates_with_at_least_linear_growth():
    recs = [{"step": "s", "status": "ok", "n_customers": 10_000, "seconds": 1.0},
            {"step": "s", "status": "ok", "n_customers": 100_000, "seconds": 100.0}]
    assert cli._predict(recs, "s", 1_000_000) == pytest.approx(10_000.0)  # exponent 2
    sub = [{"step": "s", "status": "ok", "n_customers": 10_000, "seconds": 2.0},
           {"step": "s", "status": "ok", "n_customers": 100_000, "seconds": 4.0}]
    assert cli._predict(sub, "s", 1_000_000) == pytest.approx(40.0)  # floored at linear
    assert cli._predict(recs, "other", 1_000_000) is None


# ---------------------------------------------------------------------------------------
# results: flat keys and targets
# ---------------------------------------------------------------------------------------
def test_targets_met_not_met_and_missing():
    flat = {"pipeline_vs_floor_ratio": 1.2, "noop_make_s": 2.0, "bgnbd_speedup_vs_lifetimes": 7.0}
    rows = {r["key"]: r for r in cli.evaluate_targets(flat)}
    assert set(rows) == set(TARGETS)
    assert rows["pipeline_vs_floor_ratio"]["met"] is True
    assert rows["noop_make_s"]["met"] is False  # strictly under 2 s
    assert rows["bgnbd_speedup_vs_lifetimes"]["met"] is True
    assert rows["cox_overhead_ratio"]["met"] is None


def test_flat_figures_take_slowest_bgnbd_case_and_1e6_records():
    results = {
        "overhead": {"ratio": 1.5, "noop_s": 0.1},
        "head_to_head": {"bgnbd": {"datasets": [
            {"dataset": "a", "status": "ok", "speedup": 6.0, "param_max_abs_diff": 1e-6},
            {"dataset": "b", "status": "ok", "speedup": 12.0, "param_max_abs_diff": 3e-6}]},
            "cox": {"status": "ok", "ratio": 1.05}},
        "scaling": [{"step": "churn_table", "n_customers": 1_000_000, "status": "ok",
                     "seconds": 3.0, "peak_mb": 900.0},
                    {"step": "bgnbd_fit", "n_customers": 1_000_000, "status": "timeout"}],
    }
    flat = cli.flat_figures(results)
    assert flat["bgnbd_speedup_vs_lifetimes"] == 6.0
    assert flat["bgnbd_param_max_abs_diff"] == 3e-6
    assert flat["churn_table_1e6_s"] == 3.0 and flat["churn_table_1e6_peak_mb"] == 900.0
    assert flat["bgnbd_fit_1e6_s"] is None
    assert flat["cox_overhead_ratio"] == 1.05 and flat["pipeline_vs_floor_ratio"] == 1.5


def test_pipeline_figures_flatten_each_size_and_stage():
    recs = [{"step": "pipeline", "n_customers": 1_000_000, "status": "ok", "seconds": 230.0,
             "peak_mb": 2500.0, "stage_seconds": {"00_data": 60.0, "20_causes": 40.5},
             "stage_peak_mb": {"00_data": 2900.0, "20_causes": 1800.0}},
            {"step": "pipeline", "n_customers": 10_000_000, "status": "timeout", "seconds": 9.0}]
    flat = cli.pipeline_figures(recs)
    assert flat == {"pipeline_1e6_s": 230.0, "pipeline_1e6_peak_mb": 2900.0,
                    "pipeline_1e6_00_data_s": 60.0, "pipeline_1e6_20_causes_s": 40.5,
                    "pipeline_1e6_00_data_peak_mb": 2900.0, "pipeline_1e6_20_causes_peak_mb": 1800.0}
    assert cli.flat_figures({"scaling": recs})["pipeline_1e6_peak_mb"] == 2900.0


def test_stage_peak_memory_is_this_process_or_its_children():
    import resource

    from churn_research.runner.pipeline import peak_rss_mb

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert peak_rss_mb() >= round(own, 1) > 10.0


def test_engine_figures_are_pandas_over_engine_time_and_the_largest_parity_gap():
    recs = [{"step": "churn_table", "n_customers": 100_000, "status": "ok", "seconds": 2.0},
            {"step": "engine_churn_table", "n_customers": 100_000, "status": "ok",
             "seconds": 0.5, "parity_max_abs_diff": 0.0},
            {"step": "btyd_summary", "n_customers": 100_000, "status": "ok", "seconds": 3.0},
            {"step": "engine_btyd_summary", "n_customers": 100_000, "status": "ok",
             "seconds": 1.5, "parity_max_abs_diff": 2e-14},
            {"step": "engine_churn_table", "n_customers": 1_000_000, "status": "timeout"}]
    flat = cli.flat_figures({"scaling": recs})
    assert flat["engine_speedup_churn_table_1e5"] == 4.0
    assert flat["engine_speedup_btyd_summary_1e5"] == 2.0
    assert flat["engine_speedup_churn_table_1e6"] is None
    assert flat["engine_parity_max_abs_diff"] == 2e-14
    assert flat["spark_parity_max_abs_diff"] is None  # not run
    assert cli._size_key(250_000) == "250000"


def test_spark_parity_is_the_largest_gap_of_the_spark_step_runs_that_finished():
    recs = [{"step": "spark_parity", "n_customers": 10_000, "status": "ok", "seconds": 7.0,
             "parity_max_abs_diff": 3e-15},
            {"step": "spark_parity", "n_customers": 1_000, "status": "ok", "seconds": 5.0,
             "parity_max_abs_diff": 0.0},
            {"step": "spark_parity", "n_customers": 100_000, "status": "skipped"},
            {"step": "engine_churn_table", "n_customers": 10_000, "status": "ok", "seconds": 0.5,
             "parity_max_abs_diff": 1e-13}]
    flat = cli.flat_figures({"scaling": recs})
    assert flat["spark_parity_max_abs_diff"] == 3e-15
    assert flat["engine_parity_max_abs_diff"] == 1e-13
    assert "engine_speedup_parity_1e4" not in flat
    assert [t["met"] for t in cli.evaluate_targets(flat)
            if t["key"] == "spark_parity_max_abs_diff"] == [True]


def test_unfinished_1e6_steps_count_against_their_targets():
    recs = [{"step": "pipeline", "n_customers": 1_000_000, "status": "timeout",
             "reason": "exceeded the 900 s limit"},
            {"step": "bgnbd_fit", "n_customers": 1_000_000, "status": "skipped", "predicted_s": 2.0},
            {"step": "churn_table", "n_customers": 1_000_000, "status": "not available yet",
             "reason": "churn_research.indicators does not exist yet"}]
    rows = {r["key"]: r for r in cli.evaluate_targets({}, cli.scaling_notes(recs))}
    assert rows["pipeline_1e6_s"]["met"] is False and "time-out" in rows["pipeline_1e6_s"]["note"]
    assert rows["bgnbd_fit_1e6_s"]["met"] is None  # predicted within target: unknown, not failed
    assert rows["churn_table_1e6_s"]["met"] is None and "not available" in rows["churn_table_1e6_s"]["note"]


def test_merge_replaces_only_remeasured_scaling_records():
    old = {"scaling": [{"step": "a", "n_customers": 1, "status": "ok", "seconds": 1.0},
                       {"step": "b", "n_customers": 1, "status": "ok", "seconds": 2.0}]}
    new = [{"step": "b", "n_customers": 1, "status": "ok", "seconds": 3.0}]
    out = cli.assemble({"scaling": new}, args_dict={}, previous=old, started=0.0)
    assert sorted((r["step"], r["seconds"]) for r in out["scaling"]) == [("a", 1.0), ("b", 3.0)]


def test_merge_keeps_parts_not_rerun():
    previous = {"overhead": {"ratio": 1.4, "noop_s": 0.2}, "scaling": [], "foo": 1}
    out = cli.assemble({"scaling": []}, args_dict={}, previous=previous, started=0.0)
    assert out["pipeline_vs_floor_ratio"] == 1.4 and out["foo"] == 1
    assert all(k in out for k in REQUIRED_KEYS)


@pytest.mark.slow
def test_render_all_sections(tmp_path):
    scaling = [{"step": s, "label": s, "n_customers": n, "status": "ok", "seconds": 1e-5 * n,
                "repeats": 3, "peak_mb": 100 + n / 1e3, "baseline_mb": 90.0}
               for s in ("generate", "churn_table") for n in (10_000, 100_000)]
    scaling.append({"step": "rfm", "label": "RFM", "n_customers": 10_000,
                    "status": "not available yet", "reason": "churn_research.segments.rfm does not exist yet"})
    results = cli.assemble({
        "overhead": {"status": "ok", "ratio": 1.5, "real_s": 30.0, "floor_s": 20.0, "noop_s": 0.05,
                     "real_runs": [30.0], "floor_runs": [20.0], "noop_runs": [0.05], "pair_ratios": [1.5],
                     "real_stage_seconds": {"00_data": 12.0}, "floor_stage_seconds": {"00_data": 8.0},
                     "stages": ["00_data"], "command": "make -j1 reports", "noop_nothing_to_do": True},
        "scaling": scaling,
        "head_to_head": {"bgnbd": {"status": "ok", "repeat": 3, "rounds": 2, "calibration_end": "1997-09-30",
                                   "datasets": [{"dataset": "cdnow_sample", "status": "ok", "customers": 2357,
                                                 "ours_s": 0.01, "lifetimes_s": 0.1, "speedup": 10.0,
                                                 "param_max_abs_diff": 1e-6,
                                                 "ours_params": dict(r=.24, alpha=4.4, a=.79, b=2.4),
                                                 "lifetimes_params": dict(r=.24, alpha=4.4, a=.79, b=2.4)}]},
                         "cox": {"status": "ok", "ratio": 1.2, "wrapper_s": 1.2, "lifelines_s": 1.0,
                                 "n_customers": 1000, "events": 500, "coefficients": 9,
                                 "covariates": ["plan"], "design_s": 0.1, "concordance_s": 0.1,
                                 "coef_max_abs_diff": 0.0}},
    }, args_dict={}, previous=None, started=0.0)
    page = render.render(results, tmp_path / "index.html").read_text()
    assert page.count("<img") == 4  # overhead, time scaling, memory scaling, head-to-head
    assert "not available yet" in page and "Growth exponents" in page
    assert results["growth_exponents"]["generate"]["exponent"] == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------
# steps and project copies
# ---------------------------------------------------------------------------------------
def test_missing_module_or_function_is_not_available_yet():
    ok, reason = steps.check_available([("churn_research.no_such_stage", "f")])
    assert not ok and "does not exist yet" in reason
    ok, reason = steps.check_available([("churn_research.runner", "no_such_function")])
    assert not ok and "no_such_function does not exist yet" in reason
    assert steps.check_available([("churn_research.runner", "save_key_figures")]) == (True, None)


def test_trivial_notebook_keeps_parameters_and_nothing_else():
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('dataset = "synthetic"\noutput_json = "x.json"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Real"), params,
                nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1])")]
    out = project.trivial_notebook(nb)
    code = [c for c in out.cells if c.cell_type == "code"]
    assert code[0].metadata["tags"] == ["parameters"] and code[0].source == params.source
    assert len(code) == 2 and "matplotlib" not in code[1].source and "churn_research" not in code[1].source
    assert "output_json" in code[1].source


def test_make_env_isolates_the_copy():
    env = project.make_env(Path("/tmp/copy"), base={"MAKEFLAGS": "-j8", "MAKELEVEL": "1",
                                                    "DATASETS": "telco", "PATH": "/bin"})
    assert env["PYTHONPATH"] == "/tmp/copy/src" and env["PATH"] == "/bin"
    assert not {"MAKEFLAGS", "MAKELEVEL", "DATASETS"} & set(env)


def test_project_files_exclude_generated_and_environment():
    files = project.project_files(ROOT)
    assert "Makefile" in files and "src/churn_research/runner/pipeline.py" in files
    assert not [f for f in files if f.startswith((".venv", "reports/", "data/processed/", "build/"))]


# ---------------------------------------------------------------------------------------
# the command line, end to end on one cheap step
# ---------------------------------------------------------------------------------------
@pytest.mark.subprocess
def test_cli_dry_run_writes_results_schema_and_page(tmp_path):
    out = tmp_path / "bench"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "scaling", "--sizes", "300,600",
         "--steps", "generate,bgnbd_fit", "--repeat", "1", "--out", str(out),
         "--cache", str(tmp_path / "cache")],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    for key in REQUIRED_KEYS:
        assert key in results
    assert results["pipeline_vs_floor_ratio"] is None  # not run: null, not missing
    recs = results["scaling"]
    assert {(r["step"], r["n_customers"]) for r in recs} == {
        ("generate", 300), ("generate", 600), ("bgnbd_fit", 300), ("bgnbd_fit", 600)}
    for r in recs:
        assert r["status"] == "ok", r
        assert r["seconds"] > 0 and r["peak_mb"] > 0 and r["repeats"] == 1
    assert results["growth_exponents"]["generate"]["sizes"] == [300, 600]
    assert {t["key"] for t in results["targets"]} == set(TARGETS)
    page = (out / "index.html").read_text()
    assert "Time per step vs number of customers" not in page or "<img" in page
    assert page.count("<img") >= 2
    assert not (tmp_path / "cache").exists()  # the data cache is removed after the run


def test_chunked_base_figures_give_both_paths_time_peak_and_ratios():
    recs = [{"step": "generate_chunked", "n_customers": 1_000_000, "status": "ok",
             "seconds": 90.0, "peak_mb": 700.0},
            {"step": "chunked_features", "n_customers": 1_000_000, "status": "ok", "seconds": 60.0,
             "peak_mb": 6000.0},
            {"step": "engine_chunked_features", "n_customers": 1_000_000, "status": "ok",
             "seconds": 15.0, "peak_mb": 1500.0, "parity_max_abs_diff": 1e-12},
            {"step": "chunked_btyd_summary", "n_customers": 10_000_000, "status": "skipped"},
            {"step": "engine_chunked_btyd_summary", "n_customers": 10_000_000, "status": "ok",
             "seconds": 200.0, "peak_mb": 3000.0}]
    flat = cli.flat_figures({"scaling": recs})
    assert flat["generate_chunked_1e6_s"] == 90.0 and flat["generate_chunked_1e6_peak_mb"] == 700.0
    assert flat["engine_speedup_chunked_features_1e6"] == 4.0
    assert flat["engine_peak_ratio_chunked_features_1e6"] == 4.0
    assert flat["chunked_features_1e6_s"] == 60.0 and flat["chunked_features_1e6_peak_mb"] == 6000.0
    assert flat["engine_chunked_features_1e6_s"] == 15.0
    assert flat["engine_chunked_btyd_summary_1e7_s"] == 200.0
    assert flat["chunked_btyd_summary_1e7_s"] is None  # the pandas path is not run at 10^7
    assert "engine_speedup_chunked_btyd_summary_1e7" not in flat
    assert flat["engine_parity_max_abs_diff"] == 1e-12
