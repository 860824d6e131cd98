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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn_research.model import write_atomic
from churn_research.runner.findings_html import render_summary
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
    """Write a stage's key figures as flat, sorted JSON and return the flat dict."""
    flat = flatten(figures)
    write_atomic(path, json.dumps(flat, indent=2, sort_keys=True, ensure_ascii=False))
    return flat


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
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
details{margin:.2rem 0} .muted{color:#666;font-size:.9em}
.scroll{overflow-x:auto}
@media (max-width:600px){body{margin:1rem auto} table,tbody,tr,td{display:block;width:100%}
  tr:first-child{display:none} tr{border-bottom:1px solid #ddd;padding:.4rem 0} td{border:0;padding:.1rem 0}}
"""



def _dataset_order(name: str) -> tuple[int, str]:
    return (0 if name == "synthetic" else 1, name)


def _headline(ds: Path, stage: str) -> tuple[str, str]:
    """(headline, checked against) from the stage's findings, or ("", "")."""
    path = ds / f"{stage}.findings.json"
    if not path.exists():
        return "", ""
    found = json.loads(path.read_text(encoding="utf-8"))
    return found.get("headline", ""), found.get("checked_against") or ""


def render_index(reports: str | Path) -> Path:
    """Write each dataset's ``summary.html`` and ``reports/index.html``, the landing page: per dataset (synthetic first) the headline
    of each stage linked to its report, the one-page summary, status, what the estimates were
    checked against, and each run's provenance one click away.

    Provenance per run (from ``<stage>.provenance.json``): git commit, parameters, input
    checksums, package versions and time taken. A failed stage (``<stage>.failed.json``) is
    shown in red with the cell and error, and has no report link.
    """
    reports = Path(reports)
    reports.mkdir(parents=True, exist_ok=True)
    sections = []
    datasets = sorted((p for p in reports.iterdir() if p.is_dir() and p.name != "bench"),
                      key=lambda p: _dataset_order(p.name))
    for ds in datasets:
        render_summary(reports, ds.name)
        stages = sorted({p.name.split(".")[0] for p in ds.glob("*.provenance.json")}
                        | {p.name.split(".")[0] for p in ds.glob("*.failed.json")})
        if not stages:
            continue
        rows = []
        name = html.escape(ds.name)
        for stage in stages:
            known = stage in stage_names()
            title = registry_stage(stage).title if known else stage
            failed = ds / f"{stage}.failed.json"
            if failed.exists():
                info = json.loads(failed.read_text())
                rows.append(
                    f"<tr><td>{html.escape(title)}</td><td class='failed'>FAILED</td>"
                    f"<td colspan='2'>in {html.escape(info['cell'])}: <code>"
                    f"{html.escape(info['error'][:300])}</code><br><span class='muted'>"
                    f"{html.escape(info['time'])}, commit {html.escape(info['git_commit'])}; no "
                    "report is shown for a failed stage.</span></td></tr>")
                continue
            prov = json.loads((ds / f"{stage}.provenance.json").read_text())
            headline, checked = _headline(ds, stage)
            params = html.escape(json.dumps(prov["parameters"], indent=1, default=str))
            sums = "".join(f"<tr><td class='mono'>{html.escape(k)}</td><td class='mono'>"
                           f"{html.escape(v[:16])}…</td></tr>" for k, v in prov["input_checksums"].items())
            vers = ", ".join(f"{k} {v}" for k, v in prov["package_versions"].items())
            extra = "".join(
                f" · <a href='{name}/{html.escape(out)}'>{html.escape(out)}</a>"
                for out in (registry_stage(stage).outputs if known else ()) if (ds / out).exists())
            rows.append(
                f"<tr><td><a href='{name}/{stage}.html'>{html.escape(title)}</a></td>"
                f"<td class='ok'>ok</td><td>{html.escape(headline)}<div class='muted'>"
                f"<a href='{name}/{stage}.json'>key figures</a>{extra}</div></td>"
                f"<td class='muted'>{'checked against ' + html.escape(checked) if checked else ''}</td>"
                f"<td class='muted'><details><summary>provenance</summary>commit "
                f"<code>{html.escape(prov['git_commit'])}</code>, {html.escape(prov['finished'])}, "
                f"{prov['seconds']:.1f} s<details><summary>parameters</summary><pre>{params}</pre>"
                f"</details><details><summary>input checksums (sha256)</summary><table>{sums}"
                f"</table></details><details><summary>package versions</summary>"
                f"{html.escape(vers)}</details></details></td></tr>")
        summary = (f"<p><a href='{name}/summary.html'><strong>One-page summary for management"
                   "</strong></a></p>" if (ds / "summary.html").exists() else "")
        sections.append(
            f"<h2>{name}</h2>{summary}<div class='scroll'><table><tr><th>report</th><th>status</th>"
            f"<th>headline</th><th>checked against</th><th>provenance</th></tr>{''.join(rows)}"
            "</table></div>")
    bench = ""
    if (reports / "bench" / "index.html").exists():
        bench = "<h2>Benchmarks</h2><p><a href='bench/index.html'>Performance benchmarks</a></p>"
    body = "".join(sections) or "<p>No reports yet: run <code>make reports</code>.</p>"
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>churn-research reports</title>"
            f"<style>{_CSS}</style></head><body><h1>churn-research reports</h1>"
            "<p class='muted'>Each stage answers one research question for each dataset; the "
            "headline is its answer. Reports hide code; key figures are machine-readable JSON; "
            "provenance records how each report was produced.</p>"
            f"{body}{bench}</body></html>")
    return write_atomic(reports / "index.html", page)
