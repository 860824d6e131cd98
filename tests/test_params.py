"""Params files checked against their schema (issue 19, part 3), make's unknown DATASET (part 6),
and an index that never shows a stale or interrupted stage as ok (part 7)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from churn_research.runner import MissingParamsError, ParamsError, check, render_index
from churn_research.runner.params import Problem, stage_parameters
from churn_research.runner.report import stale_reasons
from churn_research.sources import load, loader_options

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("00_data", "10_indicators", "20_causes", "30_survival", "40_segments", "50_clv")


@pytest.fixture
def project(tmp_path) -> Path:
    """A throw-away project root: the real notebooks, an empty params folder, data/raw/shop/."""
    root = tmp_path / "proj"
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    (root / "params").mkdir()
    (root / "data" / "raw" / "shop").mkdir(parents=True)
    return root


def _params(project: Path, text: str, name: str = "shop") -> str:
    (project / "params" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return name


def _error(project: Path, text: str, stage: str = "00_data") -> ParamsError:
    name = _params(project, text)
    with pytest.raises(ParamsError) as err:
        stage_parameters(name, stage, root=project)
    return err.value


# ----------------------------------------------------------------------------------------
# part 3: one test per probe class
# ----------------------------------------------------------------------------------------
def test_misspelt_source_is_an_error_not_the_synthetic_data(project):
    err = _error(project, "sorce: data/raw/shop\n")
    assert err.file == "params/shop.yaml"
    assert [p.key for p in err.problems] == ["sorce", "source"]
    text = str(err)
    assert text.startswith("params/shop.yaml: 2 problems:")
    assert "`sorce`: unknown key. Did you mean `source`?" in text
    assert ("`source`: missing: without it the built-in synthetic data would be rendered under the "
            "name 'shop'. Fix: add `source: data/raw/shop`") in text


def test_readme_minimal_params_file_works_as_written(project):
    """README, 'Your own data': one line, `source: data/raw/<name>`; the notebook's example
    source_options (the synthetic generator's n_customers) never reach the directory loader."""
    _params(project, "source: data/raw/shop\n")
    p = stage_parameters("shop", "00_data", root=project)
    assert p["source"] == "data/raw/shop" and p["source_options"] == {}
    assert p["language"] == "en" and p["dataset"] == "shop"
    assert check(["shop"], root=project) == ["params/shop.yaml: ok (source: data/raw/shop)"]
    for stage in STAGES[1:]:
        assert "source_options" not in stage_parameters("shop", stage, root=project)
    # the synthetic business's targets and reference levels are not the user's
    assert stage_parameters("shop", "10_indicators", root=project)["targets"] == {}
    assert stage_parameters("shop", "20_causes", root=project)["reference"] == {}
    survival = stage_parameters("shop", "30_survival", root=project)
    assert survival["reference"] == {} and survival["truth_aliases"] == {}
    _params(project, "source: data/raw/shop\nstages:\n  20_causes: {reference: {plan: gold}}\n")
    assert stage_parameters("shop", "20_causes", root=project)["reference"] == {"plan": "gold"}


def test_copy_of_synthetic_params_names_the_loaders_options(project):
    text = (ROOT / "params" / "synthetic.yaml").read_text(encoding="utf-8")
    err = _error(project, text.replace("source: synthetic", "source: data/raw/shop"))
    assert [p.key for p in err.problems][:2] == ["source_options.n_customers", "source_options.random_state"]
    assert all(p.key.startswith("source_options.") for p in err.problems)  # every generator option
    assert str(err.problems[0]) == (
        "`source_options.n_customers`: not an option of the loader of `source: data/raw/shop` "
        "(load_directory). (`n_customers` is an option of the synthetic source.) Fix: remove it; "
        "the options of load_directory are: observation_end, kind, inactivity_days, records_start, "
        "encoding, sep, values, date_format.")


def test_misspelt_source_option_has_a_did_you_mean(project):
    err = _error(project, "source: cdnow\nsource_options: {inactivty_days: 90}\n")
    assert err.key == "source_options.inactivty_days"
    assert str(err) == ("params/shop.yaml: `source_options.inactivty_days`: not an option of the "
                        "loader of `source: cdnow` (load_cdnow). Did you mean `inactivity_days`? "
                        "Fix: remove it; the options of load_cdnow are: sample, inactivity_days, "
                        "observation_end.")


@pytest.mark.parametrize("text, stage, key, message", [
    ("source: cdnow\nsource_options: {inactivity_days: six months}\n", "00_data",
     "source_options.inactivity_days",
     'expected a whole number, got "six months". Fix: write the number alone, without units or '
     "words (e.g. 180 for days, 12 for months)."),
    ("source: data/raw/shop\nsource_options: {observation_end: 20251231}\n", "00_data",
     "source_options.observation_end",
     "expected a date such as 2025-12-31, got 20251231. Fix: write it as 2025-12-31."),
    ("source: telco\nstages:\n  30_survival:\n    horizons: [12, 24, 36m]\n", "30_survival",
     "stages.30_survival.horizons[2]", 'expected a whole number, got "36m".'),
    ("source: telco\nstages:\n  10_indicators: {inactivity_days: six months}\n", "10_indicators",
     "stages.10_indicators.inactivity_days", 'expected a whole number, got "six months".'),
    ("source: telco\nstages:\n  50_clv: {margin: 30%}\n", "50_clv",
     "stages.50_clv.margin", 'expected a number, got "30%".'),
    ("source: telco\nstages:\n  30_survival: {cohort_analysis: 'no'}\n", "30_survival",
     "stages.30_survival.cohort_analysis", 'expected true or false, got "no".'),
    ("source: telco\nannual_churn_months: twelve\n", "10_indicators",
     "annual_churn_months", 'expected a whole number, got "twelve".'),
])
def test_wrong_type_names_key_expected_type_and_fix(project, text, stage, key, message):
    err = _error(project, text, stage)
    assert err.key == key and len(err.problems) == 1
    assert str(err).startswith(f"params/shop.yaml: `{key}`: {message}")


def test_misspelt_stage_key_has_a_did_you_mean(project):
    err = _error(project, "source: telco\nstages:\n  20_causes:\n    horizon_monthz: 12\n", "20_causes")
    assert err.key == "stages.20_causes.horizon_monthz"
    assert str(err).startswith("params/shop.yaml: `stages.20_causes.horizon_monthz`: unknown key of "
                               "this stage. Did you mean `horizon_months`? Fix: the keys of "
                               "stages.20_causes are: design, link, drivers,")


@pytest.mark.parametrize("text, key, message", [
    ("source: telco\nstages:\n  20_cause: {}\n", "stages.20_cause",
     "unknown stage. Did you mean `20_causes`? Fix: use one of 00_data, 10_indicators, 20_causes, "
     "30_survival, 40_segments, 50_clv, 60_retention."),
    ("source: telco\nfreq: M\n", "freq",
     "is a key of stages.10_indicators, stages.50_clv, stages.60_retention, not a common key. Fix: "
     "move it into the "
     "section `stages: 10_indicators:`."),
    ("source: telco\ntier_rules: {new_dayz: 90}\n", "tier_rules.new_dayz",
     "unknown key. Did you mean `new_days`? Fix: use one of the keys of tier_rules: new_days,"),
    ("source: telco\nlanguage: fr\n", "language",
     "unknown report language 'fr'. Fix: use one of en, zh."),
    ("source: telco\nstages:\n  30_survival:\n    bins: 4\n", "stages.30_survival.bins",
     "unknown key of this stage. It is a key of stages.20_causes."),
    ("source: telcoo\n", "source",
     "'telcoo' is neither a built-in source nor an existing path"),
    ("source: telco\nprocessed_dir: /tmp/x\n", "processed_dir",
     "is set by the runner for every stage. Fix: remove `processed_dir:` from the file."),
])
def test_unknown_keys_and_values(project, text, key, message):
    err = _error(project, text)
    assert err.key == key
    assert str(err).startswith(f"params/shop.yaml: `{key}`: {message}")


def test_yaml_syntax_error_names_the_line(project):
    err = _error(project, "source: telco\nstages:\n  20_causes:\n    horizon_months: 12\n   bins: 4\n")
    assert err.key is None and err.problems[0].at == "line 5, column 4"
    assert str(err) == (
        "params/shop.yaml line 5, column 4: YAML syntax error: expected <block end>, but found "
        "'<block mapping start>' (while parsing a block mapping). The line reads: 'bins: 4'. "
        "Fix: indent with spaces (not tabs), write `key: value`, and quote texts that hold ': ' "
        "or ' #'.")


def test_key_given_twice_is_an_error(project):
    err = _error(project, "source: telco\nlanguage: en\nsource: cdnow\n")
    assert str(err) == ("params/shop.yaml line 3, column 1: YAML syntax error: key `source` appears "
                        "twice (first on line 1). The line reads: 'source: cdnow'. Fix: remove one "
                        "of the two (YAML would silently keep the last).")


def test_every_problem_is_reported_at_once(project):
    err = _error(project, "source: telco\nlanguage: fr\nstages:\n  20_causes: {bins: four, linky: x}\n")
    assert [p.key for p in err.problems] == ["language", "stages.20_causes.bins",
                                              "stages.20_causes.linky"]
    assert str(err).startswith("params/shop.yaml: 3 problems:\n  - `language`:")
    assert isinstance(err, SystemExit) and isinstance(err.problems[0], Problem)


def test_unknown_dataset_says_how_to_create_its_params(project):
    _params(project, "source: telco\n", "telco")
    with pytest.raises(MissingParamsError) as err:
        stage_parameters("telcp", "00_data", root=project)
    text = str(err.value)
    assert text.startswith("no parameters for dataset 'telcp': params/telcp.yaml does not exist. "
                           "Did you mean DATASET=telco?")
    assert "create params/telcp.yaml holding one line:\n      source: data/raw/telcp\n" in text


def test_project_params_files_pass_and_give_what_they_gave():
    assert check(root=ROOT) == [f"params/{d}.yaml: ok (source: {d})"
                                for d in ("cdnow", "synthetic", "synthetic_zh", "telco")]
    p = stage_parameters("cdnow", "00_data")
    assert p["source_options"] == {"sample": False, "inactivity_days": 180}
    assert stage_parameters("telco", "00_data")["source_options"] == {}
    assert stage_parameters("synthetic", "30_survival")["horizons"] == [12, 24, 36]


def test_loader_options_are_the_loaders_signatures():
    assert list(loader_options("cdnow")) == ["sample", "inactivity_days", "observation_end"]
    assert list(loader_options("telco")) == ["snapshot", "observation_end"]
    assert list(loader_options("data/raw/x/mapping.yaml")) == [
        "observation_end", "kind", "inactivity_days", "records_start"]
    assert {"n_customers", "random_state", "weibull_shape", "spike"} <= set(loader_options("synthetic"))


def test_minimal_directory_source_loads(project, valid_tables, monkeypatch):
    """The README's one-line params file on a tiny directory: the options the runner passes load it."""
    from conftest import write_tables

    write_tables(project / "data" / "raw" / "shop", valid_tables)
    _params(project, "source: data/raw/shop\n")
    p = stage_parameters("shop", "00_data", root=project)
    monkeypatch.setenv("CHURN_RESEARCH_ROOT", str(project))
    data = load(p["source"], **p["source_options"])
    assert len(data.customers) == 4 and data.kind == "contractual"
    assert str(data.observation_end.date()) == "2024-02-29"


# ----------------------------------------------------------------------------------------
# part 7: the index says stale, running or interrupted, never ok for them
# ----------------------------------------------------------------------------------------
def _rendered(project: Path, dataset: str, stage: str, **changes) -> Path:
    """A rendered ``stage`` whose provenance records the parameters it gets now (with ``changes``)."""
    ds = project / "reports" / dataset
    ds.mkdir(parents=True, exist_ok=True)
    params = stage_parameters(dataset, stage, root=project, check_files=False)
    params = {k: v for k, v in params.items() if k not in ("processed_dir", "output_json")}
    params.update(changes)
    (ds / f"{stage}.html").write_text("<html><body>report</body></html>")
    (ds / f"{stage}.provenance.json").write_text(json.dumps({
        "git_commit": "abc1234", "finished": "2026-01-01T00:00:00+00:00", "seconds": 1.0,
        "parameters": params, "input_checksums": {}, "package_versions": {}}, default=str))
    return ds


def _status(index: str, stage_title: str) -> str:
    row = next(r for r in index.split("<tr>") if stage_title in r)
    return row.split("<td class='", 1)[1].split("'", 1)[0]


def test_index_marks_changed_parameters_and_notebooks_stale(project, monkeypatch):
    monkeypatch.delenv("REPORT_LANG", raising=False)
    _params(project, "source: telco\nstages:\n  20_causes: {bins: 4}\n  30_survival: {}\n")
    _rendered(project, "shop", "20_causes")
    _rendered(project, "shop", "30_survival")
    assert stale_reasons(project / "reports", "shop", "20_causes") == []
    index = render_index(project / "reports").read_text()
    assert _status(index, "Causes of churn") == "ok"
    _params(project, "source: telco\nstages:\n  20_causes: {bins: 5}\n  30_survival: {}\n")
    assert stale_reasons(project / "reports", "shop", "20_causes") == [
        "its parameters in params/shop.yaml changed: bins"]
    assert stale_reasons(project / "reports", "shop", "30_survival") == []   # its own are unchanged
    index = render_index(project / "reports").read_text()
    assert _status(index, "Causes of churn") == "stale"
    assert "rendered before: its parameters in params/shop.yaml changed: bins; run the stage again." in index
    assert _status(index, "Survival and retention") == "ok"
    notebook = project / "notebooks" / "30_survival.ipynb"
    later = time.time() + 5
    os.utime(notebook, (later, later))
    assert stale_reasons(project / "reports", "shop", "30_survival") == [
        "notebooks/30_survival.ipynb changed after it was rendered"]
    # a params file that no longer reads: every stage is stale, with the error
    _params(project, "source: telco\nstages:\n  20_causes: {bins: 5\n")
    reasons = stale_reasons(project / "reports", "shop", "20_causes")
    assert reasons[0].startswith("params/shop.yaml has an error: params/shop.yaml line ")
    assert "YAML syntax error" in reasons[0]


def test_index_marks_rewritten_processed_data_stale(project):
    _params(project, "source: telco\n")
    processed = project / "data" / "processed" / "shop"
    processed.mkdir(parents=True)
    (processed / "customers.parquet").write_bytes(b"one")
    ds = _rendered(project, "shop", "10_indicators")
    from churn_research.sources import sha256

    prov = json.loads((ds / "10_indicators.provenance.json").read_text())
    prov["input_checksums"] = {"processed/customers.parquet": sha256(processed / "customers.parquet")}
    (ds / "10_indicators.provenance.json").write_text(json.dumps(prov))
    later = time.time() + 5
    os.utime(processed / "customers.parquet", (later, later))   # rewritten, same contents
    assert stale_reasons(project / "reports", "shop", "10_indicators") == []
    (processed / "customers.parquet").write_bytes(b"two")
    os.utime(processed / "customers.parquet", (later, later))
    assert stale_reasons(project / "reports", "shop", "10_indicators") == [
        "the processed data of shop changed after it was rendered (00_data ran again)"]


def test_index_shows_running_interrupted_and_missing_reports(project, monkeypatch):
    monkeypatch.delenv("REPORT_LANG", raising=False)
    _params(project, "source: telco\n")
    ds = _rendered(project, "shop", "10_indicators")
    _rendered(project, "shop", "20_causes")
    (ds / "20_causes.html").unlink()                       # deleted under a finished stage
    (ds / "30_survival.running.json").write_text(json.dumps(
        {"pid": os.getpid(), "started": "2026-01-01T00:00:00+00:00"}))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (ds / "40_segments.running.json").write_text(json.dumps(
        {"pid": dead.pid, "started": "2026-01-01T00:00:00+00:00"}))
    (ds / "50_clv.failed.json").write_text(json.dumps({
        "cell": "the run", "interrupted": True, "error": "interrupted by SIGTERM after 3 s",
        "time": "2026-01-01T00:00:00+00:00", "git_commit": "abc1234"}))
    index = render_index(project / "reports").read_text()
    assert _status(index, "Indicators and change impact") == "ok"
    assert _status(index, "Causes of churn") == "stale"
    assert "shop/20_causes.html" not in index and "no report: its report file is missing." in index
    assert _status(index, "Survival and retention") == "running"
    assert _status(index, "Segments, risk model") == "failed"
    assert ("started 2026-01-01T00:00:00+00:00, stopped before it finished (killed or interrupted); "
            "no report is shown. Run the stage again.") in index
    assert index.count(">interrupted<") == 2                # 40_segments and 50_clv
    assert "interrupted by SIGTERM after 3 s" in index


def test_stale_and_interrupted_are_translated(project, monkeypatch):
    monkeypatch.setenv("REPORT_LANG", "zh")
    _params(project, "source: telco\nstages:\n  20_causes: {bins: 4}\n")
    ds = _rendered(project, "shop", "20_causes", bins=5)
    (ds / "30_survival.running.json").write_text(json.dumps({"pid": 0, "started": "2026-01-01"}))
    index = render_index(project / "reports").read_text(encoding="utf-8")
    assert ">过期<" in index and ">中断<" in index
    assert "报告生成于改动之前：params/shop.yaml 中本阶段的参数已改动：bins；请重新运行该阶段。" in index
    assert "开始于 2026-01-01，未运行完即停止（被终止或中断）；不显示报告。请重新运行该阶段。" in index


# ----------------------------------------------------------------------------------------
# running the runner: the README's example rendered, a stage killed mid-run, make
# ----------------------------------------------------------------------------------------
@pytest.mark.subprocess
def test_readme_minimal_example_renders_00_data(project, valid_tables):
    from conftest import write_tables

    from churn_research.runner import run_stage

    write_tables(project / "data" / "raw" / "shop", valid_tables)
    _params(project, "source: data/raw/shop\n")
    html = run_stage("shop", "00_data", root=project, quiet=True)
    prov = json.loads((project / "reports" / "shop" / "00_data.provenance.json").read_text())
    assert prov["parameters"]["source"] == "data/raw/shop" and prov["parameters"]["source_options"] == {}
    figures = json.loads((project / "reports" / "shop" / "00_data.json").read_text())
    assert figures["n_customers"] == 4
    assert "CHURN_RESEARCH_ROOT" not in os.environ
    index = (project / "reports" / "index.html").read_text()
    assert html.exists() and "shop/00_data.html" in index and ">ok<" in index


def _slow_stage(project: Path) -> None:
    """00_data with a cell that sleeps, and a tiny synthetic dataset."""
    nb = nbformat.read(project / "notebooks" / "00_data.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    marker = project / "build" / "sleeping"  # the cell has started: a signal now hits the cell
    code[1].source += (f"\nimport pathlib, time\npathlib.Path({str(marker)!r}).write_text('1')"
                       "\ntime.sleep(120)")
    nbformat.write(nb, project / "notebooks" / "00_data.ipynb")
    _params(project, yaml.safe_dump({"source": "synthetic",
                                     "source_options": {"n_customers": 200, "random_state": 1}}))


def _start_runner(project: Path, *, ignore_sigint: bool = False) -> subprocess.Popen:
    code = ("import sys; from pathlib import Path; from churn_research.runner.pipeline import run_stage, "
            "Interrupted\ntry:\n    run_stage('shop', '00_data', root=Path(sys.argv[1]), quiet=True)\n"
            "except (KeyboardInterrupt, Interrupted):\n    sys.exit(143)\n")
    ignored = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    return subprocess.Popen([sys.executable, "-c", code, str(project)], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ignored)  # noqa: PLW1509 - only sets one signal


def _wait_for_kernel(project: Path, proc: subprocess.Popen) -> None:
    """Until the kernel runs the sleeping cell (not merely started: a signal during the kernel's
    start-up is another case)."""
    marker = project / "build" / "sleeping"
    for _ in range(1200):
        if marker.exists() and proc.poll() is None:
            time.sleep(0.5)                                 # well inside the sleeping cell
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("the stage never started")


@pytest.mark.subprocess
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stage_stopped_by_a_signal_is_interrupted_in_the_index(project, sig):
    _slow_stage(project)
    _rendered(project, "shop", "00_data")                   # an earlier, finished run
    proc = _start_runner(project)
    try:
        _wait_for_kernel(project, proc)
        index = (project / "reports" / "index.html").read_text()
        assert ">running<" in index and "shop/00_data.html" not in index
        os.kill(proc.pid, sig)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    name = "SIGTERM" if sig == signal.SIGTERM else "SIGINT (Ctrl-C)"
    assert proc.returncode == 143 and f"INTERRUPTED by {name}" in err
    ds = project / "reports" / "shop"
    failure = json.loads((ds / "00_data.failed.json").read_text())
    assert failure["interrupted"] is True and failure["error"].startswith(f"interrupted by {name} after")
    assert not (ds / "00_data.running.json").exists() and not (ds / "00_data.html").exists()
    index = (project / "reports" / "index.html").read_text()
    assert ">interrupted<" in index and "shop/00_data.html" not in index and ">ok<" not in index


@pytest.mark.subprocess
def test_ctrl_c_stops_a_stage_whose_runner_inherited_it_ignored(project):
    """A runner started by a process that ignores SIGINT (a background job, a test worker)
    inherits the ignored signal; while a stage runs, Ctrl-C still stops it."""
    _slow_stage(project)
    proc = _start_runner(project, ignore_sigint=True)
    try:
        _wait_for_kernel(project, proc)
        os.kill(proc.pid, signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143 and "INTERRUPTED by SIGINT (Ctrl-C)" in err


@pytest.mark.subprocess
def test_stage_killed_outright_is_interrupted_in_the_index(project):
    """SIGKILL runs no handler: the running marker stays, and the index says interrupted."""
    _slow_stage(project)
    _rendered(project, "shop", "00_data")
    proc = _start_runner(project)
    try:
        _wait_for_kernel(project, proc)
        os.killpg(proc.pid, signal.SIGKILL)                 # the runner and its kernel
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    ds = project / "reports" / "shop"
    assert (ds / "00_data.running.json").exists() and not (ds / "00_data.html").exists()
    # the index the runner wrote when the stage started has no link to the deleted report ...
    assert "shop/00_data.html" not in (project / "reports" / "index.html").read_text()
    # ... and rebuilt now, it says interrupted
    index = render_index(project / "reports").read_text()
    assert ">interrupted<" in index and ">ok<" not in index


@pytest.mark.subprocess
def test_make_with_unknown_dataset_gives_the_runners_message():
    if subprocess.run(["make", "-q", ".venv/.installed"], cwd=ROOT).returncode != 0:
        pytest.skip("the environment stamp is out of date: make would rebuild .venv")
    run = subprocess.run(["make", "reports", "DATASET=no_such_dataset"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.startswith("no parameters for dataset 'no_such_dataset': "
                                 "params/no_such_dataset.yaml does not exist.")
    assert "      source: data/raw/no_such_dataset\n" in run.stderr
    assert "No rule to make target" not in run.stderr
    assert not (ROOT / "params" / "no_such_dataset.yaml").exists()


def test_parameter_hint_names_the_file_and_the_section(project):
    from churn_research.runner.params import parameter_hint

    _params(project, "source: data/raw/shop\nreference: {plan: gold}\nstages:\n"
                     "  30_survival: {reference: {gender: f}}\n")
    assert parameter_hint("shop", "20_causes", "reference.plan", root=project) == (
        "edit `reference.plan` in params/shop.yaml, at the top level (`reference:`, shared by "
        "every stage that uses it), or set `reference:` in section `stages: 20_causes:` for this "
        "stage only.")
    assert parameter_hint("shop", "30_survival", "reference.gender", root=project) == (
        "edit `reference.gender` in params/shop.yaml, section `stages: 30_survival:`.")
    assert parameter_hint("shop", "40_segments", "cluster_features", root=project) == (
        "add `cluster_features:` to params/shop.yaml (at the top level for every stage, or in "
        "section `stages: 40_segments:`); see docs/parameters.md.")


def test_a_common_reference_reaches_both_model_stages_of_a_users_dataset(project):
    _params(project, "source: data/raw/shop\nreference: {plan: 基础版}\n")
    for stage in ("20_causes", "30_survival"):
        assert stage_parameters("shop", stage, root=project)["reference"] == {"plan": "基础版"}
    assert "reference" not in stage_parameters("shop", "40_segments", root=project)


def test_telco_and_cdnow_money_is_in_us_dollars():
    """review s5, 4b: both public datasets' money is US dollars, so their amounts and axes say so
    (English has no default currency: without the parameter an axis read "(currency units)")."""
    from churn_research.i18n import money_unit
    from churn_research.narrate.format import money
    from churn_research.runner.params import read_params

    for dataset in ("telco", "cdnow"):
        assert read_params(dataset)["currency"] == "USD"
    assert money(1234567.8, "USD") == "1,234,568 USD" and money_unit("USD") == "USD"
    assert money_unit("") == "currency units"


def test_an_index_rebuild_that_races_a_starting_stage_reads_again(tmp_path, monkeypatch, capsys):
    """Under make -j a stage deletes its stale report files as it starts; an index rebuild
    reading them at that moment reads again instead of warning, and stays silent while a stage
    is running (it rebuilds the index when it ends)."""
    from churn_research.runner import pipeline

    (tmp_path / "reports" / "synthetic").mkdir(parents=True)
    calls = []

    def racing(n_failures):
        def build(root):
            calls.append(root)
            if len(calls) <= n_failures:
                raise FileNotFoundError("reports/synthetic/20_causes.html")
        return build

    monkeypatch.setattr(pipeline, "build_index", racing(2))
    monkeypatch.setattr(pipeline.time, "sleep", lambda s: None)
    pipeline._rebuild_index(tmp_path)
    assert len(calls) == 3 and capsys.readouterr().err == ""

    calls.clear()
    monkeypatch.setattr(pipeline, "build_index", racing(99))
    (tmp_path / "reports" / "synthetic" / "20_causes.running.json").write_text("{}")
    pipeline._rebuild_index(tmp_path)
    assert len(calls) == 3 and capsys.readouterr().err == ""

    calls.clear()
    (tmp_path / "reports" / "synthetic" / "20_causes.running.json").unlink()
    pipeline._rebuild_index(tmp_path)
    assert capsys.readouterr().err == ("warning: reports/index.html not rebuilt: FileNotFoundError: "
                                       "reports/synthetic/20_causes.html\n")
