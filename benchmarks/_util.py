"""Shared helpers: memory readings, medians, growth exponents, running measuring children."""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


# ---------------------------------------------------------------------------------------
# memory (Linux: /proc/self/status; elsewhere getrusage)
# ---------------------------------------------------------------------------------------
def _status_kb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """Current resident set size of this process (MB)."""
    kb = _status_kb("VmRSS")
    return kb / 1024 if kb is not None else peak_mb()


def peak_mb() -> float:
    """Peak resident set size of this process (MB) since start or the last :func:`reset_peak`."""
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    return kb / 1024


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (``VmHWM``) to the current RSS; False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def children_peak_mb() -> float:
    """Largest peak RSS of any waited-for descendant process (MB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------------------
def median(values) -> float | None:
    values = [float(v) for v in values if v is not None]
    return statistics.median(values) if values else None


def growth_exponent(sizes, seconds) -> dict[str, Any]:
    """Least-squares slope of log(time) on log(n): time ~ c * n**exponent.

    Returns ``exponent`` (over all points), ``exponent_top`` (between the two largest sizes:
    the local growth, less flattened by fixed costs at small n), ``coefficient`` c and ``r2``.
    Points with a missing or non-positive time are ignored; fewer than two points give None.
    """
    pts = sorted((float(n), float(t)) for n, t in zip(sizes, seconds, strict=True)
                 if n and t is not None and t > 0)
    out: dict[str, Any] = {"exponent": None, "exponent_top": None, "coefficient": None,
                           "r2": None, "sizes": [int(n) for n, _ in pts]}
    if len(pts) < 2:
        return out
    x = [math.log(n) for n, _ in pts]
    y = [math.log(t) for _, t in pts]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxx = sum((a - mx) ** 2 for a in x)
    if sxx == 0:
        return out
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sxx
    intercept = my - slope * mx
    ss_res = sum((b - (intercept + slope * a)) ** 2 for a, b in zip(x, y, strict=True))
    ss_tot = sum((b - my) ** 2 for b in y)
    out.update({
        "exponent": slope,
        "exponent_top": (y[-1] - y[-2]) / (x[-1] - x[-2]),
        "coefficient": math.exp(intercept),
        "r2": 1 - ss_res / ss_tot if ss_tot > 0 else 1.0,
    })
    return out


# ---------------------------------------------------------------------------------------
# environment
# ---------------------------------------------------------------------------------------
def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        load = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        load = None
    return {"cpus": os.cpu_count(), "cpu_model": cpu, "memory_gb": mem_gb,
            "python": platform.python_version(), "platform": platform.platform(),
            "load_average_at_start": load}


def git_commit(root: Path = ROOT) -> str:
    from churn_research.runner import git_commit as commit

    return commit(root)


def versions(names=("numpy", "pandas", "scipy", "lifelines", "pyarrow", "pandera",
                    "papermill", "nbconvert", "matplotlib")) -> dict[str, str]:
    from churn_research.runner import versions as installed

    return installed(names)


# ---------------------------------------------------------------------------------------
# children
# ---------------------------------------------------------------------------------------
def run_json_child(argv: list[str], *, timeout: float | None, cwd: Path = ROOT,
                   env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``argv`` plus ``--out FILE`` in a new process group; return the JSON it wrote.

    On a non-zero exit, a time-out or a missing result, returns ``{"status": "failed" |
    "timeout", "reason": ...}`` with the tail of the child's stderr. The whole process group
    is killed on time-out (a child may have started make, kernels, ...).
    """
    with tempfile.TemporaryDirectory(prefix="bench-child-") as tmp:
        out = Path(tmp) / "result.json"
        err_path = Path(tmp) / "stderr.txt"
        started = time.perf_counter()
        with open(err_path, "w") as err:
            proc = subprocess.Popen([*argv, "--out", str(out)], cwd=cwd, env=env,
                                    stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=True)
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                return {"status": "timeout", "wall_s": time.perf_counter() - started,
                        "reason": f"exceeded the time limit of {timeout:.0f} s"}
        tail = err_path.read_text(errors="replace")[-3000:]
        if rc == 0 and out.exists():
            result = json.loads(out.read_text())
            result.setdefault("wall_s", time.perf_counter() - started)
            return result
        lines = [ln for ln in tail.splitlines() if ln.strip()]
        reason = lines[-1] if lines else f"exit status {rc}"
        if rc < 0:
            reason = f"killed by signal {-rc} (out of memory?); {reason}"
        return {"status": "failed", "reason": reason[:500], "stderr_tail": tail[-1500:]}


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    except ProcessLookupError:
        pass


def python() -> str:
    """The interpreter running the benchmarks (the project's .venv via make)."""
    return sys.executable
