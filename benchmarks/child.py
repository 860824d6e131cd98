"""A measuring child process: ``python -m benchmarks.child --step S --n N ... --out FILE``.

Runs one step (:data:`benchmarks.steps.STEPS`) for one size: checks that it exists, loads its
inputs (untimed, RSS recorded as ``baseline_mb``), resets the peak-RSS counter, then times the
step up to ``--repeat`` times, stopping early when another run would exceed ``--budget``
seconds; writes the record as JSON to ``--out``. Peak memory is ``VmHWM`` of this process
during the timed runs (inputs included) or, for the pipeline, the largest waited-for
descendant (``RUSAGE_CHILDREN``).
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import time
from pathlib import Path

from benchmarks import _util
from benchmarks.steps import STEPS, check_available


def measure(step_name: str, n: int, *, repeat: int = 3, budget: float = 120.0,
            cache: str | None = None, jobs: int = 2, timeout: float | None = None) -> dict:
    step = STEPS[step_name]
    record = {"step": step.name, "label": step.label, "n_customers": int(n), "status": "ok"}
    ok, reason = check_available(step.requires)
    if not ok:
        record.update(status="not available yet", reason=reason)
        return record
    ctx = {"n": int(n), "cache": cache, "jobs": jobs, "timeout": timeout}
    if step.uses_cache and not (cache and (Path(cache) / "meta.json").exists()):
        record.update(status="skipped", reason="no data cache for this size (generate failed?)")
        return record
    try:
        t0 = time.perf_counter()
        inputs = step.setup(ctx)
        record["setup_s"] = time.perf_counter() - t0
        gc.collect()
        record["baseline_mb"] = _util.rss_mb()
        record["peak_reset"] = _util.reset_peak() if step.reset_peak else False
        times, extras, result = [], [], None
        started = time.perf_counter()
        for i in range(max(1, int(repeat))):
            result = out = None  # free the previous run's output before the next one
            gc.collect()
            t = time.perf_counter()
            out = step.run(inputs, ctx)
            dt = time.perf_counter() - t
            result, extra = out if isinstance(out, tuple) else (out, {})
            times.append(dt)
            extras.append(extra)
            if extra.get("status") not in (None, "ok"):
                record["status"] = extra["status"]
                break
            spent = time.perf_counter() - started
            if i + 1 < repeat and spent + dt > budget:
                break
        record["peak_mb"] = (_util.children_peak_mb() if not step.reset_peak else _util.peak_mb())
        record.update(times=times, repeats=len(times), seconds=_util.median(times),
                      first_s=times[0], min_s=min(times))
        record.update(_merge_extras(extras))
        record.update(ctx.get("extras_once", {}))
        if step.finish is not None:
            record.update(step.finish(result, inputs, ctx) or {})
    finally:
        if ctx.get("cleanup"):
            shutil.rmtree(ctx["cleanup"], ignore_errors=True)
    if record["status"] != "ok":
        record["reason"] = record.get("reason") or _failure_reason(record)
    return record


def _merge_extras(extras: list[dict]) -> dict:
    """Numbers that vary per run (``*_s``) become medians; the rest come from the last run."""
    out = dict(extras[-1]) if extras else {}
    for key in out:
        if key.endswith("_s"):
            out[key] = _util.median(e.get(key) for e in extras)
    return out


def _failure_reason(record: dict) -> str:
    failed = record.get("failed_stages") or {}
    if failed:
        return "; ".join(f"{k}: {v}" for k, v in failed.items())[:500]
    tail = [ln for ln in (record.get("output_tail") or "").splitlines() if ln.strip()]
    return tail[-1][:500] if tail else record["status"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.child")
    p.add_argument("--step", required=True, choices=sorted(STEPS))
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--budget", type=float, default=120.0)
    p.add_argument("--cache")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    record = measure(a.step, a.n, repeat=a.repeat, budget=a.budget, cache=a.cache, jobs=a.jobs,
                     timeout=a.timeout)
    Path(a.out).write_text(json.dumps(record, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
