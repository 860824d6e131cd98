"""``python -m benchmarks``: run the benchmark parts, write results.json and index.html.

Examples::

    python -m benchmarks                       # everything (10^4, 10^5, 10^6; ~20 min on 2 cores)
    python -m benchmarks --quick               # 10^4 and 10^5, 1 repeat, short head-to-head
    python -m benchmarks --only scaling --sizes 1e4 --steps generate,bgnbd_fit
    python -m benchmarks --only h2h --merge    # redo one part, keep the others' results
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import TARGETS, _util
from benchmarks.steps import ORDER, STEPS

PARTS = ("overhead", "scaling", "h2h")
SCHEMA_VERSION = 1


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(float(s)) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be numbers like 1e4,1e5: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sorted(set(sizes))


def _list(choices):
    def parse(text: str) -> list[str]:
        items = [s.strip() for s in text.split(",") if s.strip()]
        bad = [s for s in items if s not in choices]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {', '.join(choices)}")
        return items
    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=_sizes, help="customers per scaling size (default 1e4,1e5,1e6)")
    p.add_argument("--repeat", type=int, help="timed runs per step, median reported (default 3)")
    p.add_argument("--quick", action="store_true",
                   help="sizes 1e4,1e5, 1 repeat, short overhead and head-to-head")
    p.add_argument("--only", type=_list(PARTS), default=list(PARTS),
                   help=f"parts to run (comma list of {', '.join(PARTS)})")
    p.add_argument("--steps", type=_list(ORDER), default=list(ORDER),
                   help=f"scaling steps (comma list of {', '.join(ORDER)})")
    p.add_argument("--budget", type=float, default=60.0,
                   help="seconds one step may spend on repeats before stopping early (default 60)")
    p.add_argument("--step-timeout", type=float, default=600.0,
                   help="kill a step after this many seconds; a step predicted (from the smaller "
                        "sizes' growth) to take longer is skipped, except the whole pipeline, "
                        "which always runs within --pipeline-timeout (default 600)")
    p.add_argument("--pipeline-timeout", type=float, default=900.0,
                   help="time limit of one whole-pipeline run (default 900)")
    p.add_argument("--always-run", action="store_true",
                   help="run steps even when predicted to exceed their time limit (the limit still "
                        "applies: a timed-out pipeline run records the stages it finished)")
    p.add_argument("--jobs", type=int, default=2, help="make -j for the whole-pipeline step")
    p.add_argument("--overhead-budget", type=float, default=600.0,
                   help="stop adding real/floor pairs once one more would exceed this (s)")
    p.add_argument("--cox-n", type=int, default=100_000, help="customers of the Cox head-to-head")
    p.add_argument("--cox-entry", action="store_true",
                   help="time Cox with delayed entry (lifelines' slow path) at every size and in "
                        "the head-to-head too (adds many minutes)")
    p.add_argument("--lifetimes-python", type=Path,
                   help="interpreter with lifetimes installed (default .venv-bench/bin/python)")
    p.add_argument("--out", type=Path, default=_util.ROOT / "reports" / "bench")
    p.add_argument("--cache", type=Path, default=_util.ROOT / "build" / "bench" / "cache",
                   help="where the generated data of each size is kept during the run")
    p.add_argument("--keep-cache", action="store_true", help="do not delete the data cache")
    p.add_argument("--render-only", action="store_true",
                   help="only re-render index.html from the existing results.json")
    p.add_argument("--merge", action="store_true",
                   help="start from the existing results.json: parts not run keep their results")
    return p


def log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------
# scaling
# ---------------------------------------------------------------------------------------
def _predict(records: list[dict], step: str, n: int) -> float | None:
    """Time of ``step`` at ``n`` extrapolated from the smaller sizes (exponent >= 1)."""
    pts = [(r["n_customers"], r["seconds"]) for r in records
           if r["step"] == step and r["status"] == "ok" and r.get("seconds") and r["n_customers"] < n]
    if not pts:
        return None
    fit = _util.growth_exponent(*zip(*pts, strict=True)) if len(pts) >= 2 else {}
    k = max(1.0, fit.get("exponent_top") or 1.0)
    n0, t0 = max(pts)
    return t0 * (n / n0) ** k


def run_scaling(args, sizes: list[int], repeat: int) -> list[dict]:
    records: list[dict] = []
    for n in sizes:
        cache = args.cache / f"n{n}"
        shutil.rmtree(cache, ignore_errors=True)
        for name in args.steps:
            step = STEPS[name]
            limit = args.pipeline_timeout if name == "pipeline" else args.step_timeout
            if step.one_run and n > 1_000_000:  # the chunked base: the limit is per 10^6
                limit *= n / 1_000_000
            predicted = _predict(records, name, n)
            if step.max_n and n > step.max_n and not (args.cox_entry and name.startswith("cox")):
                rec = {"step": name, "label": step.label, "n_customers": n, "status": "skipped",
                       "reason": f"run up to {step.max_n:,} customers by default: {step.note}"}
            elif (predicted is not None and predicted > limit and not args.always_run
                  and name != "pipeline"):  # the pipeline has its own time limit and reports
                # the stages it finished; its cost is mostly capped (model samples), so a
                # linear extrapolation from small sizes overstates it
                rec = {"step": name, "label": step.label, "n_customers": n, "status": "skipped",
                       "predicted_s": predicted,
                       "reason": f"predicted {predicted:.0f} s from the smaller sizes, over the "
                                 f"{limit:.0f} s limit"}
            else:
                reps = 1 if name == "pipeline" or step.one_run else repeat
                argv = [_util.python(), "-m", "benchmarks.child", "--step", name, "--n", str(n),
                        "--repeat", str(reps), "--budget", str(args.budget), "--cache", str(cache),
                        "--jobs", str(args.jobs), "--timeout", str(limit)]
                rec = _util.run_json_child(argv, timeout=limit * max(1, reps) + 600)
                rec.setdefault("step", name)
                rec.setdefault("label", step.label)
                rec.setdefault("n_customers", n)
                if rec["status"] == "timeout" and "reason" in rec:
                    rec["reason"] = f"exceeded the {limit:.0f} s limit"
            records.append(rec)
            log(_describe(rec))
        if not args.keep_cache:
            shutil.rmtree(cache, ignore_errors=True)
    return records


def _describe(rec: dict) -> str:
    head = f"  {rec['step']:<13} n={rec['n_customers']:>9,}: "
    if rec["status"] != "ok":
        return head + f"{rec['status']} ({rec.get('reason', '')})"
    return head + (f"{rec['seconds']:.3f} s (median of {rec.get('repeats', 1)}), "
                   f"peak {rec.get('peak_mb', float('nan')):.0f} MB")


def growth(records: list[dict]) -> dict[str, Any]:
    out = {}
    for name in ORDER:
        pts = [(r["n_customers"], r["seconds"]) for r in records
               if r["step"] == name and r["status"] == "ok" and r.get("seconds")]
        if pts:
            out[name] = _util.growth_exponent(*zip(*pts, strict=True))
            peaks = [(r["n_customers"], r.get("peak_mb")) for r in records
                     if r["step"] == name and r["status"] == "ok" and r.get("peak_mb")]
            if peaks:
                out[name]["memory_exponent"] = _util.growth_exponent(*zip(*peaks, strict=True))["exponent"]
    return out


# ---------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------
def _at(records, step, n, key="seconds"):
    for r in records:
        if r["step"] == step and r["n_customers"] == n and r["status"] == "ok":
            return r.get(key)
    return None


def flat_figures(results: dict) -> dict[str, Any]:
    """The flat headline keys of results.json."""
    ov = results.get("overhead") or {}
    h2h = results.get("head_to_head") or {}
    bg = [d for d in (h2h.get("bgnbd") or {}).get("datasets", []) if d.get("status") == "ok"]
    cox = h2h.get("cox") or {}
    rec = results.get("scaling") or []
    big = 1_000_000
    flat = {
        "pipeline_vs_floor_ratio": ov.get("ratio"),
        "make_reports_s": ov.get("real_s"),
        "noop_make_s": ov.get("noop_s"),
        "bgnbd_speedup_vs_lifetimes": min((d["speedup"] for d in bg), default=None),
        "bgnbd_param_max_abs_diff": max((d["param_max_abs_diff"] for d in bg), default=None),
        "cox_overhead_ratio": cox.get("ratio") if cox.get("status") == "ok" else None,
        "churn_table_1e6_s": _at(rec, "churn_table", big),
        "churn_table_1e6_peak_mb": _at(rec, "churn_table", big, "peak_mb"),
        "bgnbd_fit_1e6_s": _at(rec, "bgnbd_fit", big),
        "pipeline_1e6_s": _at(rec, "pipeline", big),
    }
    for d in bg:
        flat[f"bgnbd_speedup_{d['dataset']}"] = d["speedup"]
    flat.update(engine_figures(rec))
    flat.update(pipeline_figures(rec))
    return flat


def pipeline_figures(records: list[dict]) -> dict[str, Any]:
    """The whole pipeline's flat keys per size it ran at: ``pipeline_<size>_s`` (wall time of
    ``make -j2 reports``), ``pipeline_<size>_peak_mb`` (the largest peak RSS of one process) and
    per stage ``pipeline_<size>_<stage>_s`` / ``pipeline_<size>_<stage>_peak_mb`` (from the
    runner's provenance files; e.g. ``pipeline_1e6_20_causes_peak_mb``)."""
    flat: dict[str, Any] = {}
    for r in records:
        if r["step"] != "pipeline" or r["status"] != "ok":
            continue
        size = _size_key(r["n_customers"])
        flat[f"pipeline_{size}_s"] = r.get("seconds")
        stage_peaks = {k: v for k, v in (r.get("stage_peak_mb") or {}).items() if v is not None}
        peaks = [v for v in [r.get("peak_mb"), *stage_peaks.values()] if v is not None]
        flat[f"pipeline_{size}_peak_mb"] = max(peaks) if peaks else None
        for stage, seconds in (r.get("stage_seconds") or {}).items():
            flat[f"pipeline_{size}_{stage}_s"] = seconds
        for stage, peak in stage_peaks.items():
            flat[f"pipeline_{size}_{stage}_peak_mb"] = peak
    return flat


def _size_key(n: int) -> str:
    """``1e6`` for 1,000,000; the number itself when it is not a power of ten."""
    exp = round(math.log10(n)) if n > 0 else 0
    return f"1e{exp}" if 10 ** exp == n else str(n)


def engine_figures(records: list[dict]) -> dict[str, Any]:
    """The engine's flat keys: ``engine_speedup_<step>_<size>`` (pandas time / engine time) for
    every size where both ran, ``engine_speedup_churn_table_1e6`` always (None if not run),
    ``engine_parity_max_abs_diff`` (largest difference from the pandas path) and
    ``spark_parity_max_abs_diff`` (largest difference of the engine on Spark from DuckDB)."""
    flat: dict[str, Any] = {"engine_speedup_churn_table_1e6": None,
                            "engine_parity_max_abs_diff": None, "spark_parity_max_abs_diff": None}
    parity = []
    spark = [float(r["parity_max_abs_diff"]) for r in records
             if r["step"] == "spark_parity" and r["status"] == "ok"
             and r.get("parity_max_abs_diff") is not None]
    if spark:
        flat["spark_parity_max_abs_diff"] = max(spark)
    for r in records:
        if not r["step"].startswith("engine_") or r["status"] != "ok":
            continue
        base = r["step"].removeprefix("engine_")
        pandas_s, engine_s = _at(records, base, r["n_customers"]), r.get("seconds")
        if pandas_s and engine_s:
            flat[f"engine_speedup_{base}_{_size_key(r['n_customers'])}"] = pandas_s / engine_s
        if base.startswith("chunked_"):  # the chunked base: time and peak RSS of both paths
            size = _size_key(r["n_customers"])
            flat[f"{r['step']}_{size}_s"] = engine_s
            flat[f"{r['step']}_{size}_peak_mb"] = r.get("peak_mb")
            flat[f"{base}_{size}_s"] = pandas_s
            flat[f"{base}_{size}_peak_mb"] = _at(records, base, r["n_customers"], "peak_mb")
            pandas_mb = _at(records, base, r["n_customers"], "peak_mb")
            if pandas_mb and r.get("peak_mb"):
                flat[f"engine_peak_ratio_{base}_{size}"] = pandas_mb / r["peak_mb"]
        if r.get("parity_max_abs_diff") is not None:
            parity.append(float(r["parity_max_abs_diff"]))
    if parity:
        flat["engine_parity_max_abs_diff"] = max(parity)
    for r in records:  # the chunked writer's time and peak RSS
        if r["step"] == "generate_chunked" and r["status"] == "ok":
            size = _size_key(r["n_customers"])
            flat[f"generate_chunked_{size}_s"] = r.get("seconds")
            flat[f"generate_chunked_{size}_peak_mb"] = r.get("peak_mb")
    return flat


_TARGET_RECORDS = {"churn_table_1e6_s": "churn_table", "churn_table_1e6_peak_mb": "churn_table",
                   "bgnbd_fit_1e6_s": "bgnbd_fit", "pipeline_1e6_s": "pipeline"}


def scaling_notes(records: list[dict]) -> dict[str, tuple[bool | None, str]]:
    """Targets at 10^6 whose step did not finish: (met, note), e.g. a time-out is not met."""
    notes = {}
    for key, step in _TARGET_RECORDS.items():
        rec = next((r for r in records if r["step"] == step and r["n_customers"] == 1_000_000), None)
        if rec is None or rec["status"] == "ok":
            continue
        threshold = TARGETS[key][1]
        if rec["status"] == "timeout" and key.endswith("_s"):
            notes[key] = (False, f"time-out: {rec.get('reason', '')}")
        elif rec.get("predicted_s") and key.endswith("_s"):
            met = rec["predicted_s"] <= threshold
            notes[key] = (None if met else False, f"skipped, predicted {rec['predicted_s']:.0f} s")
        else:
            notes[key] = (None, f"{rec['status']}: {rec.get('reason', '')}"[:200])
    return notes


def evaluate_targets(flat: dict, notes: dict | None = None) -> list[dict]:
    rows = []
    for key, (op, threshold, what) in TARGETS.items():
        value = flat.get(key)
        met, note = None, None
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            met = {"<=": value <= threshold, "<": value < threshold, ">=": value >= threshold}[op]
        elif notes and key in notes:
            met, note = notes[key]
        rows.append({"key": key, "description": what, "value": value, "target": f"{op} {threshold:g}",
                     "met": met, "note": note})
    return rows


def assemble(parts: dict[str, Any], *, args_dict: dict, previous: dict | None,
             started: float) -> dict[str, Any]:
    results: dict[str, Any] = dict(previous or {})
    if previous and "scaling" in parts:  # keep earlier records of (step, size) not re-measured
        done = {(r["step"], r["n_customers"]) for r in parts["scaling"]}
        kept = [r for r in previous.get("scaling") or [] if (r["step"], r["n_customers"]) not in done]
        parts = dict(parts, scaling=kept + parts["scaling"])
    results.update(parts)
    results.update({
        "schema_version": SCHEMA_VERSION,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _util.git_commit(),
        "machine": _util.machine_info(),
        "versions": _util.versions(),
        "options": args_dict,
        "total_seconds": time.perf_counter() - started,
    })
    results.setdefault("scaling", [])
    results["growth_exponents"] = growth(results["scaling"])
    results.update(flat_figures(results))
    results["targets"] = evaluate_targets(results, scaling_notes(results["scaling"]))
    return results


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.render_only:
        from benchmarks import render

        results = json.loads((args.out / "results.json").read_text())
        log(f"wrote {render.render(results, args.out / 'index.html')}")
        _link_index(args.out)
        return 0
    quick = args.quick
    sizes = args.sizes or ([10_000, 100_000] if quick else [10_000, 100_000, 1_000_000])
    repeat = args.repeat or (1 if quick else 3)
    args.out.mkdir(parents=True, exist_ok=True)
    previous = None
    results_path = args.out / "results.json"
    if args.merge and results_path.exists():
        previous = json.loads(results_path.read_text())
    started = time.perf_counter()
    parts: dict[str, Any] = {}
    options = {"sizes": sizes, "repeat": repeat, "quick": quick, "only": args.only,
               "steps": args.steps, "budget_s": args.budget, "step_timeout_s": args.step_timeout,
               "pipeline_timeout_s": args.pipeline_timeout, "jobs": args.jobs,
               "cox_n": args.cox_n, "cox_entry": args.cox_entry}
    log(f"benchmarks: parts {', '.join(args.only)}; sizes {sizes}; repeat {repeat}")

    if "overhead" in args.only:
        from benchmarks import overhead

        log("[1/3] pipeline overhead: make reports vs trivial notebooks (same Makefile, runner)")
        parts["overhead"] = overhead.run(repeat=repeat, budget=args.overhead_budget, log=log)
    if "scaling" in args.only:
        log(f"[2/3] scaling: steps {', '.join(args.steps)}")
        parts["scaling"] = run_scaling(args, sizes, repeat)
    if "h2h" in args.only:
        from benchmarks import headtohead

        log("[3/3] head-to-head: BG/NBD vs lifetimes; Cox wrapper vs lifelines")
        h2h_repeat = max(repeat, 3) if not quick else 2
        bg = headtohead.bgnbd(repeat=h2h_repeat, rounds=1 if quick else 2,
                              lifetimes_python=args.lifetimes_python)
        for d in bg.get("datasets", []):
            log(f"  BG/NBD {d['dataset']}: " + (
                f"ours {d['ours_s'] * 1e3:.1f} ms, lifetimes {d['lifetimes_s'] * 1e3:.1f} ms, "
                f"{d['speedup']:.1f}x; max |param diff| {d['param_max_abs_diff']:.1e}"
                if d["status"] == "ok" else f"{d['status']}: {d.get('reason')}"))
        if bg["status"] != "ok" and not bg.get("datasets"):
            log(f"  BG/NBD: {bg['status']} ({bg.get('reason')})")
        cox_cache = args.cache / f"n{args.cox_n}"
        cox = {}
        for entry in ([False, True] if args.cox_entry else [False]):
            argv2 = [_util.python(), "-m", "benchmarks.headtohead", "cox", "--n", str(args.cox_n),
                     "--repeat", str(h2h_repeat if not entry else 1), "--cache", str(cox_cache)]
            res = _util.run_json_child(argv2 + (["--entry"] if entry else []),
                                       timeout=args.step_timeout * 4)
            log("  Cox " + ("(delayed entry) " if entry else "") + (
                f"wrapper {res['wrapper_s']:.2f} s vs lifelines {res['lifelines_s']:.2f} s: "
                f"ratio {res['ratio']:.2f}" if res.get("status") == "ok"
                else f"{res.get('status')}: {res.get('reason')}"))
            if entry:
                cox["with_delayed_entry"] = res
            else:
                cox.update(res)
        parts["head_to_head"] = {"bgnbd": bg, "cox": cox}
    if not args.keep_cache:
        shutil.rmtree(args.cache, ignore_errors=True)

    results = assemble(parts, args_dict=options, previous=previous, started=started)
    tmp = results_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1, default=str))
    tmp.replace(results_path)
    from benchmarks import render

    html = render.render(results, args.out / "index.html")
    _link_index(args.out)
    log(f"wrote {results_path} and {html}")
    for t in results["targets"]:
        verdict = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        value = "—" if t["value"] is None else f"{t['value']:.4g}"
        note = f" ({t['note']})" if t.get("note") else ""
        log(f"  {t['key']:<28} {value:>10}  target {t['target']:<9} {verdict}{note}")
    return 0


def _link_index(out: Path) -> None:
    """Refresh ``reports/index.html`` so that it links the benchmark page."""
    if out.name != "bench":
        return
    try:
        from churn_research.runner import render_index

        render_index(out.parent)
    except Exception as exc:  # noqa: BLE001 - the index is a convenience here
        log(f"  (could not refresh {out.parent / 'index.html'}: {exc})")


if __name__ == "__main__":
    sys.exit(main())
