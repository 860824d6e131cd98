"""What a notebook's kernel loads first: ``%load_ext churn_research.lab`` opens every notebook.

In JupyterLab it turns on IPython's autoreload in mode 2 (as cookiecutter-data-science does), so
that an edit to ``src/churn_research`` reaches a running kernel at the next cell. Under the
runner (``make reports``; the runner sets :data:`BATCH` for the notebook's kernel) it does
nothing: the package does not change during a run, autoreload's check of every imported module
before each cell costs about 20 ms a cell (0.5-1 s a stage), and a render started while a file
of the package is being edited would otherwise reload it halfway through the report.

In every kernel it first hands freed memory back to the system (:func:`return_freed_memory`):
a stage at 10^7 customers builds and drops frames of hundreds of MB one after another, and
without it the memory they held stays with the process.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

#: Set (to any non-empty value) in the environment of a kernel the runner starts.
BATCH = "CHURN_RESEARCH_BATCH"


#: Arrays at least this large (bytes) get their own memory map from glibc's allocator, which
#: unmaps them when they are freed (its default threshold; see :func:`return_freed_memory`).
MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (glibc's malloc.h)


def return_freed_memory() -> dict[str, bool]:
    """Let the kernel give freed memory back to the system, with the allocators' own settings.

    - glibc's ``malloc`` (numpy's and pandas' arrays): its threshold for a memory-mapped block
      starts at 128 KiB but, by default, rises to the size of each mapped block freed (up to
      32 MiB), so that after the first large frame is dropped the next arrays of up to 32 MiB
      come from the heap, which is not returned when they are freed. ``mallopt`` fixes the
      threshold (and turns that rise off), as ``MALLOC_MMAP_THRESHOLD_`` would at start-up.
    - Arrow (the engine's results, pandas' Arrow-backed strings): its default pool, jemalloc,
      keeps freed pages for reuse; the system allocator (above) returns them.

    Measured on 40_segments at 10^6 synthetic customers: peak 1,382 -> 1,177 MB, the same
    time. Returns which of the two took effect (neither exists on every platform: without
    glibc or without pyarrow that part is skipped)."""
    done = {"malloc": False, "arrow": False}
    try:
        libc = ctypes.CDLL("libc.so.6")
        done["malloc"] = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        pass
    try:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())
        done["arrow"] = True
    except ImportError:
        pass
    return done


def load_ipython_extension(ipython: Any) -> None:
    """IPython's hook for ``%load_ext churn_research.lab``."""
    return_freed_memory()
    if os.environ.get(BATCH):
        return
    ipython.run_line_magic("load_ext", "autoreload")
    ipython.run_line_magic("autoreload", "2")
