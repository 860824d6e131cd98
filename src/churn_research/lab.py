"""What a notebook's kernel loads first: ``%load_ext churn_research.lab`` opens every notebook.

In JupyterLab it turns on IPython's autoreload in mode 2 (as cookiecutter-data-science does), so
that an edit to ``src/churn_research`` reaches a running kernel at the next cell. Under the
runner (``make reports``; the runner sets :data:`BATCH` for the notebook's kernel) it does
nothing: the package does not change during a run, autoreload's check of every imported module
before each cell costs about 20 ms a cell (0.5-1 s a stage), and a render started while a file
of the package is being edited would otherwise reload it halfway through the report.
"""

from __future__ import annotations

import os
from typing import Any

#: Set (to any non-empty value) in the environment of a kernel the runner starts.
BATCH = "CHURN_RESEARCH_BATCH"


def load_ipython_extension(ipython: Any) -> None:
    """IPython's hook for ``%load_ext churn_research.lab``."""
    if os.environ.get(BATCH):
        return
    ipython.run_line_magic("load_ext", "autoreload")
    ipython.run_line_magic("autoreload", "2")
