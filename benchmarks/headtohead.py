"""Head-to-head: our BG/NBD against lifetimes, our Cox wrapper against lifelines directly.

BG/NBD: the CDNOW sample (2,357 customers) and the full CDNOW log (23,570) are summarised once
with :func:`churn_research.clv.rfm_summary` (39-week calibration period to 1997-09-30, weeks,
same-day purchases merged, as in Fader, Hardie & Lee 2005) and saved as arrays; the same
script (:mod:`benchmarks.bgnbd_worker`) fits them with ``churn_research.clv.BetaGeo`` in the
project's environment and with ``lifetimes.BetaGeoFitter`` in ``.venv-bench``, alternately in
``rounds`` rounds, each a fresh process with one untimed warm-up fit and ``repeat`` timed fits.
Speed-up = median lifetimes time / median our time; parameters must agree to 1e-3.

Cox: ``python -m benchmarks.headtohead cox`` fits ``CoxRegression`` (from the durations frame:
design matrix, lifelines fit, concordance, hazard-ratio table) and lifelines' ``CoxPHFitter``
on the wrapper's own prepared numeric frame, interleaved in one process, ``repeat`` times each.
Overhead ratio = median wrapper time / median lifelines time. By default both sides run without
delayed entry (lifelines' fast batch path, so the wrapper's own cost is visible); ``--entry``
measures the delayed-entry configuration the survival stage uses (lifelines' slow path).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import _util

CALIBRATION_END = "1997-09-30"
BENCH_VENV = _util.ROOT / ".venv-bench"
PARAMS = ("r", "alpha", "a", "b")


def bench_python(root: Path = _util.ROOT) -> Path:
    return root / ".venv-bench" / "bin" / "python"


# ---------------------------------------------------------------------------------------
# BG/NBD
# ---------------------------------------------------------------------------------------
def cdnow_arrays(folder: Path) -> dict[str, dict[str, Any]]:
    """Write the CDNOW sample and full-log summaries as .npz files; describe them."""
    import numpy as np

    from churn_research.clv import rfm_summary
    from churn_research.data import load

    out = {}
    for name, sample in (("cdnow_sample", True), ("cdnow_full", False)):
        data = load("cdnow", sample=sample)
        s = rfm_summary(data.transactions, calibration_end=CALIBRATION_END, freq="W")
        path = Path(folder) / f"{name}.npz"
        np.savez(path, frequency=s["frequency"].to_numpy(float),
                 recency=s["recency"].to_numpy(float), T=s["T"].to_numpy(float))
        out[name] = {"path": str(path), "customers": int(len(s)),
                     "transactions": int(len(data.transactions)),
                     "repeat_buyers": int((s["frequency"] > 0).sum())}
    return out


def bgnbd(*, repeat: int = 5, rounds: int = 2, timeout: float = 900,
          lifetimes_python: Path | None = None) -> dict[str, Any]:
    """Run the BG/NBD head-to-head; see the module docstring."""
    from benchmarks.steps import check_available

    ok, reason = check_available([("churn_research.clv", "BetaGeo"),
                                  ("churn_research.clv", "rfm_summary")])
    if not ok:
        return {"status": "not available yet", "reason": reason, "datasets": []}
    lt_python = Path(lifetimes_python) if lifetimes_python else bench_python()
    if not lt_python.exists():
        return {"status": "not available",
                "reason": f"no benchmark environment at {lt_python}: run `make bench` (it builds "
                          ".venv-bench from benchmarks/requirements-bench.lock)", "datasets": []}
    worker = str(Path(__file__).with_name("bgnbd_worker.py"))
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-bgnbd-") as tmp:
        datasets = cdnow_arrays(Path(tmp))
        for name, info in datasets.items():
            runs: dict[str, list[dict]] = {"ours": [], "lifetimes": []}
            for _ in range(max(1, rounds)):
                for impl, py in (("ours", _util.python()), ("lifetimes", str(lt_python))):
                    runs[impl].append(_util.run_json_child(
                        [py, worker, "--impl", impl, "--data", info["path"], "--repeat", str(repeat)],
                        timeout=timeout))
            results.append(_compare(name, info, runs))
    status = "ok" if all(r["status"] == "ok" for r in results) else "failed"
    return {"status": status, "datasets": results, "repeat": repeat, "rounds": rounds,
            "calibration_end": CALIBRATION_END, "lifetimes_python": str(lt_python)}


def _compare(name: str, info: dict, runs: dict[str, list[dict]]) -> dict[str, Any]:
    rec: dict[str, Any] = {"dataset": name, "customers": info["customers"],
                           "transactions": info["transactions"], "status": "ok"}
    for impl, rs in runs.items():
        bad = [r for r in rs if r.get("status") in ("failed", "timeout")]
        if bad:
            rec.update(status="failed", reason=f"{impl}: {bad[0].get('reason')}")
            return rec
        times = [t for r in rs for t in r["times"]]
        rec[f"{impl}_s"] = _util.median(times)
        rec[f"{impl}_times"] = times
        rec[f"{impl}_first_s"] = _util.median(r["first_s"] for r in rs)
        rec[f"{impl}_params"] = rs[-1]["params"]
        rec[f"{impl}_versions"] = rs[-1]["versions"]
    ours, theirs = rec["ours_params"], rec["lifetimes_params"]
    diffs = {k: abs(ours[k] - theirs[k]) for k in PARAMS}
    rec["param_abs_diff"] = diffs
    rec["param_max_abs_diff"] = max(diffs.values())
    rec["param_max_rel_diff"] = max(abs(ours[k] - theirs[k]) / abs(theirs[k]) for k in PARAMS)
    rec["params_agree_1e-3"] = rec["param_max_abs_diff"] <= 1e-3
    rec["speedup"] = rec["lifetimes_s"] / rec["ours_s"] if rec["ours_s"] else None
    return rec


# ---------------------------------------------------------------------------------------
# Cox wrapper overhead (runs in a child: python -m benchmarks.headtohead cox ...)
# ---------------------------------------------------------------------------------------
def cox_overhead(n: int = 100_000, *, repeat: int = 3, entry: bool = False,
                 cache: str | None = None, random_state: int = 0) -> dict[str, Any]:
    """Interleaved fits of the wrapper and lifelines directly; see the module docstring."""
    import warnings

    from benchmarks.steps import COX_COVARIATES, COX_OPTIONS, check_available, read_data

    ok, reason = check_available([("churn_research.survival", "CoxRegression"),
                                  ("churn_research.survival", "durations"),
                                  ("churn_research.survival", "cox_design")])
    if not ok:
        return {"status": "not available yet", "reason": reason}
    from lifelines import CoxPHFitter

    from churn_research.survival import CoxRegression, cox_design, durations

    if cache and (Path(cache) / "meta.json").exists():
        data = read_data(cache, tables=("customers",))
    else:
        from churn_research.synthetic import generate

        data = generate(n, random_state=random_state)
    df = durations(data)
    del data
    opts = dict(COX_OPTIONS, use_entry=entry)

    def wrapper():
        t = time.perf_counter()
        m = CoxRegression(COX_COVARIATES, **opts).fit(df)
        return time.perf_counter() - t, m

    def direct(frame):
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            c = CoxPHFitter(penalizer=0.0, alpha=0.05).fit(
                frame, duration_col="duration", event_col="event",
                entry_col="entry" if "entry" in frame else None)
        return time.perf_counter() - t, c

    CoxRegression(COX_COVARIATES, **opts).fit(df.head(2000))  # warm-up: lazy imports
    tw, model = wrapper()
    frame = model.training_frame_
    wrapper_times, direct_times = [tw], []
    td, fitted = direct(frame)
    direct_times.append(td)
    for i in range(1, max(1, repeat)):
        order = ("d", "w") if i % 2 else ("w", "d")
        for who in order:
            if who == "w":
                wrapper_times.append(wrapper()[0])
            else:
                direct_times.append(direct(frame)[0])
    # where the wrapper's extra time goes
    t = time.perf_counter()
    cox_design(df, COX_COVARIATES, reference=COX_OPTIONS["reference"],
               per=COX_OPTIONS["per"])
    design_s = time.perf_counter() - t
    t = time.perf_counter()
    _ = fitted.concordance_index_  # lazy in lifelines: computed on first access
    concordance_s = time.perf_counter() - t
    coef = {k: float(v) for k, v in fitted.params_.items()}
    diff = max(abs(float(model.fitter_.params_[k]) - coef[k]) for k in coef)
    w, d = _util.median(wrapper_times), _util.median(direct_times)
    return {"status": "ok", "n_customers": int(len(df)), "events": int(model.events_),
            "covariates": COX_COVARIATES, "coefficients": len(coef), "delayed_entry": bool(entry),
            "wrapper_s": w, "lifelines_s": d, "ratio": w / d if d else None,
            "wrapper_times": wrapper_times, "lifelines_times": direct_times,
            "design_s": design_s, "concordance_s": concordance_s,
            "coef_max_abs_diff": diff, "peak_mb": _util.peak_mb()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.headtohead")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cox")
    c.add_argument("--n", type=int, default=100_000)
    c.add_argument("--repeat", type=int, default=3)
    c.add_argument("--entry", action="store_true")
    c.add_argument("--cache")
    c.add_argument("--out", required=True)
    a = p.parse_args(argv)
    result = cox_overhead(a.n, repeat=a.repeat, entry=a.entry, cache=a.cache)
    Path(a.out).write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
