"""The synthetic customer base at scale: written to partitioned Parquet in chunks of customers,
within a few hundred MB of memory whatever the size (:func:`write_chunked`), and read back in
place by the engine (:func:`from_chunked`) or into memory for small bases (:func:`read_chunked`).

Why blocks
----------
The in-memory generator (:func:`churn_research.synthetic.generate`) draws every random number
of the base from one stream, so its output for 10^7 customers would need all of them in memory
at once. Here the base is cut into **blocks** of ``block_size`` customers (10,000 by default),
and block ``b`` is ``generate(block_size, random_state=seed_b)`` with its own seed
``seed_b`` = the first word of ``numpy.random.SeedSequence([random_state, b])`` and its
customers renumbered to follow the blocks before it. A block is the unit of randomness, a
**chunk** (``chunk_size`` customers, a whole number of blocks) the unit of work and of the
part files: the data do not depend on the chunk size (tested), only on ``n_customers``,
``random_state``, ``block_size`` and the generator's options. The population is the
generator's (every block has its own mix of customers who joined before the records begin and
during them, so customer numbers follow the sign-up order within a block, not across blocks).
``generate`` itself is untouched: its in-memory output is what it was.

Layout
------
``directory/<table>/part-NNNNN.parquet`` for ``customers``, ``transactions``, ``tickets``,
``surveys`` (and ``campaigns`` when the campaign option is on), one part per chunk;
``directory/events/part-00000.parquet``; ``directory/mapping.yaml`` (:func:`write_mapping`: the
base as a ``source:`` for a dataset's params); and ``directory/meta.json`` in the format of
:meth:`churn_research.model.ChurnData.write` (``observation_end``, ``kind``, ``records_start``,
the truth of the first block, the chunking parameters). Personal columns (names, phones,
e-mails) are not written, as :meth:`ChurnData.write` drops them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from churn_research.model import TABLES, ChurnData, ChurnDataError
from churn_research.personal import header_reason

__all__ = ["block_seed", "generate_block", "write_chunked", "write_mapping", "read_chunked",
           "from_chunked"]

#: Tables written per chunk (``events`` is written once: it is the same business change).
_PER_CHUNK = ("customers", "transactions", "tickets", "surveys", "campaigns")


def block_seed(random_state: int, block: int) -> int:
    """The seed of block ``block``: the first 64-bit word of ``SeedSequence([random_state,
    block])`` (independent streams for different blocks)."""
    ss = np.random.SeedSequence([int(random_state), int(block)])
    return int(ss.generate_state(1, dtype=np.uint64)[0])


def _id_width(n_customers: int) -> int:
    return max(7, len(str(int(n_customers))))


def generate_block(block: int, *, block_size: int, n_customers: int, random_state: int = 0,
                   **options) -> ChurnData:
    """Block ``block`` of a base of ``n_customers``: ``generate(size, random_state=block_seed)``
    (``size`` = ``block_size``, or what is left for the last block) with customer ids
    ``C<number>`` numbered after the previous blocks' customers (``options``: the generator's
    keywords)."""
    from churn_research.sources.synthetic import generate

    first = int(block) * int(block_size)
    size = min(int(block_size), int(n_customers) - first)
    if size < 1:
        raise ValueError(f"block {block} is past the end of a base of {n_customers} customers.")
    data = generate(size, random_state=block_seed(random_state, block), **options)
    local = pd.Index(data.customers["customer_id"])
    width = _id_width(n_customers)
    numbers = np.arange(first + 1, first + size + 1).astype(str)
    ids = np.array(["C" + s.zfill(width) for s in numbers], dtype=object)
    tables = {}
    for name in _PER_CHUNK:
        df = getattr(data, name)
        if df is None or "customer_id" not in df:
            continue
        pos = local.get_indexer(df["customer_id"])
        df = df.copy()
        df["customer_id"] = ids[pos]
        tables[name] = df
    return data.replace(**tables)


def _write_part(directory: Path, name: str, index: int, frames: list[pd.DataFrame]) -> int:
    frames = [f for f in frames if f is not None]
    if not frames:
        return 0
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    drop = [c for c in df.columns if header_reason(name, c) is not None]
    (directory / name).mkdir(parents=True, exist_ok=True)
    df.drop(columns=drop).to_parquet(directory / name / f"part-{index:05d}.parquet", index=False)
    return len(df)


def write_chunked(directory: str | Path, n_customers: int, *, random_state: int = 0,
                  block_size: int = 10_000, chunk_size: int = 100_000, **options) -> dict:
    """Write a synthetic base of ``n_customers`` to ``directory`` (see the module docstring),
    ``chunk_size`` customers at a time (a multiple of ``block_size``; the last chunk may be
    shorter). ``options``: the generator's keywords (``start``, ``observation_end``,
    overrides). Returns the row counts per table and the number of parts."""
    n = int(n_customers)
    block_size, chunk_size = int(block_size), int(chunk_size)
    if n < 1 or block_size < 1:
        raise ValueError("n_customers and block_size must be >= 1.")
    if chunk_size < block_size or chunk_size % block_size:
        raise ValueError(f"chunk_size ({chunk_size}) must be a whole number of blocks "
                         f"(block_size {block_size}).")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in TABLES:  # a rerun replaces the parts of an earlier base
        for old in (directory / name).glob("part-*.parquet"):
            old.unlink()
    n_blocks = -(-n // block_size)
    per_chunk = chunk_size // block_size
    rows = dict.fromkeys(_PER_CHUNK, 0)
    meta = None
    n_existing = 0
    for part, b0 in enumerate(range(0, n_blocks, per_chunk)):
        blocks = [generate_block(b, block_size=block_size, n_customers=n,
                                 random_state=random_state, **options)
                  for b in range(b0, min(b0 + per_chunk, n_blocks))]
        if meta is None:
            first = blocks[0]
            meta = dict(first.meta)
            _write_part(directory, "events", 0, [first.events])
            settings = {"observation_end": str(pd.Timestamp(first.observation_end).date()),
                        "kind": first.kind, "inactivity_days": first.inactivity_days,
                        "records_start": None if first.records_start is None
                        else str(first.records_start.date()), "snapshot": None}
        n_existing += sum(int(d.meta["truth"]["n_existing_at_start"]) for d in blocks)
        for name in _PER_CHUNK:
            rows[name] += _write_part(directory, name, part, [getattr(d, name) for d in blocks])
        del blocks
    meta["params"] = dict(meta["params"], n_customers=n, random_state=int(random_state),
                          block_size=block_size, chunk_size=chunk_size,
                          block_seeds="SeedSequence([random_state, block]).generate_state(1)")
    meta["truth"] = dict(meta["truth"], n_existing_at_start=n_existing)
    meta.update(settings)
    meta["layout"] = "chunked"
    meta["tables"] = sorted(name for name in TABLES if (directory / name).is_dir())
    (directory / "meta.json").write_text(json.dumps(meta, indent=2, default=str, sort_keys=True))
    write_mapping(directory)
    return {"rows": rows, "parts": part + 1, "blocks": n_blocks}


def write_mapping(directory: str | Path) -> Path:
    """``directory/mapping.yaml``: the chunked base as a user's data, each table a directory of
    Parquet parts, with the base's settings (kind, observation end, records start), so that
    ``source: <directory>/mapping.yaml`` in a dataset's params runs the whole pipeline on it
    through the engine (the heavy tables read in place)."""
    import yaml  # noqa: PLC0415

    directory = Path(directory)
    meta = _meta(directory)
    settings = {k: meta[k] for k in ("kind", "observation_end", "inactivity_days", "records_start")
                if meta.get(k) is not None}
    tables = {name: {"file": f"{name}/"} for name in meta["tables"]}
    path = directory / "mapping.yaml"
    path.write_text("# the chunked synthetic base (churn_research.sources.scale) as a mapping source\n"
                    + yaml.safe_dump({**settings, "tables": tables}, sort_keys=False))
    return path


def _meta(directory: Path) -> dict:
    path = directory / "meta.json"
    if not path.exists():
        raise ChurnDataError(f"no chunked data in '{directory}'.",
                             fix="write it with churn_research.sources.scale.write_chunked.")
    return json.loads(path.read_text())


def read_chunked(directory: str | Path) -> ChurnData:
    """A chunked base read into memory (small bases, and the pandas path of the benchmark)."""
    directory = Path(directory)
    meta = _meta(directory)
    tables = {name: pd.read_parquet(directory / name) if (directory / name).is_dir() else None
              for name in TABLES}
    return ChurnData(**tables, observation_end=pd.Timestamp(meta["observation_end"]),
                     kind=meta["kind"], inactivity_days=meta["inactivity_days"],
                     records_start=meta["records_start"], meta=meta)


def from_chunked(directory: str | Path, con=None):
    """A chunked base read in place by the engine (DuckDB by default): its customers and
    transactions as :class:`churn_research.sources.engine.Tables` (tickets and surveys:
    ``con.read_parquet(directory / "tickets" / "*.parquet")``)."""
    from churn_research.sources import engine

    directory = Path(directory)
    meta = _meta(directory)
    tx = directory / "transactions"
    return engine.from_files(directory / "customers" / "*.parquet",
                             tx / "*.parquet" if tx.is_dir() else None, con=con,
                             observation_end=meta["observation_end"], kind=meta["kind"],
                             inactivity_days=meta["inactivity_days"],
                             records_start=meta["records_start"])
