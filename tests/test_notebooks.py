"""Execute the pipeline notebooks with nbval and check what reviewers get.

Design (each notebook is executed exactly once):

* The committed notebooks are parameterised WITHOUT executing them
  (``papermill.parameterize_notebook``: the same injected-parameters cell the runner adds) into a
  temporary directory, with every output path (``processed_dir``, ``output_json``) pointing
  into that directory, so a test never writes to ``data/processed/`` or ``reports/``.
* One nested ``pytest --nbval-lax --nbval-current-env`` run per data set executes them, 00_data
  first and then the analyses, which read its processed output. nbval runs each code cell as a
  test item in one kernel and fails on any exception; ``--nbval-lax`` does not compare outputs
  (the committed notebooks have none). The nested run is a subprocess so that its notebook
  items never mix with this session's xdist workers and collection.
* nbval keeps each cell's outputs but does not save the executed notebook, so the small plugin
  ``tests/nbval_capture.py`` writes it back; the runner's own ``render_html`` turns it into the
  reviewer's HTML. No second execution with papermill is needed for the HTML checks.

Data sets:

* ``synthetic``: the notebooks' own defaults (what a researcher runs top to bottom) with smoke
  sizes (``SMOKE``): 2,000 customers instead of 5,000, fewer permutation repeats and CV folds.
  Every stage runs; the reports must hide code, show figures, write flat key-figure JSON, and
  contain none of the synthetic data's personal values (names, phone numbers, e-mails) in any
  HTML, JSON or CSV.
* ``cdnow``: the non-contractual path (BG/NBD + Gamma-Gamma in 50_clv), which the synthetic
  data never takes: the 2,357-customer CDNOW sample (``CDNOW_sample.txt``) with the stage
  parameters of ``params/cdnow.yaml``; 00_data, 10_indicators and 50_clv run.

The two data sets are separate test classes, so ``make test`` (``-n 2 --dist loadscope``)
runs each class, and so each nested nbval run, on one worker, the two possibly in parallel;
tests/conftest.py puts them first, as the longest units of work. (``--dist loadgroup`` with
``xdist_group`` marks would be the usual tool, but pytest-xdist 3.8 cannot tag node ids under
pytest 9.2, so the groups are silently ignored and each worker would run every notebook.) The runner itself (papermill, provenance, failure handling) is
tested in tests/test_project.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from keyfigures_compare import differences
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from churn_research import i18n
from churn_research.runner import render_html
from churn_research.runner.findings_html import stage_findings

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {p.stem: p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}
ANALYSES = [s for s in NOTEBOOKS if s != "00_data"]

#: smoke-test parameters on top of each notebook's defaults (synthetic data)
SMOKE = {
    "00_data": {"source_options": {"n_customers": 2000, "random_state": 0}},
    "20_causes": {"n_repeats": 2},
    "40_segments": {"n_splits": 3},
    "60_retention": {"n_splits": 3, "risk_bootstrap": 50},
}
#: the CDNOW sample: 2,357 customers, churn inferred after 180 days without a purchase
CDNOW_SOURCE = {"source": "cdnow", "source_options": {"sample": True, "inactivity_days": 180}}
CDNOW_STAGES = ["00_data", "10_indicators", "50_clv"]

pytestmark = pytest.mark.notebooks


def _defaults(path: Path) -> dict:
    """The notebook's own `parameters` cell, evaluated (plain assignments only)."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    scope: dict = {}
    exec(cell.source, {}, scope)  # noqa: S102 - our own committed notebook
    return scope


def _cdnow_parameters(stage: str) -> dict:
    """params/cdnow.yaml for ``stage`` (common keys + the stage's section), on the sample."""
    spec = yaml.safe_load((ROOT / "params" / "cdnow.yaml").read_text())
    common = {k: v for k, v in spec.items() if k not in ("stages", "title", "source",
                                                           "source_options")}
    params = {"dataset": "cdnow", **common, **(spec["stages"].get(stage) or {})}
    if stage == "00_data":
        params.update(CDNOW_SOURCE)
    return params


def _run_nbval(base: Path, parameters: dict[str, dict]) -> dict:
    """Parameterise ``parameters``' notebooks into ``base`` and execute them with nbval, in order.

    Returns ``nbval-results.json`` plus the nested run's return code and output.
    """
    nb_dir, out = base / "notebooks", base / "reports"
    nb_dir.mkdir(parents=True)
    out.mkdir()
    paths = []
    for stage, params in parameters.items():
        nb = load_notebook_node(str(NOTEBOOKS[stage]))  # as papermill reads it (tags)
        params = {**params, "processed_dir": str(base / "processed"),
                  "output_json": str(out / f"{stage}.json")}
        nb = parameterize_notebook(nb, params, kernel_name="python3", language="python")
        nbformat.write(nb, nb_dir / f"{stage}.ipynb")
        paths.append(str(nb_dir / f"{stage}.ipynb"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(Path(__file__).parent), os.environ.get("PYTHONPATH")])),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "nbval_capture",
         "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "--rootdir", str(base), "-o", "addopts=",
         "--nbval-cell-timeout", "600", *paths],
        cwd=base, env=env, capture_output=True, text=True, timeout=1200)
    results_file = nb_dir / "nbval-results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    dataset = base.name.split("-")[1].rstrip("0123456789")  # nbval-synthetic0 -> synthetic
    # the runner renders the Findings box and the page in the stage's language
    i18n.set_language(next(iter(parameters.values())).get("language"))
    for stage in parameters:
        executed = nb_dir / f"{stage}.executed.ipynb"
        if executed.exists():
            found = stage_findings(dataset, stage, key_json=out / f"{stage}.json",
                                   processed_dir=base / "processed",
                                   params_file=ROOT / "params" / f"{dataset}.yaml")
            render_html(executed, out / f"{stage}.html", dataset=dataset, stage=stage, found=found)
    i18n.set_language("en")
    return {"stages": results, "returncode": proc.returncode, "output": proc.stdout[-6000:] + proc.stderr[-3000:],
            "base": base}


def _assert_executed(run: dict, stage: str) -> None:
    res = run["stages"].get(stage)
    assert res is not None, f"nbval did not run {stage}:\n{run['output']}"
    assert res["cells"] > 0
    assert not res["failed"], (f"{stage}: nbval failed in code cell {res['failed'][0]['cell']} "
                               f"(counting the injected parameters cell):\n{res['failed'][0]['error']}")


def _assert_reviewer_ready(html: Path, key_json: Path, personal: list[str]) -> None:
    text = html.read_text(encoding="utf-8")
    assert "from churn_research" not in text, "code must be hidden in reports"
    assert "data:image/png;base64" in text, "a report shows its findings in figures"
    figures = json.loads(key_json.read_text())
    assert isinstance(figures, dict) and figures, "key figures must be a non-empty flat object"
    assert all(not isinstance(v, dict) for v in figures.values()), "key figures must be flat"
    blob = text + key_json.read_text()
    for extra in html.parent.glob("*.csv"):
        blob += extra.read_text()
    book = html.with_suffix(".xlsx")                 # the report's tables, linked from its top
    assert (f"<a href='{book.name}' download>" in text) == book.exists()
    if book.exists():
        import openpyxl

        blob += " ".join(str(v) for ws in openpyxl.load_workbook(book)
                         for row in ws.iter_rows(values_only=True) for v in row)
    leaked = [v for v in personal if v and v in blob]
    assert not leaked, f"personal data in the report: {len(leaked)} values, e.g. {leaked[0][:3]}…"
    # the report opens with its findings, built in the package from the key figures
    stage = key_json.stem
    assert "<section class='cr-findings'" in text and text.index("cr-findings'") < text.index("<h2 id=")
    assert re.search(r"<title>[^<]+ — [a-z0-9_]+</title>", text), "the title names stage and dataset"
    assert "No description has been provided" not in text, "figures have alt text"
    found = json.loads((html.parent / f"{stage}.findings.json").read_text())
    words = " ".join([found["headline"], *(f["text"] for f in found["key_findings"]),
                      *found["unavailable"]])
    # at most six key findings; 10_indicators' box holds up to eight (narrate.indicators.MAX_FINDINGS)
    assert found["headline"] and len(found["key_findings"]) <= (8 if stage == "10_indicators" else 6)
    for bad in ("nan", "None", "NaN", "<NA>", "inf"):
        assert not re.search(rf"\b{re.escape(bad)}\b", words), f"{bad!r} in findings: {words}"
    assert not re.search(r"\d\.\d{5,}|\de[+-]\d", words), f"raw float in findings: {words}"


# ---------------------------------------------------------------------------------------
# synthetic data, every stage, smoke sizes
# ---------------------------------------------------------------------------------------
def _synthetic_parameters(stage: str) -> dict:
    return SMOKE.get(stage, {})


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory) -> dict:
    return _run_nbval(tmp_path_factory.mktemp("nbval-synthetic"),
                      {s: _synthetic_parameters(s) for s in NOTEBOOKS})


@pytest.fixture(scope="session")
def personal_values() -> list[str]:
    """Personal values of the synthetic data 00_data loads in the smoke run (the generator's
    raw customers: loading drops them)."""
    from churn_research.sources.synthetic import generate

    opts = {**_defaults(NOTEBOOKS["00_data"]), **SMOKE["00_data"]}
    assert opts["source"] == "synthetic"
    c = generate(**opts["source_options"]).customers
    return list(c["email"].astype(str)) + list(c["phone"].astype(str)) + list(c["name"].astype(str))


def _synthetic_zh_parameters(stage: str, export_dir: Path) -> dict:
    """The English smoke run's parameters, in Chinese, on the Chinese export of the same
    business (its plan levels are Chinese, so is the reference level)."""
    params = {**SMOKE.get(stage, {}), "language": "zh"}
    if stage == "00_data":
        params["source"] = "synthetic_zh"
        params["source_options"] = {**SMOKE["00_data"]["source_options"], "export_dir": str(export_dir)}
    reference = _defaults(NOTEBOOKS[stage]).get("reference")
    if isinstance(reference, dict):  # the English run's reference levels, in Chinese
        params["reference"] = {**reference, "plan": "基础版", "region": "华北"}
    return params


@pytest.fixture(scope="session")
def synthetic_zh_run(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("nbval-synthetic_zh")
    return _run_nbval(base, {s: _synthetic_zh_parameters(s, base / "raw") for s in NOTEBOOKS})


def _zh_personal_values(export_dir: Path) -> list[str]:
    import pandas as pd

    c = pd.read_csv(export_dir / "客户.csv", encoding="gb18030", dtype=str)
    return [v for col in ("客户姓名", "手机号", "邮箱") for v in c[col].dropna()]


CJK = re.compile(r"[\u4e00-\u9fff]")


class TestSynthetic:
    """The English synthetic run and, on the same worker, its Chinese twin (the same business
    exported the way a Chinese CRM writes it, reported in Chinese), compared figure by figure."""

    @pytest.mark.parametrize("stage", list(NOTEBOOKS))
    def test_chinese_report(self, stage, synthetic_zh_run):
        _assert_executed(synthetic_zh_run, stage)
        base = synthetic_zh_run["base"]
        out = base / "reports"
        _assert_reviewer_ready(out / f"{stage}.html", out / f"{stage}.json",
                               _zh_personal_values(base / "raw"))
        found = json.loads((out / f"{stage}.findings.json").read_text())
        assert CJK.search(found["headline"]), f"{stage}: headline not in Chinese: {found['headline']}"
        page = (out / f"{stage}.html").read_text(encoding="utf-8")
        assert 'lang="zh' in page[:400] or "lang='zh" in page[:400]
        # Chinese renders: no missing-glyph warning anywhere, no warning box in the page
        executed = nbformat.read(base / "notebooks" / f"{stage}.executed.ipynb", as_version=4)
        stderr = "".join("".join(o.get("text", "")) for c in executed.cells if c.cell_type == "code"
                         for o in c.get("outputs", []) if o.get("name") == "stderr")
        assert "missing from font" not in stderr and "Glyph" not in stderr, stderr[:500]
        assert "output_stderr" not in page and "Glyph" not in page
        # everything a reader sees is Chinese: Latin letters only in method names (GLM, AUC,
        # Kaplan–Meier), parameter names and identifiers, a few per hundred Chinese characters
        visible = re.sub(r"<(style|script)\b.*?</\1>|<[^>]+>", " ", page, flags=re.S)
        latin = len(re.findall(r"[A-Za-z]", visible))
        assert latin < 0.25 * len(CJK.findall(visible)), f"{stage}: {latin} Latin letters"

    @pytest.mark.parametrize("stage", list(NOTEBOOKS))
    def test_chinese_report_has_the_english_figures(self, stage, synthetic_run, synthetic_zh_run):
        """Same business, same numbers: the Chinese export read through the mapping, the value
        vocabulary and the date parser gives the English reports' key figures."""
        en = json.loads((synthetic_run["base"] / "reports" / f"{stage}.json").read_text())
        zh = json.loads((synthetic_zh_run["base"] / "reports" / f"{stage}.json").read_text())
        assert not differences(en, zh), differences(en, zh)[:20]

    def test_00_data(self, synthetic_run, personal_values):
        _assert_executed(synthetic_run, "00_data")
        base = synthetic_run["base"]
        _assert_reviewer_ready(base / "reports" / "00_data.html",
                               base / "reports" / "00_data.json", personal_values)
        assert (base / "processed" / "customers.parquet").exists()
        figures = json.loads((base / "reports" / "00_data.json").read_text())
        assert figures["n_customers"] == SMOKE["00_data"]["source_options"]["n_customers"]
        assert figures["personal_columns_dropped"] == 3

    @pytest.mark.parametrize("stage", ANALYSES)
    def test_stage_notebook(self, stage, synthetic_run, personal_values):
        _assert_executed(synthetic_run, stage)
        out = synthetic_run["base"] / "reports"
        _assert_reviewer_ready(out / f"{stage}.html", out / f"{stage}.json", personal_values)

    def test_paths_point_into_the_temporary_directory(self, synthetic_run):
        """Injected paths only: the published data and reports are never touched by a test."""
        assert synthetic_run["returncode"] == 0, synthetic_run["output"]
        for stage in NOTEBOOKS:
            nb = nbformat.read(synthetic_run["base"] / "notebooks" / f"{stage}.ipynb", as_version=4)
            injected = next(c for c in nb.cells
                            if "injected-parameters" in c.metadata.get("tags", []))
            assert str(synthetic_run["base"]) in injected.source


# ---------------------------------------------------------------------------------------
# a small business: 100 customers, months without a single exit
# ---------------------------------------------------------------------------------------
SMALL = {"source_options": {"n_customers": 100, "random_state": 0}}


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> dict:
    return _run_nbval(tmp_path_factory.mktemp("nbval-small"),
                      {s: (SMALL if s == "00_data" else {}) for s in NOTEBOOKS})


# ---------------------------------------------------------------------------------------
# CDNOW sample: the non-contractual path (BG/NBD + Gamma-Gamma)
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def cdnow_run(tmp_path_factory) -> dict:
    return _run_nbval(tmp_path_factory.mktemp("nbval-cdnow"),
                      {s: _cdnow_parameters(s) for s in CDNOW_STAGES})


class TestCdnow:
    """The CDNOW sample and, on the same worker (the synthetic class is the longer one), a small
    business of 100 customers whose months often have no exit at all."""

    @pytest.mark.parametrize("stage", list(NOTEBOOKS))
    def test_small_business_renders_every_stage(self, stage, small_run):
        """Zero-churn months once crashed 10_indicators (a -1e-18 error bar) and a tiny
        segment's retention curve 50_clv (lifelines' Kaplan–Meier with delayed entry)."""
        _assert_executed(small_run, stage)
        out = small_run["base"] / "reports"
        _assert_reviewer_ready(out / f"{stage}.html", out / f"{stage}.json", [])

    def test_small_business_has_months_without_churn(self, small_run):
        from churn_research import ChurnData
        from churn_research.indicators import churn_table

        table = churn_table(ChurnData.read(small_run["base"] / "processed"), freq="M")
        assert (table["churned"] == 0).sum() >= 10

    @pytest.mark.parametrize("stage", CDNOW_STAGES)
    def test_stage_notebook(self, stage, cdnow_run):
        _assert_executed(cdnow_run, stage)
        out = cdnow_run["base"] / "reports"
        _assert_reviewer_ready(out / f"{stage}.html", out / f"{stage}.json", [])

    def test_sample_and_btyd_path(self, cdnow_run):
        _assert_executed(cdnow_run, "00_data")
        out = cdnow_run["base"] / "reports"
        assert json.loads((out / "00_data.json").read_text())["n_customers"] == 2357
        clv = json.loads((out / "50_clv.json").read_text())
        assert clv["kind"] == "non-contractual"
        assert any("bgnbd" in k.lower() or "btyd" in k.lower() for k in clv), sorted(clv)
