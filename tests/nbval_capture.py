"""pytest plugin for the nested ``pytest --nbval-lax`` run of tests/test_notebooks.py.

nbval executes each notebook cell by cell in one kernel and keeps what the cell printed and
displayed in ``item.test_outputs``; it does not save the executed notebook. This plugin puts
those outputs back into the notebook and, at the end of the run, writes
``<stem>.executed.ipynb`` next to each notebook (the runner renders the reviewer's HTML from
it) and ``nbval-results.json`` (per notebook: cells run, failed cells with their error), so
every notebook is executed exactly once. Loaded with ``-p nbval_capture``; not a test module.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

_files: dict[str, object] = {}       # notebook path -> nbval's IPyNbFile (holds .nb)
_results: dict[str, dict] = {}       # notebook stem -> {"cells": n, "failed": [...]}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not hasattr(item, "test_outputs") or not hasattr(item, "cell_num"):
        return  # not an nbval cell
    path = Path(str(item.fspath))
    _files[str(path)] = item.parent
    res = _results.setdefault(path.stem, {"cells": 0, "failed": []})
    if call.when == "call":
        res["cells"] += 1
        item.cell.outputs = [nbformat.from_dict(o) for o in (item.test_outputs or [])]
        item.cell.execution_count = item.cell_num + 1
    if report.failed:
        res["failed"].append({"cell": item.cell_num, "when": call.when,
                              "error": report.longreprtext[-4000:]})


def pytest_sessionfinish(session, exitstatus):
    for path, nbfile in _files.items():
        nb = getattr(nbfile, "nb", None)
        if nb is not None:
            out = Path(path).with_suffix(".executed.ipynb")
            nbformat.write(nb, out)
    if _files:
        first = Path(next(iter(_files)))
        (first.parent / "nbval-results.json").write_text(json.dumps(_results, indent=2))
