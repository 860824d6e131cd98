"""Render ``reports/bench/index.html`` from results.json: figures (embedded PNG) and tables."""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

from benchmarks import TARGETS

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:72rem;
     color:#222;line-height:1.45;padding:0 1rem}
h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6rem 0} td,th{border-bottom:1px solid #eee;padding:.25rem .6rem;
text-align:right;vertical-align:top} th{background:#f6f6f6} td.l,th.l{text-align:left}
.met{color:#1a7f37;font-weight:600} .not{color:#cf222e;font-weight:600} .na{color:#666}
.muted{color:#666;font-size:.9em} img{max-width:100%} code{font-size:.85em}
"""


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != 0 and (abs(v) < 1e-2 or abs(v) >= 1e5):
            return f"{v:.2e}"
        return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:,.0f}"
    return html.escape(str(v))


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return ("<img alt='figure' src='data:image/png;base64,"
            + base64.b64encode(buf.getvalue()).decode() + "'>")


def _style():
    import matplotlib

    matplotlib.use("Agg")
    try:
        from churn_research.plots import set_style

        set_style()
    except Exception:  # noqa: BLE001 - plain matplotlib style is fine
        pass


def _finish(ax, title, xlabel, ylabel):
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8)


# ---------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------
def scaling_figure(records: list[dict], growth: dict, *, key: str = "seconds") -> str | None:
    import matplotlib.pyplot as plt
    import numpy as np

    ok = [r for r in records if r.get("status") == "ok" and r.get(key)]
    if not ok:
        return None
    fig, ax = plt.subplots(figsize=(11.5, 5.2))
    steps = list(dict.fromkeys(r["step"] for r in ok))
    for step in steps:
        pts = sorted((r["n_customers"], r[key]) for r in ok if r["step"] == step)
        n, y = np.array(pts, dtype=float).T
        label = next(r.get("label", step) for r in ok if r["step"] == step)
        g = growth.get(step, {})
        exp = g.get("exponent") if key == "seconds" else g.get("memory_exponent")
        if exp is not None and len(pts) >= 2:
            label += f"  (k = {exp:.2f})"
        ax.plot(n, y, marker="o", label=label)
    if key == "seconds":
        ns = sorted({r["n_customers"] for r in ok})
        if len(ns) >= 2:
            base = min(r[key] for r in ok if r["n_customers"] == ns[0])
            ref = np.array([ns[0], ns[-1]], dtype=float)
            ax.plot(ref, base * ref / ref[0], ls=":", color="grey", lw=1, label="∝ n (k = 1)")
        for tk, step in (("churn_table_1e6_s", "churn_table"), ("bgnbd_fit_1e6_s", "bgnbd_fit"),
                         ("pipeline_1e6_s", "pipeline")):
            ax.scatter([1e6], [TARGETS[tk][1]], marker="_", s=400, color="black", zorder=5)
            ax.annotate(f"target {step}", (1e6, TARGETS[tk][1]), xytext=(6, 0),
                        textcoords="offset points", fontsize=7, va="center")
    else:
        ax.scatter([1e6], [TARGETS["churn_table_1e6_peak_mb"][1]], marker="_", s=400,
                   color="black", zorder=5)
        ax.annotate("target churn_table", (1e6, TARGETS["churn_table_1e6_peak_mb"][1]),
                    xytext=(6, 0), textcoords="offset points", fontsize=7, va="center")
    ax.set_xscale("log")
    ax.set_yscale("log")
    if key == "seconds":
        _finish(ax, "Time per step vs number of customers (log–log; k = growth exponent)",
                "synthetic customers (log scale)", "wall time, median of repeats (s, log scale)")
    else:
        _finish(ax, "Peak memory per step vs number of customers (log–log)",
                "synthetic customers (log scale)", "peak resident memory of the process (MB, log scale)")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.12, 1.0))
    fig.tight_layout()
    return _png(fig)


def overhead_figure(ov: dict) -> str | None:
    import matplotlib.pyplot as plt
    import numpy as np

    if not ov or ov.get("status") != "ok":
        return None
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.6), gridspec_kw={"width_ratios": [3, 2]})
    stages = sorted(set(ov.get("real_stage_seconds") or {}) | set(ov.get("floor_stage_seconds") or {}))
    x = np.arange(len(stages))
    real = [(ov.get("real_stage_seconds") or {}).get(s) or 0 for s in stages]
    floor = [(ov.get("floor_stage_seconds") or {}).get(s) or 0 for s in stages]
    a1.bar(x - 0.2, floor, 0.4, label="trivial notebook (floor)")
    a1.bar(x + 0.2, real, 0.4, label="real notebook")
    a1.set_xticks(x, stages, rotation=20)
    _finish(a1, "Time per stage: real vs trivial notebook", "stage",
            "runner time: execute + render (s)")
    labels = ["floor\n(trivial)", "make reports\n(real)", "no-op\nmake reports"]
    vals = [ov.get("floor_s") or 0, ov.get("real_s") or 0, ov.get("noop_s") or 0]
    bars = a2.bar(labels, vals, color=["#8fb3d9", "#e39b5b", "#7bbf7b"])
    for b, v in zip(bars, vals, strict=True):
        a2.annotate(f"{v:.2f} s" if v < 10 else f"{v:.0f} s", (b.get_x() + b.get_width() / 2, v),
                    ha="center", va="bottom", fontsize=8)
    if ov.get("floor_s"):
        a2.axhline(ov["floor_s"] * TARGETS["pipeline_vs_floor_ratio"][1], ls="--", color="grey",
                   lw=1, label="target: 1.3 × floor")
    _finish(a2, f"make reports: {ov['ratio']:.2f} × its floor", "run",
            "wall time, median (s)")
    fig.tight_layout()
    return _png(fig)


def h2h_figure(h2h: dict) -> str | None:
    import matplotlib.pyplot as plt
    import numpy as np

    bg = [d for d in ((h2h or {}).get("bgnbd") or {}).get("datasets", []) if d.get("status") == "ok"]
    cox = (h2h or {}).get("cox") or {}
    if not bg and cox.get("status") != "ok":
        return None
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.4))
    if bg:
        x = np.arange(len(bg))
        a1.bar(x - 0.2, [d["ours_s"] * 1e3 for d in bg], 0.4, label="churn_research BetaGeo")
        a1.bar(x + 0.2, [d["lifetimes_s"] * 1e3 for d in bg], 0.4, label="lifetimes BetaGeoFitter")
        for i, d in enumerate(bg):
            a1.annotate(f"{d['speedup']:.1f}× faster", (i, max(d["ours_s"], d["lifetimes_s"]) * 1e3),
                        ha="center", va="bottom", fontsize=8)
        a1.set_xticks(x, [f"{d['dataset']}\n({d['customers']:,} customers)" for d in bg])
    _finish(a1, "BG/NBD fit: ours vs lifetimes", "data set", "fit time, median (ms)")
    if cox.get("status") == "ok":
        vals = [cox["lifelines_s"], cox["wrapper_s"]]
        bars = a2.bar(["lifelines CoxPHFitter.fit\n(prepared frame)", "CoxRegression.fit\n(wrapper)"],
                      vals, color=["#8fb3d9", "#e39b5b"])
        for b, v in zip(bars, vals, strict=True):
            a2.annotate(f"{v:.2f} s", (b.get_x() + b.get_width() / 2, v), ha="center",
                        va="bottom", fontsize=8)
        a2.axhline(cox["lifelines_s"] * TARGETS["cox_overhead_ratio"][1], ls="--", color="grey",
                   lw=1, label="target: lifelines + 10%")
        _finish(a2, f"Cox fit, {cox['n_customers']:,} customers: ratio {cox['ratio']:.2f}",
                "implementation", "fit time, median (s)")
    else:
        a2.set_axis_off()
    fig.tight_layout()
    return _png(fig)


# ---------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------
def _table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    th = "".join(f"<th class='{'l' if i < left else ''}'>{h}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td class='{'l' if i < left else ''}'>{c}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def targets_table(targets: list[dict]) -> str:
    rows = []
    for t in targets:
        verdict = {True: "<span class='met'>met</span>", False: "<span class='not'>not met</span>",
                   None: "<span class='na'>not measured</span>"}[t["met"]]
        measured = _fmt(t["value"]) if t["value"] is not None or not t.get("note") else \
            f"<span class='muted'>{html.escape(t['note'])}</span>"
        rows.append([f"<code>{t['key']}</code>", html.escape(t["description"]), measured,
                     html.escape(t["target"]), verdict])
    return _table(["key", "what", "measured", "target", ""], rows, left=2)


def scaling_table(records: list[dict]) -> str:
    rows = []
    for r in sorted(records, key=lambda r: (r["n_customers"], list(_order()).index(r["step"])
                                            if r["step"] in _order() else 99)):
        note = ""
        if r.get("status") != "ok":
            note = html.escape(str(r.get("reason", ""))[:200])
        elif r["step"] == "load_validate":
            note = f"read {_fmt(r.get('read_s'))} s + validate {_fmt(r.get('validate_s'))} s"
        elif r["step"] == "bgnbd_fit":
            note = f"{_fmt(r.get('unique_rows'))} distinct (x, t_x, T) rows"
        elif r["step"] == "pipeline":
            note = ", ".join(f"{k} {v:.0f} s" for k, v in (r.get("stage_seconds") or {}).items())
        elif r["step"].startswith("cox_fit"):
            note = (("delayed entry (lifelines entry_col)" if r.get("delayed_entry") else
                     "no delayed entry") + f"; durations() {_fmt(r.get('durations_s'))} s untimed")
        elif r["step"] == "generate":
            note = f"{_fmt((r.get('rows') or {}).get('transactions'))} transactions"
        status = r.get("status")
        rows.append([html.escape(r.get("label", r["step"])), f"{r['n_customers']:,}",
                     status if status == "ok" else f"<span class='not'>{html.escape(status)}</span>",
                     _fmt(r.get("seconds")), _fmt(r.get("repeats")), _fmt(r.get("peak_mb"), 4),
                     _fmt(r.get("baseline_mb"), 4), note])
    return _table(["step", "customers", "status", "median s", "runs", "peak MB",
                   "inputs MB", "notes"], rows, left=1)


def _order():
    from benchmarks.steps import ORDER

    return ORDER


def growth_table(growth: dict) -> str:
    rows = [[html.escape(k), _fmt(v.get("exponent")), _fmt(v.get("exponent_top")),
             _fmt(v.get("memory_exponent")), ", ".join(f"{n:,}" for n in v.get("sizes", []))]
            for k, v in growth.items()]
    return _table(["step", "time exponent k (all sizes)", "k between the two largest",
                   "memory exponent", "sizes"], rows)


def bgnbd_table(bg: dict) -> str:
    rows = []
    for d in bg.get("datasets", []):
        if d.get("status") != "ok":
            rows.append([d["dataset"], d.get("status"), html.escape(str(d.get("reason"))), "", "", "", ""])
            continue
        po, pl = d["ours_params"], d["lifetimes_params"]
        params = "<br>".join(f"{k}: {po[k]:.6f} vs {pl[k]:.6f}" for k in ("r", "alpha", "a", "b"))
        rows.append([d["dataset"], f"{d['customers']:,}", f"{d['ours_s'] * 1e3:.1f}",
                     f"{d['lifetimes_s'] * 1e3:.1f}", f"{d['speedup']:.1f}×",
                     _fmt(d["param_max_abs_diff"]), params])
    return _table(["data set", "customers", "ours (ms)", "lifetimes (ms)", "speed-up",
                   "max |param diff|", "r, alpha, a, b: ours vs lifetimes"], rows)


# ---------------------------------------------------------------------------------------
# page
# ---------------------------------------------------------------------------------------
def render(results: dict, path: str | Path) -> Path:
    _style()
    path = Path(path)
    ov = results.get("overhead") or {}
    rec = results.get("scaling") or []
    growth = results.get("growth_exponents") or {}
    h2h = results.get("head_to_head") or {}
    m = results.get("machine") or {}
    parts = [f"<h1>churn-research benchmarks</h1><p class='muted'>{html.escape(results.get('generated', ''))}"
             f" · commit <code>{html.escape(results.get('git_commit', ''))}</code> · "
             f"{m.get('cpus')} CPUs ({html.escape(str(m.get('cpu_model')))}), {m.get('memory_gb')} GB · "
             f"load average at start {m.get('load_average_at_start')} · whole run "
             f"{_fmt(results.get('total_seconds'))} s. Times are medians of repeated runs; ratios are "
             "measured side by side in the same run (absolute times drift on shared machines). "
             "<a href='results.json'>results.json</a> · <a href='../index.html'>all reports</a></p>"]
    parts.append("<h2>Targets</h2>" + targets_table(results.get("targets") or []))

    parts.append("<h2>1. Pipeline overhead</h2>")
    if ov.get("status") == "ok":
        parts.append(
            f"<p><code>{html.escape(str(ov.get('command')))}</code> on the default data "
            f"({html.escape(', '.join(ov.get('stages', [])))}) took {_fmt(ov['real_s'])} s (median of "
            f"{len(ov['real_runs'])}); the same Makefile and runner with trivial notebooks of the same "
            f"names (kernel start, papermill, HTML export) took {_fmt(ov['floor_s'])} s (median of "
            f"{len(ov['floor_runs'])}): <b>{ov['ratio']:.2f} × the floor</b> (target ≤ 1.3). "
            f"Pairwise ratios: {', '.join(f'{x:.2f}' for x in ov.get('pair_ratios', []))}. A no-op "
            f"<code>make reports</code> takes <b>{_fmt(ov['noop_s'])} s</b> (median of "
            f"{len(ov['noop_runs'])}; target &lt; 2 s; nothing executed: "
            f"{_fmt(ov.get('noop_nothing_to_do'))}).</p>")
        fig = overhead_figure(ov)
        parts.append(fig or "")
    else:
        parts.append(f"<p>Not measured in this run{': ' + html.escape(str(ov.get('failures'))) if ov else ''}.</p>")

    parts.append("<h2>2. Scaling</h2>")
    if rec:
        parts.append("<p>Synthetic customers with all their tables (about 47 transactions each). Each "
                     "step runs in its own fresh process; inputs are loaded untimed, then the step is "
                     "timed (median of the runs) and its peak resident memory measured (inputs "
                     "included; 'inputs MB' is the memory before the step). The whole pipeline is "
                     "<code>make -j2 reports</code> in a temporary copy with <code>n_customers</code> "
                     "set; its peak is the largest single process. Steps of a stage not written yet "
                     "are listed as not available yet.</p>")
        for key in ("seconds", "peak_mb"):
            fig = scaling_figure(rec, growth, key=key)
            parts.append(fig or "")
        parts.append("<h3>Growth exponents (time ∝ n<sup>k</sup>)</h3>" + growth_table(growth))
        parts.append("<h3>All measurements</h3>" + scaling_table(rec))
    else:
        parts.append("<p>Not measured in this run.</p>")

    parts.append("<h2>3. Head-to-head</h2>")
    bg = h2h.get("bgnbd") or {}
    cox = h2h.get("cox") or {}
    fig = h2h_figure(h2h)
    parts.append(fig or "")
    if bg.get("datasets"):
        vers = (bg["datasets"][0].get("lifetimes_versions") or {}) if bg["datasets"] else {}
        parts.append(
            "<h3>BG/NBD: churn_research.clv.BetaGeo vs lifetimes.BetaGeoFitter</h3><p>Same "
            f"frequency/recency/T arrays (CDNOW, 39-week calibration to {bg.get('calibration_end')}, "
            "weeks); each implementation in its own environment, fresh processes, one untimed warm-up "
            f"fit then {bg.get('repeat')} timed fits per process, {bg.get('rounds')} alternating "
            f"round(s). lifetimes environment: {html.escape(', '.join(f'{k} {v}' for k, v in vers.items()))}."
            "</p>" + bgnbd_table(bg))
    elif bg:
        parts.append(f"<p>BG/NBD: {html.escape(str(bg.get('status')))} — {html.escape(str(bg.get('reason')))}</p>")
    if cox.get("status") == "ok":
        extra = ""
        ent = cox.get("with_delayed_entry") or {}
        if ent.get("status") == "ok":
            extra = (f" With delayed entry (as the survival stage fits it; lifelines' slow path): "
                     f"wrapper {_fmt(ent['wrapper_s'])} s vs lifelines {_fmt(ent['lifelines_s'])} s, "
                     f"ratio {ent['ratio']:.3f}.")
        parts.append(
            f"<h3>Cox: CoxRegression vs lifelines CoxPHFitter</h3><p>{cox['n_customers']:,} synthetic "
            f"customers ({cox['events']:,} churned), {cox['coefficients']} coefficients "
            f"({html.escape(', '.join(cox['covariates']))}), no delayed entry. The wrapper builds the "
            f"design matrix from the durations frame, fits lifelines, and computes the concordance "
            f"and the hazard-ratio table; lifelines alone fits the wrapper's prepared numeric frame. "
            f"Median wrapper {_fmt(cox['wrapper_s'])} s vs lifelines {_fmt(cox['lifelines_s'])} s: "
            f"<b>ratio {cox['ratio']:.2f}</b> (target ≤ 1.10). The wrapper's design matrix takes "
            f"{_fmt(cox['design_s'])} s; the concordance index, computed on first use by both, takes "
            f"{_fmt(cox['concordance_s'])} s and is not in either time. "
            f"Largest coefficient difference: {_fmt(cox['coef_max_abs_diff'])}.{extra}</p>")
    elif cox:
        parts.append(f"<p>Cox: {html.escape(str(cox.get('status')))} — {html.escape(str(cox.get('reason')))}</p>")

    vers = results.get("versions") or {}
    parts.append("<h2>Environment</h2><p class='muted'>" + html.escape(
        ", ".join(f"{k} {v}" for k, v in vers.items())) + f"<br>platform {html.escape(str(m.get('platform')))}"
        "<br>options: " + html.escape("; ".join(f"{k} = {v}" for k, v in (results.get("options") or {}).items()))
        + "</p>")
    page = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>churn-research "
            f"benchmarks</title><style>{_CSS}</style></head><body>{''.join(parts)}</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
