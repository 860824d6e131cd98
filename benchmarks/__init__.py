"""Performance benchmarks of churn-research: ``make bench`` / ``python -m benchmarks``.

Three parts, each written to ``reports/bench/results.json`` and rendered with figures to
``reports/bench/index.html`` (linked from ``reports/index.html``):

1. **Pipeline overhead** (:mod:`benchmarks.overhead`): wall time of ``make reports`` on the
   default data in a temporary copy of the project (the tracked and untracked-but-not-ignored
   files, the existing ``.venv`` linked, never rebuilt) against its *floor*: the same Makefile
   and runner executing trivial notebooks of the same names (a parameters cell and one line of
   Markdown: kernel start + papermill + HTML export only). Both copies run side by side in the
   same benchmark run, alternately; the ratio is of medians. The no-op time is a second
   ``make reports`` with nothing changed.
2. **Scaling** (:mod:`benchmarks.steps`): for each size (default 10^4, 10^5, 10^6 synthetic
   customers with their transactions) each step runs in its own fresh subprocess, which loads
   its inputs (untimed), resets the kernel's peak-RSS counter, then times the step ``repeat``
   times (fewer when one run exceeds the step's time budget) and reports the median and the
   peak RSS (``VmHWM``) during the step. Steps whose package function does not exist yet are
   recorded as ``"not available yet"``. The whole pipeline is ``make -j2 reports`` in a
   temporary copy with ``n_customers`` set (peak = the largest single process).
3. **Head-to-head** (:mod:`benchmarks.headtohead`): BG/NBD on the CDNOW sample and the full
   CDNOW log, our :class:`churn_research.clv.BetaGeo` against lifetimes' ``BetaGeoFitter``
   (run in the separate ``.venv-bench`` environment pinned by ``requirements-bench.lock``) on
   the same arrays, same script (:mod:`benchmarks.bgnbd_worker`); and the Cox wrapper
   (:class:`churn_research.survival.CoxRegression`) against lifelines' ``CoxPHFitter`` called
   directly on the same prepared frame, fits interleaved in one process.

Benchmarks measure; they never fail on timing (targets are reported as met / not met).
"""

__all__ = ["TARGETS"]

#: The targets of the benchmark issue: key -> (comparison, threshold, description).
TARGETS: dict[str, tuple[str, float, str]] = {
    "pipeline_vs_floor_ratio": ("<=", 1.3, "make reports wall time / trivial-notebook floor"),
    "noop_make_s": ("<", 2.0, "no-op make reports (s)"),
    "make_reports_s": ("<=", 60.0, "make reports on the default synthetic data, warm, 2 cores (s)"),
    "churn_table_1e6_s": ("<=", 10.0, "churn_table at 10^6 customers (s)"),
    "churn_table_1e6_peak_mb": ("<=", 4096.0, "churn_table peak memory at 10^6 customers (MB)"),
    "bgnbd_fit_1e6_s": ("<=", 5.0, "BG/NBD fit at 10^6 customers (s)"),
    "pipeline_1e6_s": ("<=", 240.0, "whole pipeline at 10^6 customers on 2 cores (s)"),
    "pipeline_1e6_peak_mb": ("<=", 3072.0, "whole pipeline at 10^6 customers: the largest peak "
                             "memory of one process (MB)"),
    "pipeline_1e7_s": ("<=", 1800.0, "whole pipeline at 10^7 customers on 2 cores (s; opt-in "
                       "size: --sizes 1e7)"),
    "pipeline_1e7_peak_mb": ("<=", 6144.0, "whole pipeline at 10^7 customers: the largest peak "
                             "memory of one process (MB)"),
    "bgnbd_speedup_vs_lifetimes": (">=", 5.0, "lifetimes BetaGeoFitter time / ours (slowest case)"),
    "bgnbd_param_max_abs_diff": ("<=", 1e-3, "largest |difference| of r, alpha, a, b vs lifetimes"),
    "cox_overhead_ratio": ("<=", 1.10, "CoxRegression.fit time / lifelines CoxPHFitter.fit time"),
    "engine_parity_max_abs_diff": ("<=", 1e-9, "largest |difference| of the engine's churn_table "
                                   "and BTYD summary from the pandas path"),
    "spark_parity_max_abs_diff": ("<=", 1e-9, "largest |difference| of churn_table, cohort counts "
                                  "and BTYD summary on Spark from DuckDB"),
}
