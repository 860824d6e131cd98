"""Fit BG/NBD to saved arrays and time it: the same script in both environments.

    .venv/bin/python benchmarks/bgnbd_worker.py --impl ours --data X.npz --repeat 5 --out R.json
    .venv-bench/bin/python benchmarks/bgnbd_worker.py --impl lifetimes --data X.npz ...

``X.npz`` holds ``frequency``, ``recency`` and ``T`` (weeks). One untimed warm-up fit (imports,
autograd tracing), then ``--repeat`` timed fits; writes the times, the estimates and the
package versions as JSON. Standalone on purpose: it must run in the benchmark environment,
where churn_research is not installed (lifetimes 0.11.3 needs older numpy / pandas).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import warnings


def _fit_ours(f, r, T):
    from churn_research.clv import BetaGeo

    m = BetaGeo().fit(f, r, T)
    return {"r": m.r_, "alpha": m.alpha_, "a": m.a_, "b": m.b_}, float(m.log_likelihood_)


def _fit_lifetimes(f, r, T):
    from lifetimes import BetaGeoFitter

    m = BetaGeoFitter(penalizer_coef=0.0).fit(f, r, T)
    p = m.params_
    return ({"r": float(p["r"]), "alpha": float(p["alpha"]), "a": float(p["a"]), "b": float(p["b"])},
            float(m._negative_log_likelihood_ * -1 * len(T)) if hasattr(m, "_negative_log_likelihood_")
            else None)


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--impl", choices=["ours", "lifetimes"], required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    import numpy as np

    z = np.load(a.data)
    f, r, T = (np.asarray(z[k], dtype=float) for k in ("frequency", "recency", "T"))
    fit = _fit_ours if a.impl == "ours" else _fit_lifetimes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        params, ll = fit(f, r, T)  # warm-up: imports, tracing
        first = time.perf_counter() - t
        times = []
        for _ in range(max(1, a.repeat)):
            t = time.perf_counter()
            params, ll = fit(f, r, T)
            times.append(time.perf_counter() - t)
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    from importlib import metadata

    for name in ("scipy", "pandas", "autograd", "lifetimes", "churn-research"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    out = {"impl": a.impl, "customers": int(len(T)), "params": params, "log_likelihood": ll,
           "times": times, "seconds": statistics.median(times), "first_s": first,
           "versions": versions, "python_executable": sys.executable}
    with open(a.out, "w") as fh:
        json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
