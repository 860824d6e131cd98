"""Temporary copies of the project for timing ``make reports`` without touching the real tree.

A copy holds the files git knows about or would pick up (``git ls-files --cached --others
--exclude-standard``: tracked files plus untracked, not ignored ones, so stage modules that are
not committed yet are included; reports, processed data and caches are not), with their
modification times, and a symlink ``.venv`` to the project's existing environment (never
rebuilt: ``make`` runs with ``-o .venv/.installed``). ``PYTHONPATH=<copy>/src`` makes the copy's
package win over the editable install, so the runner, the kernels and ``ROOT`` all point into
the copy.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._util import ROOT

#: Variables of an enclosing ``make`` that must not leak into the measured one.
_MAKE_VARS = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "MAKE_TERMOUT", "MAKE_TERMERR",
              "DATASET", "DATASETS")
ENV_STAMP = ".venv/.installed"


def project_files(root: Path = ROOT) -> list[str]:
    """Relative paths of the files a copy of the project holds."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=root, capture_output=True, check=True).stdout.decode()
    files = sorted({f for f in out.split("\0") if f})
    return [f for f in files if (root / f).is_file() and not f.startswith(("benchmarks/", "tests/"))]


def copy_project(dest: Path | None = None, *, root: Path = ROOT, prefix: str = "bench-project-") -> Path:
    """Copy the project into ``dest`` (a new temporary directory by default) and link ``.venv``."""
    dest = Path(tempfile.mkdtemp(prefix=prefix)) if dest is None else Path(dest)
    for rel in project_files(root):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)  # keeps mtimes: make sees the same freshness
    venv = root / ".venv"
    if venv.exists() and not (dest / ".venv").exists():
        (dest / ".venv").symlink_to(venv.resolve(), target_is_directory=True)
    return dest


def make_env(dest: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for ``make`` in a copy: the copy's package first, no enclosing make's flags."""
    env = dict(os.environ if base is None else base)
    for var in _MAKE_VARS:
        env.pop(var, None)
    env["PYTHONPATH"] = str(Path(dest) / "src")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


def clean(dest: Path) -> None:
    """What ``make clean`` removes (reports, build, processed data)."""
    for rel in ("reports", "build", "data/processed"):
        shutil.rmtree(Path(dest) / rel, ignore_errors=True)


def set_size(dest: Path, n_customers: int, *, dataset: str = "synthetic") -> None:
    """Set ``source_options.n_customers`` in the copy's ``params/<dataset>.yaml``."""
    import yaml

    path = Path(dest) / "params" / f"{dataset}.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    spec.setdefault("source_options", {})["n_customers"] = int(n_customers)
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")


def set_source(dest: Path, source: Path, *, dataset: str = "synthetic") -> None:
    """Point the copy's ``params/<dataset>.yaml`` at ``source`` (its ``source_options``, the
    generator's, removed: a mapping file carries its own settings)."""
    import yaml

    path = Path(dest) / "params" / f"{dataset}.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    spec["source"] = str(Path(source).resolve())
    spec.pop("source_options", None)
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")


def trivial_notebook(nb):
    """A notebook with the same parameters cell and a tiny output: the pipeline's floor.

    Keeps the original's ``parameters`` cell (papermill injects after it as usual), then one
    code cell that shows a line of Markdown and writes a one-key JSON to ``output_json``.
    No figure, no data, no package import: what remains is kernel start, papermill and the
    HTML export.
    """
    import nbformat

    params = [c for c in nb.cells if c.cell_type == "code"
              and "parameters" in c.metadata.get("tags", [])]
    out = nbformat.v4.new_notebook(metadata=nb.metadata)
    out.cells = [nbformat.v4.new_markdown_cell("# Trivial stage (benchmark floor)")]
    if params:
        cell = nbformat.v4.new_code_cell(params[0].source)
        cell.metadata["tags"] = ["parameters"]
        out.cells.append(cell)
    out.cells.append(nbformat.v4.new_code_cell(
        "import json, pathlib\n"
        "from IPython.display import Markdown, display\n"
        "display(Markdown(f\"Trivial stage for **{dataset}**.\"))\n"
        "pathlib.Path(output_json).parent.mkdir(parents=True, exist_ok=True)\n"
        "pathlib.Path(output_json).write_text(json.dumps({'trivial': True}))"))
    return out


def trivialize(dest: Path) -> list[str]:
    """Replace every ``notebooks/NN_*.ipynb`` of a copy by its trivial version."""
    import nbformat

    names = []
    for path in sorted((Path(dest) / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.write(trivial_notebook(nb), path)
        names.append(path.stem)
    return names


def stages(dest: Path) -> list[str]:
    return [p.stem for p in sorted((Path(dest) / "notebooks").glob("[0-9][0-9]_*.ipynb"))]


def run_make(dest: Path, *, target: str = "reports", jobs: int | None = 1,
             timeout: float | None = None, dataset: str = "synthetic") -> dict[str, Any]:
    """Run ``make <target>`` in a copy; wall seconds, exit status and the output's tail
    (``jobs`` None: no ``-j``, the Makefile's default, as a user types ``make reports``)."""
    cmd = ["make", *([] if jobs is None else [f"-j{int(jobs)}"]), "-o", ENV_STAMP, f"DATASET={dataset}", f"DATASETS={dataset}",
           target]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=dest, env=make_env(dest), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
        status = "ok" if proc.returncode == 0 else "failed"
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            output, _ = proc.communicate(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
        status = "timeout"
    seconds = time.perf_counter() - started
    return {"status": status, "seconds": seconds, "returncode": proc.returncode,
            "output_tail": (output or "")[-2000:], "command": " ".join(cmd)}


def stage_seconds(dest: Path, dataset: str = "synthetic") -> dict[str, Any]:
    """Per-stage seconds and peak RSS (MB; the runner's process and its notebook kernel) from
    the runner's provenance files, and failed stages."""
    import json

    folder = Path(dest) / "reports" / dataset
    out: dict[str, Any] = {"stage_seconds": {}, "stage_peak_mb": {}, "failed_stages": {}}
    for p in sorted(folder.glob("*.provenance.json")):
        info = json.loads(p.read_text())
        out["stage_seconds"][p.name.split(".")[0]] = info.get("seconds")
        out["stage_peak_mb"][p.name.split(".")[0]] = info.get("peak_mb")
    for p in sorted(folder.glob("*.failed.json")):
        info = json.loads(p.read_text())
        out["failed_stages"][p.name.split(".")[0]] = f"{info.get('cell')}: {info.get('error', '')[:200]}"
    return out
