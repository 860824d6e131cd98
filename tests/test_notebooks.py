"""Execute every pipeline notebook with its default parameters and check what reviewers get.

Each notebook runs with papermill exactly as a researcher would run it top to bottom, except
that its paths point into a temporary directory; 00_data runs first and feeds the others.
Rendered HTML (code hidden) and key-figure JSON must exist, must not show code, and must not
contain any of the synthetic data's personal values (names, phone numbers, e-mails).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from churn_research.runner import render_html

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ANALYSES = [p for p in NOTEBOOKS if p.stem != "00_data"]

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


def _defaults(path: Path) -> dict:
    """The notebook's own `parameters` cell, evaluated (plain assignments only)."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    scope: dict = {}
    exec(cell.source, {}, scope)  # noqa: S102 - our own committed notebook
    return scope


def _execute(path: Path, out: Path, **paths) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    executed = out / path.name
    pm.execute_notebook(str(path), str(executed), parameters=paths, cwd=str(path.parent),
                        kernel_name="python3", progress_bar=False)
    html = render_html(executed, out / f"{path.stem}.html")
    return executed, html


@pytest.fixture(scope="session")
def processed(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("pipeline")
    nb = ROOT / "notebooks" / "00_data.ipynb"
    _execute(nb, base / "reports", processed_dir=str(base / "processed"),
             output_json=str(base / "reports" / "00_data.json"))
    return base


@pytest.fixture(scope="session")
def personal_values() -> list[str]:
    """Personal values of the synthetic data the notebooks load by default."""
    from churn_research import load

    opts = _defaults(ROOT / "notebooks" / "00_data.ipynb")
    data = load(opts["source"], **opts["source_options"])
    c = data.customers
    values = list(c["email"].astype(str)) + list(c["phone"].astype(str)) + list(c["name"].astype(str))
    return values


def _assert_reviewer_ready(html: Path, key_json: Path, personal: list[str]) -> None:
    text = html.read_text(encoding="utf-8")
    assert "from churn_research" not in text, "code must be hidden in reports"
    figures = json.loads(key_json.read_text())
    assert isinstance(figures, dict) and figures, "key figures must be a non-empty flat object"
    assert all(not isinstance(v, dict) for v in figures.values()), "key figures must be flat"
    blob = text + key_json.read_text()
    for extra in html.parent.glob("*.csv"):
        blob += extra.read_text()
    leaked = [v for v in personal if v and v in blob]
    assert not leaked, f"personal data in the report: {len(leaked)} values, e.g. {leaked[0][:3]}…"


def test_00_data(processed, personal_values):
    html = processed / "reports" / "00_data.html"
    _assert_reviewer_ready(html, processed / "reports" / "00_data.json", personal_values)
    assert (processed / "processed" / "customers.parquet").exists()
    figures = json.loads((processed / "reports" / "00_data.json").read_text())
    assert figures["n_customers"] == _defaults(ROOT / "notebooks" / "00_data.ipynb")["source_options"]["n_customers"]
    assert figures["personal_columns_dropped"] == 3
    assert text_has_figures(html)


def text_has_figures(html: Path) -> bool:
    return "data:image/png;base64" in html.read_text(encoding="utf-8")


@pytest.mark.parametrize("notebook", ANALYSES, ids=[p.stem for p in ANALYSES])
def test_stage_notebook(notebook, processed, personal_values):
    out = processed / "reports"
    key_json = out / f"{notebook.stem}.json"
    executed, html = _execute(notebook, out, processed_dir=str(processed / "processed"),
                              output_json=str(key_json))
    _assert_reviewer_ready(html, key_json, personal_values)
    assert text_has_figures(html), "a stage report shows its findings in figures"
    nb = nbformat.read(executed, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
