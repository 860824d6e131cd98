"""Run a pipeline stage (a notebook) with papermill and render it for reviewers.

Used by the Makefile::

    python -m churn_research.runner run --dataset synthetic --stage 10_indicators
    python -m churn_research.runner index

``run`` builds the stage's parameters from ``params/<dataset>.yaml``, executes
``notebooks/<stage>.ipynb`` into ``build/<dataset>/<stage>.ipynb``, and on success writes
``reports/<dataset>/<stage>.html`` (code hidden) and the tables it shows as ``<stage>.xlsx``,
keeps the ``.json`` key figures the notebook wrote, and records provenance in ``reports/<dataset>/<stage>.provenance.json``. On failure it
removes the stage's HTML, JSON and tables workbook (no report that looks current is left), writes
``<stage>.failed.json`` naming the cell and the error (values that look personal masked, also in
the executed notebook), and exits with status 1 and a message
naming the stage and the cell.

While a stage runs, ``<stage>.running.json`` (its process id) marks it; an interrupted run
(Ctrl-C, SIGTERM, SIGHUP) is recorded as failed ("interrupted"), and a run killed outright leaves
the marker, which the index shows as interrupted. The index is rebuilt on every exit path: when
the stage starts (no link to the report it deleted), when it ends in success, failure,
interruption, or a params file that does not pass its schema check
(:mod:`churn_research.runner.params`), whose error names the file, the key and the fix.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2
import nbformat
import papermill as pm
import yaml
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import TagRemovePreprocessor

from churn_research.i18n import LANGUAGES, language, n_, set_language
from churn_research.lab import BATCH
from churn_research.model import sha256, write_atomic
from churn_research.narrate.findings import StageFindings
from churn_research.personal import mask
from churn_research.runner.downloads import displayed_tables, write_tables
from churn_research.runner.findings_html import decorate_report, stage_findings
from churn_research.runner.params import (  # noqa: F401 - ParamsError: the runner's error
    PATH_KEYS,
    ParamsError,
    known_datasets,
    load_params,
    parameter_hint,
    stage_parameters,
)
from churn_research.runner.registry import readme_table, stage_names
from churn_research.runner.report import render_index

ROOT = Path(__file__).resolve().parents[3]
#: The kernel's own log is silent: its start-up warnings (e.g. "Kernel is running over TCP without
#: encryption" for a kernel on this machine's loopback) and the "ERROR | KeyboardInterrupt caught in
#: kernel" it logs when jupyter_client's shutdown (which interrupts the kernel first) catches it
#: finishing its last message are not a reviewer's or a make run's concern. A cell's error is in
#: the executed notebook, and the runner reports it.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
KEY_PACKAGES = ("churn-research", "pandas", "numpy", "scipy", "statsmodels", "scikit-learn",
                "lifelines", "matplotlib", "seaborn", "pandera", "papermill", "nbconvert")


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


class Interrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """A stage run stopped by a signal (SIGTERM, SIGHUP; SIGINT is ``KeyboardInterrupt``)."""


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(signal.Signals(signum).name)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """Inside the block SIGTERM and SIGHUP raise :class:`Interrupted` (so that ``finally``
    clauses run, as for Ctrl-C) and SIGINT raises ``KeyboardInterrupt`` even when the process
    that started the runner had it ignored (a child inherits an ignored SIGINT, and Python then
    leaves it ignored); the previous handlers afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {sig: signal.signal(sig, _raise_interrupted) for sig in (signal.SIGTERM, signal.SIGHUP)}
    before[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def show_progress(stream: Any = None, environ: dict[str, str] | None = None) -> bool:
    """Whether a stage shows its progress (cell n of N): only when ``stream`` (stdout) is a
    terminal, never in CI (``CI`` set) or when output is piped or logged, and not when make runs
    stages side by side (``make -j2``: two progress lines would overwrite each other)."""
    stream = sys.stdout if stream is None else stream
    environ = os.environ if environ is None else environ
    if environ.get("CI") or environ.get("TERM") == "dumb":
        return False
    if re.search(r"(?:^|\s)(?:-j(?!1(?:\s|$))|--jobserver)", environ.get("MAKEFLAGS", "")):
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress_bar(dataset: str, stage: str, stream: Any = None) -> dict[str, Any] | bool:
    """papermill's ``progress_bar`` for a stage: one line rewritten in place,
    ``synthetic/10_indicators: cell 12 of 40``, cleared when the stage ends; ``False`` (no
    progress) unless :func:`show_progress`."""
    stream = sys.stdout if stream is None else stream
    if not show_progress(stream):
        return False
    name = f"{dataset}/{stage}".replace("{", "{{").replace("}", "}}")
    return {"bar_format": name + ": cell {n} of {total}", "file": stream, "leave": False,
            "mininterval": 0.5}


def duration(seconds: float) -> str:
    """``12.3 s``, ``3 min 12 s``, ``1 h 5 min``: a run's time for the console."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def total_line(since: float, *, root: Path = ROOT, now: float | None = None) -> str:
    """The last line of ``make reports``: how many stages were rendered since ``since`` (a
    stage's provenance is written when it is rendered) and the time since then."""
    reports = root / "reports"
    rendered = sum(1 for f in reports.glob("*/*.provenance.json") if f.stat().st_mtime >= since)
    took = duration((time.time() if now is None else now) - since)
    index = (reports / "index.html").relative_to(root)
    if not rendered:
        return f"make reports: no stage rendered; {index} rebuilt in {took}"
    stages = "1 stage" if rendered == 1 else f"{rendered} stages"
    return f"make reports: {stages} rendered in {took}; {index}"


def run_stage(dataset: str, stage: str, *, root: Path = ROOT, quiet: bool = False) -> Path:
    """Execute one stage and render its report; see the module docstring. Whatever happens
    (success, a failing cell, an interrupt, a params file that fails its check), the index is
    rebuilt before this returns or raises."""
    if stage not in stage_names():
        raise SystemExit(f"unknown stage '{stage}': use one of {', '.join(stage_names())}.")
    try:
        with _signals_interrupt():
            return _run_stage(dataset, stage, root=root, quiet=quiet)
    finally:
        _rebuild_index(root)


def _rebuild_index(root: Path) -> None:
    """:func:`build_index`, never raising (it must not hide the error that ends the run)."""
    if not (root / "reports").is_dir():
        return
    for attempt in range(3):
        try:
            build_index(root=root)
            return
        except FileNotFoundError as exc:
            # under make -j another stage deletes its stale report files as it starts, between
            # this build's listing and its reading them: read again; if it keeps racing, that
            # stage rebuilds the index when it ends
            if attempt < 2:
                time.sleep(0.2)
                continue
            if any((root / "reports").glob("*/*.running.json")):
                return
            problem: BaseException = exc
        except BaseException as exc:  # noqa: BLE001 - reported, never raised over the run's own error
            problem = exc
        print(f"warning: reports/index.html not rebuilt: {type(problem).__name__}: {problem}",
              file=sys.stderr)
        return


def peak_rss_mb() -> float | None:
    """The largest peak resident set size (MB) of this process and of the children it has
    waited for (the notebook's kernel): a stage's peak memory. None where ``resource`` is
    missing (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
             resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KB on Linux
    return round(kb / scale, 1)


def _compile_package() -> None:
    """Write the package's bytecode where it is missing or stale, for the notebook's kernel and
    the next stages: with ``PYTHONDONTWRITEBYTECODE`` set (as on this project's machines)
    Python never writes it, and every kernel would compile the package again (about 1 s).
    Up to date, this takes a few hundredths of a second; it never fails a stage."""
    import compileall  # noqa: PLC0415

    try:
        compileall.compile_dir(str(Path(__file__).resolve().parents[1]), quiet=2, workers=1)
    except Exception:  # noqa: BLE001 - a read-only install: the kernel compiles in memory
        pass


def _run_stage(dataset: str, stage: str, *, root: Path, quiet: bool) -> Path:
    notebook = root / "notebooks" / f"{stage}.ipynb"
    if not notebook.exists():
        raise SystemExit(f"no notebook {notebook.relative_to(root)} for stage '{stage}'.")
    params = stage_parameters(dataset, stage, root=root)
    out_dir = root / "reports" / dataset
    out_dir.mkdir(parents=True, exist_ok=True)
    html, key_json = out_dir / f"{stage}.html", out_dir / f"{stage}.json"
    failed, prov = out_dir / f"{stage}.failed.json", out_dir / f"{stage}.provenance.json"
    findings_json, log = out_dir / f"{stage}.findings.json", out_dir / f"{stage}.log"
    running, tables = out_dir / f"{stage}.running.json", out_dir / f"{stage}.xlsx"
    write_atomic(running, json.dumps({"dataset": dataset, "stage": stage, "pid": os.getpid(),
                                      "started": _now()}))
    for stale in (html, key_json, prov, failed, findings_json, log, tables):  # nothing may look current while it runs
        stale.unlink(missing_ok=True)
    executed = root / "build" / dataset / f"{stage}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    # the project's own kernel: ignore kernelspecs a user may have installed elsewhere
    os.environ.setdefault("JUPYTER_DATA_DIR", str(Path(sys.prefix) / "share" / "jupyter"))
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    # relative paths in the params file (`source: data/raw/x`) are read from this root
    root_before = os.environ.get("CHURN_RESEARCH_ROOT")
    os.environ["CHURN_RESEARCH_ROOT"] = str(root)
    # the kernel runs a batch: `%load_ext churn_research.lab` leaves autoreload off
    batch_before = os.environ.get(BATCH)
    os.environ[BATCH] = "1"
    # written when the run ends (papermill's save after every cell cost ~1.5 s a stage): an
    # executed notebook from an earlier run must not pass for this one's
    executed.unlink(missing_ok=True)
    _compile_package()
    started = time.perf_counter()
    if not quiet:
        print(f"{dataset}/{stage}: running {notebook.relative_to(root)}", flush=True)
    try:
        _rebuild_index(root)  # the index shows the stage running, not a deleted report as ok
        try:
            pm.execute_notebook(str(notebook), str(executed), parameters=params,
                                cwd=str(notebook.parent), kernel_name="python3",
                                progress_bar=not quiet and progress_bar(dataset, stage),
                                log_output=False, report_mode=True,
                                request_save_on_cell_execute=False,
                                extra_arguments=KERNEL_ARGUMENTS)
        except Exception as exc:  # noqa: BLE001 - any failure must be reported the same way
            cell, text = _failure_location(exc, executed)
            # a parameter's value that does not fit the data: say where to change it
            named = re.search(r"Parameter `([\w.]+)`", text)
            hint = parameter_hint(dataset, stage, named.group(1), root=root) if named else ""
            _mask_errors(executed)
            key_json.unlink(missing_ok=True)
            tables.unlink(missing_ok=True)
            # papermill writes it at a cell's error; a kernel that died (out of memory) leaves none
            kept = {"executed_notebook": str(executed.relative_to(root))} if executed.exists() else {}
            failed.write_text(json.dumps({
                "dataset": dataset, "stage": stage, "cell": cell, "error": text[:2000],
                **({"fix": hint} if hint else {}), **kept,
                "time": _now(), "git_commit": git_commit(root),
            }, indent=2))
            raise SystemExit(f"stage {stage} (dataset {dataset}) FAILED in {cell}: "
                             f"{text.splitlines()[0] if text else ''}\n"
                             + (f"  {hint}\n" if hint else "") +
                             (f"  executed notebook with the traceback: {kept['executed_notebook']}"
                              if kept else "  no executed notebook: the kernel died (e.g. out of "
                              "memory) or never started")
                             ) from None
        set_language(params.get("language"))
        if findings_json.exists():  # built by the kernel as it saved its key figures
            found = StageFindings.read(findings_json)
        else:
            found = stage_findings(dataset, stage, key_json=key_json,
                                   processed_dir=Path(params["processed_dir"]),
                                   params_file=root / "params" / f"{dataset}.yaml")
        render_html(executed, html, dataset=dataset, stage=stage, found=found)
        elapsed = time.perf_counter() - started
        warnings = _warning_count(log)
        write_atomic(prov, json.dumps({
            "dataset": dataset, "stage": stage,
            "git_commit": git_commit(root),
            "parameters": {k: v for k, v in params.items() if k not in PATH_KEYS},
            "input_checksums": _input_checksums(params),
            "package_versions": versions(),
            "seconds": round(elapsed, 2),
            "peak_mb": peak_rss_mb(),
            "warnings": warnings,
            "finished": _now(),
        }, indent=2, sort_keys=True, default=str))
    except (KeyboardInterrupt, Interrupted) as exc:
        name = str(exc) if isinstance(exc, Interrupted) else "SIGINT (Ctrl-C)"
        for partial in (html, key_json, prov, findings_json, tables):
            partial.unlink(missing_ok=True)
        failed.write_text(json.dumps({
            "dataset": dataset, "stage": stage, "cell": "the run", "interrupted": True,
            "error": f"interrupted by {name} after {time.perf_counter() - started:.0f} s",
            "time": _now(), "git_commit": git_commit(root),
        }, indent=2))
        print(f"stage {stage} (dataset {dataset}) INTERRUPTED by {name}; no report.",
              file=sys.stderr)
        raise
    finally:
        running.unlink(missing_ok=True)
        for name, before in (("CHURN_RESEARCH_ROOT", root_before), (BATCH, batch_before)):
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before
    if not quiet:
        print(f"{dataset}/{stage}: rendered {html.relative_to(root)} in {duration(elapsed)}")
    return html


def check(datasets: list[str] | None = None, *, root: Path = ROOT) -> list[str]:
    """Check ``params/<dataset>.yaml`` of each of ``datasets`` (default: every params file)
    against its schema, including that a ``source:`` path exists; one line per file that passes,
    :class:`~churn_research.runner.params.ParamsError` (or the message for a missing file) for
    the first that does not."""
    lines = []
    for dataset in datasets or known_datasets(root):
        spec = load_params(dataset, root=root, check_files=True)
        lines.append(f"params/{dataset}.yaml: ok (source: {spec.get('source', 'synthetic')})")
    return lines


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


#: a cell's input wrapper or output area in the ``lab`` template (a class among others, not as a
#: prefix: ``jp-OutputArea-output-x`` is not one)
_FOCUSABLE = re.compile(r'(<div class="[^"]*(?<![\w-])(?:jp-Cell-inputWrapper|jp-OutputArea-output)'
                        r'(?![\w-])[^"]*")')

#: a numeric character reference (nbconvert's Markdown headings write Chinese text as ``&#27969;``)
_CHARREF = re.compile(r"&#(?:([0-9]+)|[xX]([0-9a-fA-F]+));")


def _character(m: re.Match) -> str:
    """The character a numeric reference stands for, as BeautifulSoup's pass wrote it (markup
    characters and invalid code points stay references)."""
    code = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF or code < 0x20 or chr(code) in "<>&\"'":
        return m.group(0)
    return chr(code)


class ReportExporter(HTMLExporter):
    """nbconvert's HTML exporter (``lab`` template) without three costs a report does not need.

    Measured on synthetic 30_survival (a 3.9 MB page): the export took about 1.8 s, this one
    about 0.5 s; a stage's render is on the critical path of every ``make reports``.

    - nbconvert's :meth:`HTMLExporter.from_notebook_node` re-parses the whole page with
      BeautifulSoup's pure-Python parser only to add a generic alt text to images and
      ``tabindex="0"`` to input and output areas. :func:`decorate_report` writes each figure's
      own alt text (from its section). Here one regular expression adds the ``tabindex`` (a
      wide table can be scrolled from the keyboard) and another writes numeric character
      references (Markdown headings' Chinese text) as the characters that pass wrote. The rest
      of that method is kept as nbconvert writes it (the two filters it registers).
    - the notebook is validated once after all preprocessors (nbconvert's
      ``optimistic_validation``) rather than after each of them; :func:`render_html` read it
      through :func:`nbformat.read`, which validates it too.
    - the ``lab`` template's nine Jinja files are compiled once per machine, not once per stage:
      Jinja's own file-system bytecode cache (a per-user directory in the temporary directory,
      written atomically, keyed by the template's name and checked against its source).
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(optimistic_validation=True, **kw)
        self.environment.bytecode_cache = jinja2.FileSystemBytecodeCache()

    def from_notebook_node(self, nb, resources=None, **kw):  # noqa: D102 - see the class
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        html = _CHARREF.sub(_character, _FOCUSABLE.sub(r'\1 tabindex="0"', html))
        return html, resources


def render_html(executed: Path, html: Path, *, dataset: str | None = None, stage: str | None = None,
                found: StageFindings | None = None) -> Path:
    """Render an executed notebook to HTML with code hidden (reviewers read findings only).

    With ``dataset`` and ``stage``, the page is titled after them, its figures get alt text, and
    ``found`` (the stage's findings) opens the report as its Findings box. Warnings and other
    stderr output go to ``<stage>.log`` beside the report (:func:`move_stderr_to_log`), and the
    report ends with one line saying how many there were. The tables the report shows go to
    ``<stage>.xlsx`` beside it (:mod:`churn_research.runner.downloads`; none: no file), which the
    report links at its top.
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
    workbook = write_tables(displayed_tables(nb, hidden=hidden), html.with_suffix(".xlsx"))
    exporter = ReportExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                              exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=hidden, enabled=True),
                                   enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    if dataset is not None and stage is not None:
        body = decorate_report(body, dataset=dataset, stage=stage, found=found, tables=workbook)
    return write_atomic(html, body)


def build_index(*, root: Path = ROOT) -> Path:
    """Write each dataset's ``summary.html`` and ``reports/index.html`` linking every report
    (one process at a time: ``make -j2`` runs stages side by side, each rebuilding it)."""
    reports = root / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    with open(reports / ".index.lock", "w") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # not POSIX: no lock
            pass
        return render_index(reports)


def main(argv: list[str] | None = None) -> int:
    """The command line: ``churn-research`` (console script), ``python -m churn_research`` or
    ``python -m churn_research.runner``."""
    parser = argparse.ArgumentParser(
        prog="churn-research",
        description="Run the churn-research pipeline's stages, check parameters, rebuild the "
                    "index. `make reports` runs every stage of the chosen datasets in order.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute one stage notebook and render its report")
    run.add_argument("--dataset", required=True)
    run.add_argument("--stage", required=True)
    idx = sub.add_parser("index", help="rebuild reports/index.html")
    idx.add_argument("--total-since", type=float, metavar="EPOCH",
                     help="(make) print the stages rendered since then and the time taken")
    sub.add_parser("stages", help="print the table of stages (the README's)")
    chk = sub.add_parser("check", help="check params/<dataset>.yaml against its schema")
    chk.add_argument("--dataset", action="append",
                     help="the dataset (repeatable; default: every params/*.yaml)")
    par = sub.add_parser("params", help="print a stage's parameters (--reference: every key)")
    par.add_argument("--dataset")
    par.add_argument("--stage")
    par.add_argument("--reference", action="store_true",
                     help="print docs/parameters.md (every key: stages, type, default, meaning), "
                          "generated from the notebooks' parameters cells")
    new = sub.add_parser("new-dataset", help="scaffold params/NAME.yaml and mapping.yaml from data")
    new.add_argument("name", help="the dataset's name (params/NAME.yaml)")
    new.add_argument("--from", dest="source", metavar="DIR",
                     help="the directory holding your files (default: data/raw/NAME)")
    new.add_argument("--force", action="store_true",
                     help="overwrite an existing params file and mapping")
    args = parser.parse_args(argv)
    if args.command == "run":
        try:
            run_stage(args.dataset, args.stage)
        except KeyboardInterrupt:
            return 130                      # the shell's status for SIGINT
        except Interrupted:
            return 143                      # ... and for SIGTERM / SIGHUP
    elif args.command == "index":
        wrote = build_index()
        print(total_line(args.total_since) if args.total_since is not None
              else f"wrote {wrote.relative_to(ROOT)}")
    elif args.command == "stages":
        print(readme_table())
    elif args.command == "check":
        for dataset in args.dataset or [None]:
            print("\n".join(check([dataset] if dataset else None)))
    elif args.command == "new-dataset":
        from churn_research.runner.newdataset import new_dataset  # noqa: PLC0415 - reads files

        new_dataset(args.name, args.source, force=args.force)
    elif args.reference:
        from churn_research.runner.reference import reference_markdown  # noqa: PLC0415

        print(reference_markdown(), end="")
    elif not (args.dataset and args.stage):
        parser.error("params needs --dataset and --stage (or --reference)")
    else:
        print(yaml.safe_dump(stage_parameters(args.dataset, args.stage), sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
