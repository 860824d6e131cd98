"""Run a pipeline stage (a notebook) with papermill and render it for reviewers.

Used by the Makefile::

    python -m churn_research.runner run --dataset synthetic --stage 10_indicators
    python -m churn_research.runner index

``run`` builds the stage's parameters from ``params/<dataset>.yaml``, executes
``notebooks/<stage>.ipynb`` into ``build/<dataset>/<stage>.ipynb``, and on success writes
``reports/<dataset>/<stage>.html`` (code hidden), keeps the ``.json`` key figures the notebook
wrote, and records provenance in ``reports/<dataset>/<stage>.provenance.json``. On failure it
removes the stage's HTML and JSON (no report that looks current is left), writes
``<stage>.failed.json`` naming the cell and the error (values that look personal masked), rebuilds the index (which shows the
failure), and exits with status 1 and a message naming the stage and the cell.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
import yaml
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from churn_research.i18n import LANGUAGES, language, n_, resolve_language, set_language
from churn_research.model import write_atomic
from churn_research.narrate.findings import StageFindings
from churn_research.personal import mask
from churn_research.runner.findings_html import decorate_report, stage_findings
from churn_research.runner.registry import readme_table, stage_names
from churn_research.runner.report import render_index
from churn_research.sources import sha256

ROOT = Path(__file__).resolve().parents[3]
KEY_PACKAGES = ("churn-research", "pandas", "numpy", "scipy", "statsmodels", "scikit-learn",
                "lifelines", "matplotlib", "seaborn", "pandera", "papermill", "nbconvert")


def notebook_parameters(notebook: Path) -> set[str]:
    """The names a notebook's ``parameters`` cell assigns (what papermill may override)."""
    nb = nbformat.read(notebook, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        return set()
    names = set()
    for node in ast.parse(cell.source).body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def stage_parameters(dataset: str, stage: str, *, root: Path = ROOT) -> dict[str, Any]:
    """The parameters papermill injects into ``stage`` for ``dataset``.

    The common keys of ``params/<dataset>.yaml`` (outside ``stages``) that the stage's notebook
    declares in its ``parameters`` cell (so ``tier_rules`` reaches both 40_segments and 50_clv,
    and ``source`` only 00_data), the keys of its ``stages: <stage>:`` section, and the paths
    ``processed_dir`` and ``output_json``.
    """
    path = root / "params" / f"{dataset}.yaml"
    if not path.exists():
        raise SystemExit(f"no parameters for dataset '{dataset}': create {path.relative_to(root)} "
                         "(copy params/synthetic.yaml and set `source:`).")
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    stages = spec.pop("stages", {}) or {}
    notebook = root / "notebooks" / f"{stage}.ipynb"
    declared = notebook_parameters(notebook) if notebook.exists() else set()
    params = {k: v for k, v in spec.items() if k in declared}
    params.update(stages.get(stage) or {})
    if "language" in declared:  # REPORT_LANG (a one-off rendering) wins over the params file
        params["language"] = resolve_language(params.get("language"))
    params["dataset"] = dataset
    params["processed_dir"] = str(root / "data" / "processed" / dataset)
    params["output_json"] = str(root / "reports" / dataset / f"{stage}.json")
    return params


def git_commit(root: Path = ROOT) -> str:
    """Short commit of ``root``, with ``+dirty`` when tracked files have changes."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                             capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               text=True, capture_output=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def versions(names=KEY_PACKAGES) -> dict[str, str]:
    """Python and installed versions of ``names`` (the key packages by default)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _input_checksums(params: dict[str, Any]) -> dict[str, str]:
    """sha256 of the processed inputs (and the raw checksums recorded by 00_data)."""
    processed = Path(params["processed_dir"])
    sums = {}
    if processed.exists():
        for f in sorted(processed.glob("*.parquet")):
            sums[f"processed/{f.name}"] = sha256(f)
        meta = processed / "meta.json"
        if meta.exists():
            for name, digest in (json.loads(meta.read_text()).get("checksums") or {}).items():
                sums[f"raw/{name}"] = digest
    return sums


def _mask_errors(executed: Path) -> None:
    """Mask personal-looking values (:func:`churn_research.personal.mask`) in the error outputs
    of the executed notebook: a library's message may quote a cell's value."""
    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:  # noqa: BLE001 - the kernel may never have started
        return
    changed = False
    for c in nb.cells:
        for out in c.get("outputs", []):
            if out.get("output_type") == "error":
                masked = [mask(line) for line in out.get("traceback", [])]
                evalue = mask(out.get("evalue", ""))
                changed |= masked != out.get("traceback", []) or evalue != out.get("evalue", "")
                out["traceback"], out["evalue"] = masked, evalue
    if changed:
        nbformat.write(nb, executed)


def _failure_location(exc: BaseException, executed: Path) -> tuple[str, str]:
    """(cell description, error text) for a papermill execution error; personal-looking
    values in the text are masked."""
    cell = "unknown cell"
    text = f"{type(exc).__name__}: {exc}"
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        text = f"{ename}: {evalue}"
    try:
        nb = nbformat.read(executed, as_version=4)
        # number cells as in the committed notebook (without papermill's injected cell)
        code_cells = [c for c in nb.cells if c.cell_type == "code"
                      and "injected-parameters" not in c.metadata.get("tags", [])]
        for number, c in enumerate(code_cells, start=1):
            if any(o.get("output_type") == "error" for o in c.get("outputs", [])):
                first = next((ln for ln in c.source.splitlines() if ln.strip()), "")
                cell = f"code cell {number} (`{first[:70]}`)"
                break
    except Exception:  # the executed notebook may not exist if the kernel never started
        pass
    return mask(cell), mask(text)


def run_stage(dataset: str, stage: str, *, root: Path = ROOT, quiet: bool = False) -> Path:
    """Execute one stage and render its report; see the module docstring."""
    if stage not in stage_names():
        raise SystemExit(f"unknown stage '{stage}': use one of {', '.join(stage_names())}.")
    notebook = root / "notebooks" / f"{stage}.ipynb"
    if not notebook.exists():
        raise SystemExit(f"no notebook {notebook.relative_to(root)} for stage '{stage}'.")
    params = stage_parameters(dataset, stage, root=root)
    out_dir = root / "reports" / dataset
    out_dir.mkdir(parents=True, exist_ok=True)
    html, key_json = out_dir / f"{stage}.html", out_dir / f"{stage}.json"
    failed, prov = out_dir / f"{stage}.failed.json", out_dir / f"{stage}.provenance.json"
    findings_json, log = out_dir / f"{stage}.findings.json", out_dir / f"{stage}.log"
    for stale in (html, key_json, prov, failed, findings_json, log):  # nothing may look current while it runs
        stale.unlink(missing_ok=True)
    executed = root / "build" / dataset / f"{stage}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    # the project's own kernel: ignore kernelspecs a user may have installed elsewhere
    os.environ.setdefault("JUPYTER_DATA_DIR", str(Path(sys.prefix) / "share" / "jupyter"))
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    started = time.perf_counter()
    try:
        pm.execute_notebook(str(notebook), str(executed), parameters=params,
                            cwd=str(notebook.parent), kernel_name="python3",
                            progress_bar=False, log_output=False, report_mode=True)
    except Exception as exc:  # noqa: BLE001 - any failure must be reported the same way
        cell, text = _failure_location(exc, executed)
        _mask_errors(executed)
        key_json.unlink(missing_ok=True)
        failed.write_text(json.dumps({
            "dataset": dataset, "stage": stage, "cell": cell, "error": text[:2000],
            "executed_notebook": str(executed.relative_to(root)),
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "git_commit": git_commit(root),
        }, indent=2))
        build_index(root=root)
        raise SystemExit(f"stage {stage} (dataset {dataset}) FAILED in {cell}: "
                         f"{text.splitlines()[0] if text else ''}\n"
                         f"  executed notebook with the traceback: {executed.relative_to(root)}"
                         ) from None
    set_language(params.get("language"))
    found = stage_findings(dataset, stage, key_json=key_json,
                           processed_dir=Path(params["processed_dir"]),
                           params_file=root / "params" / f"{dataset}.yaml")
    render_html(executed, html, dataset=dataset, stage=stage, found=found)
    elapsed = time.perf_counter() - started
    warnings = _warning_count(log)
    prov.write_text(json.dumps({
        "dataset": dataset, "stage": stage,
        "git_commit": git_commit(root),
        "parameters": {k: v for k, v in params.items() if k not in ("processed_dir", "output_json")},
        "input_checksums": _input_checksums(params),
        "package_versions": versions(),
        "seconds": round(elapsed, 2),
        "warnings": warnings,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }, indent=2, sort_keys=True, default=str))
    if not quiet:
        print(f"{dataset}/{stage}: rendered {html.relative_to(root)} in {elapsed:.1f} s")
    return html


#: Separates the stderr of two cells in a stage's log.
_LOG_SEPARATOR = "\n--- {cell} ---\n"


def move_stderr_to_log(nb, log: Path) -> int:
    """Take every stderr output (warnings, library chatter) out of the executed notebook ``nb``
    and write it to ``log``; return how many warning messages it held (0: no log written).

    Reviewers read findings, not a library's warnings: the report shows one line saying the log
    exists (:func:`render_html`), the provenance counts them.
    """
    parts, count = [], 0
    for number, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1):
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = "".join(out.get("text", ""))
                parts.append(_LOG_SEPARATOR.format(cell=f"code cell {number}") + text)
                count += _messages(text)
            else:
                kept.append(out)
        cell["outputs"] = kept
    if parts:
        write_atomic(log, "".join(parts).lstrip("\n"))
    return count


def _messages(text: str) -> int:
    """Messages in one cell's stderr: its warnings, or 1 for other output."""
    return max(1, sum("Warning" in line for line in text.splitlines()))


def _warning_count(log: Path) -> int:
    """Warning messages in a stage's log (0 without a log), counted as :func:`move_stderr_to_log`
    counted them."""
    if not log.exists():
        return 0
    chunks = log.read_text(encoding="utf-8").split("\n--- ")
    return sum(_messages("\n".join(c.splitlines()[1:])) for c in chunks if c.strip())


def render_html(executed: Path, html: Path, *, dataset: str | None = None, stage: str | None = None,
                found: StageFindings | None = None) -> Path:
    """Render an executed notebook to HTML with code hidden (reviewers read findings only).

    With ``dataset`` and ``stage``, the page is titled after them, its figures get alt text, and
    ``found`` (the stage's findings) opens the report as its Findings box. Warnings and other
    stderr output go to ``<stage>.log`` beside the report (:func:`move_stderr_to_log`), and the
    report ends with one line saying how many there were.
    """
    nb = nbformat.read(executed, as_version=4)
    log = html.with_suffix(".log")
    log.unlink(missing_ok=True)
    warned = move_stderr_to_log(nb, log)
    if warned:
        note = n_("This stage wrote {n} warning message to its log ([{log}]({log})).",
                  "This stage wrote {n} warning messages to its log ([{log}]({log})).",
                  warned, log=log.name)
        nb.cells.append(nbformat.v4.new_markdown_cell(note))
    # papermill's injected-parameters cell and the parameters cell are for researchers; markdown
    # cells are written in each language (tags lang-en / lang-zh): keep the report's language
    hidden = {"parameters", "injected-parameters"} | {f"lang-{code}" for code in LANGUAGES
                                                     if code != language()}
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=hidden, enabled=True),
                                   enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    if dataset is not None and stage is not None:
        body = decorate_report(body, dataset=dataset, stage=stage, found=found)
    return write_atomic(html, body)


def build_index(*, root: Path = ROOT) -> Path:
    """Write each dataset's ``summary.html`` and ``reports/index.html`` linking every report."""
    return render_index(root / "reports")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m churn_research.runner")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute one stage notebook and render its report")
    run.add_argument("--dataset", required=True)
    run.add_argument("--stage", required=True)
    sub.add_parser("index", help="rebuild reports/index.html")
    sub.add_parser("stages", help="print the table of stages (the README's)")
    par = sub.add_parser("params", help="print the parameters a stage receives")
    par.add_argument("--dataset", required=True)
    par.add_argument("--stage", required=True)
    args = parser.parse_args(argv)
    if args.command == "run":
        run_stage(args.dataset, args.stage)
    elif args.command == "index":
        print(f"wrote {build_index().relative_to(ROOT)}")
    elif args.command == "stages":
        print(readme_table())
    else:
        print(yaml.safe_dump(stage_parameters(args.dataset, args.stage), sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
