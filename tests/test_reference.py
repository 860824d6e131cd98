"""The parameter reference (docs/parameters.md) is generated from the notebooks' parameters cells."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from churn_research.runner.pipeline import main
from churn_research.runner.reference import missing_meanings, parameter_comments, reference_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_docs_parameters_is_up_to_date():
    assert (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8") == reference_markdown(ROOT), (
        "docs/parameters.md is out of date: run `churn-research params --reference > docs/parameters.md`")


def test_every_notebook_parameter_has_a_meaning():
    assert missing_meanings(ROOT) == []


def test_meaning_is_the_trailing_comment_of_the_assignment():
    comments = parameter_comments(ROOT / "notebooks" / "30_survival.ipynb")
    # a two-line assignment: its comment is on the second line
    assert comments["reference"] == ("level each categorical covariate is compared with (params: "
                                     "the common reference:; others: the most frequent)")
    assert comments["time_unit"] == "unit of tenure: days, weeks, months or years"


def test_a_parameter_without_comment_is_named(tmp_path):
    (tmp_path / "notebooks").mkdir()
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(nb, tmp_path / "notebooks" / nb.name)
    path = tmp_path / "notebooks" / "20_causes.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = cell.source.replace("bins = 4                         # quantile groups of numeric "
                                      "drivers in the rate tables", "bins = 4")
    nbformat.write(nb, path)
    assert missing_meanings(tmp_path) == ["20_causes.bins"]
    assert "| `bins` | integer | `4` |  |" in reference_markdown(tmp_path)


def test_reference_rows_and_user_defaults():
    text = reference_markdown(ROOT)
    assert "| `horizon_days` | integer | `90` | label: churned within this many days after the cutoff |" in text
    assert ("| `targets` | mapping | `{\"churn_rate\": {\"change\": -0.05, \"from\": \"2025-06-30\", "
            "\"by\": \"2025-12-31\"}, ") in text
    assert "(*your data*: `{}`) | values refer to `freq` periods" in text
    assert "| `source_options` | 00_data | mapping | `{}` | options of the source's loader |" in text
    assert text.count("\n## ") == 8  # common keys and seven stages


def test_cli_prints_the_reference(capsys):
    assert main(["params", "--reference"]) == 0
    assert capsys.readouterr().out == reference_markdown(ROOT)


def test_papermill_reads_every_parameters_cell():
    """papermill parses the parameters cell (to warn of unknown parameters) and prints "Unable
    to parse line" to the make run's console for a comment it cannot read (one holding `=`)."""
    import logging

    import nbformat
    from papermill.translators import PythonTranslator

    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        records = []
        handler = logging.Handler()
        handler.emit = records.append
        logger = logging.getLogger("papermill")
        logger.addHandler(handler)
        try:
            names = {p.name for p in PythonTranslator.inspect(cell)}
        finally:
            logger.removeHandler(handler)
        assert not [r.getMessage() for r in records], path.name
        assert {"dataset", "processed_dir", "output_json"} <= names, path.name
