"""Pipeline overhead: ``make reports`` against the same Makefile running trivial notebooks.

Two temporary copies of the project (see :mod:`benchmarks.project`): one with the real
notebooks, one whose notebooks are replaced by trivial ones of the same names (the original
parameters cell, one line of Markdown, a one-key JSON). Both start from a clean state (no
reports, no processed data) and run ``make reports`` alternately, floor first, so that both see
the same machine load; the ratio is median(real) / median(floor). The no-op time is the median
of further ``make reports`` runs in the real copy with nothing changed.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from benchmarks import _util, project


def run(*, repeat: int = 3, budget: float = 900.0, jobs: int | None = None, noop_repeat: int = 5,
        timeout: float = 1800.0, log=print) -> dict[str, Any]:
    """Measure; ``budget`` (s) stops further real/floor pairs once one more would exceed it."""
    real = project.copy_project(prefix="bench-overhead-real-")
    floor = project.copy_project(prefix="bench-overhead-floor-")
    try:
        stages = project.stages(real)
        project.trivialize(floor)
        runs: dict[str, list[dict]] = {"real": [], "floor": []}
        started = time.perf_counter()
        for i in range(max(1, repeat)):
            pair_start = time.perf_counter()
            for kind, dest in (("floor", floor), ("real", real)):
                project.clean(dest)
                r = project.run_make(dest, target="reports", jobs=jobs, timeout=timeout)
                r.update(project.stage_seconds(dest))
                r.pop("output_tail", None) if r["status"] == "ok" else None
                runs[kind].append(r)
                log(f"  overhead: {kind} make reports {r['status']} in {r['seconds']:.1f} s")
            pair = time.perf_counter() - pair_start
            if i + 1 < repeat and (time.perf_counter() - started) + pair > budget:
                log(f"  overhead: time budget {budget:.0f} s reached after {i + 1} pair(s)")
                break
        noop = []
        if runs["real"] and runs["real"][-1]["status"] == "ok":
            for _ in range(max(1, noop_repeat)):
                r = project.run_make(real, target="reports", jobs=jobs, timeout=120)
                noop.append({"seconds": r["seconds"], "status": r["status"],
                             "nothing_to_do": "Nothing to be done" in r["output_tail"]})
    finally:
        shutil.rmtree(real, ignore_errors=True)
        shutil.rmtree(floor, ignore_errors=True)
    ok = {k: [r["seconds"] for r in v if r["status"] == "ok"] for k, v in runs.items()}
    real_s, floor_s = _util.median(ok["real"]), _util.median(ok["floor"])
    failed = {k: [r.get("failed_stages") or r.get("output_tail", "")[-300:]
                  for r in v if r["status"] != "ok"] for k, v in runs.items()}
    result = {
        "status": "ok" if real_s and floor_s else "failed",
        "stages": stages, "jobs": jobs or "make's default (one stage per core)", "dataset": "synthetic (default parameters)",
        "real_s": real_s, "floor_s": floor_s,
        "ratio": real_s / floor_s if real_s and floor_s else None,
        "pair_ratios": [r["seconds"] / f["seconds"] for r, f in zip(runs["real"], runs["floor"],
                                                                     strict=False)
                        if r["status"] == "ok" and f["status"] == "ok"],
        "real_runs": ok["real"], "floor_runs": ok["floor"],
        "real_stage_seconds": runs["real"][-1].get("stage_seconds") if runs["real"] else {},
        "floor_stage_seconds": runs["floor"][-1].get("stage_seconds") if runs["floor"] else {},
        "noop_s": _util.median(r["seconds"] for r in noop if r["status"] == "ok"),
        "noop_runs": [r["seconds"] for r in noop],
        "noop_nothing_to_do": all(r["nothing_to_do"] for r in noop) if noop else None,
        "failures": {k: v for k, v in failed.items() if v},
        "command": runs["real"][-1]["command"] if runs["real"] else None,
    }
    return result
