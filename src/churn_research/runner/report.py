"""Key-figure JSON and the reports index (titles and extra outputs from the stage registry).

Each stage notebook ends with :func:`save_key_figures`, which writes a *flat* JSON object
(``{"churn_rate_overall": 0.21, "its.level_change": 0.38, ...}``) that machines can read and
the index can show.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn_research.i18n import _, language, normalise_language, resolve_language, t
from churn_research.lab import BATCH
from churn_research.model import sha256, write_atomic
from churn_research.runner.findings_html import (
    PRINT_CSS,
    dataset_language,
    html_lang,
    in_language,
    render_summary,
    stage_findings,
)
from churn_research.runner.params import reported_parameters
from churn_research.runner.registry import stage as registry_stage
from churn_research.runner.registry import stage_names


def _scalar(value: Any) -> Any:
    """Convert numpy / pandas scalars to plain JSON values (NaN and NaT become null)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (pd.Timestamp, _dt.date, np.datetime64)):
        return str(pd.Timestamp(value).date()) if pd.Timestamp(value) == pd.Timestamp(value).normalize() \
            else pd.Timestamp(value).isoformat()
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, str):
        return value
    return str(value)


def flatten(figures: Mapping[str, Any], prefix: str = "", sep: str = ".") -> dict[str, Any]:
    """Flatten nested mappings (and Series / lists of scalars) into ``{"a.b": value}``.

    Lists of scalars stay lists; a DataFrame becomes a list of row records.
    """
    out: dict[str, Any] = {}
    for key, value in figures.items():
        name = f"{prefix}{sep}{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(flatten(value, name, sep))
        elif isinstance(value, pd.Series):
            out.update(flatten(value.to_dict(), name, sep))
        elif isinstance(value, pd.DataFrame):
            out[name] = [{str(k): _scalar(v) for k, v in row.items()}
                         for row in value.to_dict(orient="records")]
        elif isinstance(value, (list, tuple, np.ndarray)):
            out[name] = [_scalar(v) if not isinstance(v, Mapping)
                         else {str(k): _scalar(x) for k, x in v.items()} for v in value]
        else:
            out[name] = _scalar(value)
    return out


def save_key_figures(figures: Mapping[str, Any], path: str | Path) -> dict[str, Any]:
    """Write a stage's key figures as flat, sorted JSON and return the flat dict. Under the
    runner (``make reports``) the stage's findings are built here too, beside them
    (:func:`_findings_in_kernel`)."""
    flat = flatten(figures)
    write_atomic(path, json.dumps(flat, indent=2, sort_keys=True, ensure_ascii=False))
    _findings_in_kernel(Path(path))
    return flat


def _findings_in_kernel(key_json: Path) -> None:
    """Write ``<stage>.findings.json`` beside ``key_json`` when the runner runs the notebook
    (it sets ``CHURN_RESEARCH_BATCH`` and ``CHURN_RESEARCH_ROOT``): the kernel has the stage's
    package imported already, while the runner would import it only to build them (0.8-2 s a
    stage). The runner reads the file, and builds the findings itself when there is none (a
    notebook run another way)."""
    root = os.environ.get("CHURN_RESEARCH_ROOT")
    if not os.environ.get(BATCH) or not root:
        return
    dataset, stage = key_json.parent.name, key_json.stem
    stage_findings(dataset, stage, key_json=key_json,
                   processed_dir=Path(root) / "data" / "processed" / dataset,
                   params_file=Path(root) / "params" / f"{dataset}.yaml")


# ----------------------------------------------------------------------------------------
# the reports index
# ----------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:72rem;
     color:#222;line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem} h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;margin:.6rem 0}
td,th{border-bottom:1px solid #eee;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f6f6} .ok{color:#1a7f37;font-weight:600} .failed{color:#cf222e;font-weight:600}
.stale,.running{color:#9a6700;font-weight:600}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
details{margin:.2rem 0} .muted{color:#666;font-size:.9em}
.scroll{overflow-x:auto}
@media (max-width:600px){body{margin:1rem auto} table,tbody,tr,td{display:block;width:100%}
  tr:first-child{display:none} tr{border-bottom:1px solid #ddd;padding:.4rem 0} td{border:0;padding:.1rem 0}}
""" + PRINT_CSS



def _dataset_order(name: str) -> tuple[int, str]:
    return (0 if name == "synthetic" else 1, name)


def _headline(ds: Path, stage: str) -> tuple[str, str]:
    """(headline, checked against) from the stage's findings, or ("", "")."""
    path = ds / f"{stage}.findings.json"
    if not path.exists():
        return "", ""
    found = json.loads(path.read_text(encoding="utf-8"))
    return found.get("headline", ""), found.get("checked_against") or ""


def index_language(reports: str | Path) -> str:
    """The language of ``reports/index.html``: ``REPORT_LANG`` when set, else the language every
    rendered dataset shares (:func:`~churn_research.runner.findings_html.dataset_language`), else
    English."""
    if os.environ.get("REPORT_LANG"):
        return resolve_language()
    found = {dataset_language(p) for p in Path(reports).iterdir() if p.is_dir() and p.name != "bench"}
    found.discard(None)
    return found.pop() if len(found) == 1 else "en"


def _cell(where: str) -> str:
    """``code cell 3`` (the runner's name of a failed cell) in the report language."""
    m = re.fullmatch(r"code cell (\d+)(.*)", where, re.S)
    return t("code cell {n}", n=m.group(1)) + m.group(2) if m else where


def _alive(pid: Any) -> bool:
    """Whether process ``pid`` is running (on this machine)."""
    try:
        pid = int(pid)
        if pid <= 0:  # 0 and negatives name process groups
            return False
        os.kill(pid, 0)
    except (ProcessLookupError, ValueError, TypeError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def _normal(value: Any) -> Any:
    """``value`` as its provenance JSON holds it (dates as text, sorted keys)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def stale_reasons(reports: Path, dataset: str, stage: str, *,
                  report_lang: str | None = None) -> list[str]:
    """Why the rendered report of ``stage`` no longer reflects its inputs (empty: it does).

    For a reports folder inside a project (``reports/../notebooks`` exists): the report file is
    missing; the stage's notebook is newer than its report; the processed data (the analysis
    stages' input) were rewritten after it with different contents; or its recorded parameters
    differ from what ``params/<dataset>.yaml`` gives it now, with ``report_lang`` (the
    ``REPORT_LANG`` of this rendering) as its language when given (or that file no longer reads). A
    change of the params file that leaves the stage's own parameters alone (a comment, another
    stage's section) does not make it stale.
    """
    reports = Path(reports)
    ds, root = reports / dataset, reports.parent
    html_file, prov_file = ds / f"{stage}.html", ds / f"{stage}.provenance.json"
    if not html_file.exists():
        return [_("its report file is missing")]
    notebooks = root / "notebooks"
    if not notebooks.is_dir() or stage not in stage_names():
        return []
    reasons = []
    made = prov_file.stat().st_mtime
    notebook = notebooks / f"{stage}.ipynb"
    if notebook.exists() and notebook.stat().st_mtime > made:
        reasons.append(t("{file} changed after it was rendered", file=f"notebooks/{stage}.ipynb"))
    prov = json.loads(prov_file.read_text(encoding="utf-8"))
    processed = root / "data" / "processed" / dataset
    if stage != "00_data" and processed.is_dir():
        recorded = {k: v for k, v in (prov.get("input_checksums") or {}).items()
                    if k.startswith("processed/")}
        newer = [f for f in processed.glob("*.parquet") if f.stat().st_mtime > made]
        current = {f"processed/{f.name}": None for f in processed.glob("*.parquet")}
        if newer or set(current) != set(recorded):
            current = {k: sha256(processed / k.split("/", 1)[1]) for k in current}
            if current != recorded:
                reasons.append(t("the processed data of {dataset} changed after it was rendered "
                                 "(00_data ran again)", dataset=dataset))
    params_file = f"params/{dataset}.yaml"
    try:
        now = reported_parameters(dataset, stage, root=root, check_files=False)
    except SystemExit as exc:
        first = str(exc).splitlines()[0]
        reasons.append(t("{file} has an error: {error}", file=params_file, error=first[:200]))
    else:
        if report_lang and "language" in now:
            now["language"] = normalise_language(report_lang)
        was = _normal(prov.get("parameters") or {})
        changed = sorted(k for k in set(_normal(now)) | set(was)
                         if _normal(now).get(k) != was.get(k))
        if changed:
            reasons.append(t("its parameters in {file} changed: {keys}", file=params_file,
                             keys=", ".join(changed)))
    return reasons


def _running(info: dict[str, Any]) -> bool:
    return _alive(info.get("pid"))


def render_index(reports: str | Path) -> Path:
    """Write each dataset's ``summary.html`` and ``reports/index.html``, the landing page: per dataset (synthetic first) the headline
    of each stage linked to its report, the one-page summary, status, what the estimates were
    checked against, and each run's provenance one click away.

    Provenance per run (from ``<stage>.provenance.json``): git commit, parameters, input
    checksums, package versions and time taken. A failed stage (``<stage>.failed.json``) is
    shown in red with the cell and error, and has no report link; so is a stage whose run was
    interrupted (by a signal, or killed: its ``<stage>.running.json`` marker is left behind by a
    process that no longer runs); a stage being rendered shows "running"; a report that no
    longer reflects its notebook, processed data or parameters shows "stale" and why
    (:func:`stale_reasons`).
    """
    reports = Path(reports)
    reports.mkdir(parents=True, exist_ok=True)
    datasets = sorted((p for p in reports.iterdir() if p.is_dir() and p.name != "bench"),
                      key=lambda p: _dataset_order(p.name))
    for ds in datasets:
        render_summary(reports, ds.name)       # each in its dataset's language
    report_lang = os.environ.get("REPORT_LANG")  # in_language() hides it: stages compare with it
    with in_language(index_language(reports)):
        return _render_index(reports, datasets, report_lang=report_lang)


def _words() -> dict[str, str]:
    """The index's fixed words in the current language, escaped."""
    return {k: html.escape(v) for k, v in {
        "failed": _("FAILED"), "ok": _("ok"), "stale": _("stale"), "running": _("running"),
        "interrupted": _("interrupted"), "key figures": _("key figures"),
        "provenance": _("provenance"), "parameters": _("parameters"),
        "checksums": _("input checksums (sha256)"), "versions": _("package versions"),
        "summary": _("One-page summary for management"), "tables": _("tables (.xlsx)"), "benchmarks": _("Benchmarks"),
        "performance": _("Performance benchmarks")}.items()}


def _dataset_section(reports: Path, ds: Path, *, report_lang: str | None = None) -> str | None:
    """One dataset's section of the index (None without a rendered stage), in the current language."""
    word = _words()
    stages = sorted({p.name.split(".")[0] for p in ds.glob("*.provenance.json")}
                    | {p.name.split(".")[0] for p in ds.glob("*.failed.json")}
                    | {p.name.split(".")[0] for p in ds.glob("*.running.json")})
    if not stages:
        return None
    rows = []
    name = html.escape(ds.name)
    for stage in stages:
        known = stage in stage_names()
        title = registry_stage(stage).shown_title if known else stage
        failed, marker = ds / f"{stage}.failed.json", ds / f"{stage}.running.json"
        if marker.exists():
            try:
                info = json.loads(marker.read_text(encoding="utf-8"))
            except ValueError:
                info = {}
            if _running(info):
                note = html.escape(t("started {time}; its report appears when it finishes.",
                                     time=info.get("started", "?")))
                rows.append(f"<tr><td>{html.escape(title)}</td><td class='running'>"
                            f"{word['running']}</td><td colspan='2' class='muted'>{note}</td></tr>")
            else:
                note = html.escape(t("started {time}, stopped before it finished (killed or "
                                     "interrupted); no report is shown. Run the stage again.",
                                     time=info.get("started", "?")))
                rows.append(f"<tr><td>{html.escape(title)}</td><td class='failed'>"
                            f"{word['interrupted']}</td><td colspan='2'>{note}</td></tr>")
            continue
        if failed.exists():
            info = json.loads(failed.read_text())
            where = html.escape(t("in {cell}:", cell=_cell(info["cell"])))
            note = html.escape(t("{time}, commit {commit}; no report is shown for a failed stage.",
                                 time=info["time"], commit=info["git_commit"]))
            status = word["interrupted"] if info.get("interrupted") else word["failed"]
            rows.append(
                f"<tr><td>{html.escape(title)}</td><td class='failed'>{status}"
                f"</td><td colspan='2'>{where} <code>"
                f"{html.escape(info['error'][:300])}</code><br><span class='muted'>"
                f"{note}</span></td></tr>")
            continue
        prov = json.loads((ds / f"{stage}.provenance.json").read_text())
        stale = stale_reasons(reports, ds.name, stage, report_lang=report_lang)
        if not (ds / f"{stage}.html").exists():
            note = html.escape(t("no report: {why}.", why="; ".join(stale)))
            rows.append(f"<tr><td>{html.escape(title)}</td><td class='stale'>{word['stale']}"
                        f"</td><td colspan='2'>{note}</td></tr>")
            continue
        headline, checked = _headline(ds, stage)
        params = html.escape(json.dumps(prov["parameters"], indent=1, default=str, ensure_ascii=False))
        sums = "".join(f"<tr><td class='mono'>{html.escape(k)}</td><td class='mono'>"
                       f"{html.escape(v[:16])}…</td></tr>" for k, v in prov["input_checksums"].items())
        vers = ", ".join(f"{k} {v}" for k, v in prov["package_versions"].items())
        extra = "".join(
            f" · <a href='{name}/{html.escape(out)}'>{html.escape(out)}</a>"
            for out in (registry_stage(stage).outputs if known else ()) if (ds / out).exists())
        if (ds / f"{stage}.xlsx").exists():
            extra = f" · <a href='{name}/{stage}.xlsx'>{word['tables']}</a>" + extra
        checked_text = html.escape(t("checked against {what}", what=checked)) if checked else ""
        run = t("commit {commit}, {finished}, {seconds} s",
                 commit=f"<code>{html.escape(prov['git_commit'])}</code>",
                 finished=html.escape(prov["finished"]), seconds=f"{prov['seconds']:.1f}")
        status = f"<td class='ok'>{word['ok']}</td>"
        if stale:
            why = html.escape(t("rendered before: {why}; run the stage again.",
                                why="; ".join(stale)))
            status = f"<td class='stale' title='{why}'>{word['stale']}</td>"
            headline_note = f"<div class='stale'>{why}</div>"
        else:
            headline_note = ""
        rows.append(
            f"<tr><td><a href='{name}/{stage}.html'>{html.escape(title)}</a></td>"
            f"{status}<td>{headline_note}{html.escape(headline)}"
            f"<div class='muted'><a href='{name}/{stage}.json'>{word['key figures']}"
            f"</a>{extra}</div></td><td class='muted'>{checked_text}</td>"
            f"<td class='muted'><details><summary>{word['provenance']}</summary>{run}"
            f"<details><summary>{word['parameters']}</summary><pre>{params}</pre>"
            f"</details><details><summary>{word['checksums']}</summary>"
            f"<table>{sums}</table></details><details><summary>"
            f"{word['versions']}</summary>"
            f"{html.escape(vers)}</details></details></td></tr>")
    summary = (f"<p><a href='{name}/summary.html'><strong>"
               f"{word['summary']}</strong></a></p>"
               if (ds / "summary.html").exists() else "")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in (
        _("report"), _("status"), _("headline"), _("checked against"), _("provenance")))
    return (f"<section lang='{html_lang()}'><h2>{name}</h2>{summary}<div class='scroll'><table>"
            f"<tr>{head}</tr>{''.join(rows)}</table></div></section>")


def _render_index(reports: Path, datasets: list[Path], *, report_lang: str | None = None) -> Path:
    word = _words()
    sections = []
    for ds in datasets:
        # each dataset's section in its reports' language (synthetic_zh's in Chinese) unless
        # REPORT_LANG sets one language for the whole page
        lang = report_lang and language() or dataset_language(ds) or language()
        with in_language(lang):
            section = _dataset_section(reports, ds, report_lang=report_lang)
        if section:
            sections.append(section)
    bench = ""
    if (reports / "bench" / "index.html").exists():
        bench = (f"<h2>{word['benchmarks']}</h2><p><a href='bench/index.html'>"
                 f"{word['performance']}</a></p>")
    body = "".join(sections) or ("<p>" + t("No reports yet: run {command}.",
                                           command="<code>make reports</code>") + "</p>")
    title = html.escape(_("churn-research reports"))
    intro = html.escape(_("Each stage answers one research question for each dataset; the headline "
                          "is its answer. Reports hide code; key figures are machine-readable JSON; "
                          "provenance records how each report was produced."))
    page = (f"<!doctype html><html lang='{html_lang()}'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{title}</title><style>{_CSS}</style></head><body><h1>{title}</h1>"
            f"<p class='muted'>{intro}</p>{body}{bench}</body></html>")
    return write_atomic(reports / "index.html", page)
