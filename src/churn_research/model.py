"""The data model shared by every stage.

:class:`ChurnData` (the tables plus typed fields: ``observation_end``, ``kind``,
``inactivity_days``, ``records_start``, ``snapshot``, the event dates), :class:`ChurnDataError`,
and the project's one churn rule for non-contractual data (:func:`infer_end_dates`, with the
column-checked :func:`infer_churn`). Everything else in the package builds on this module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn_research.personal import PERSONAL_COLUMNS as PERSONAL_COLUMNS  # re-exported
from churn_research.personal import PERSONAL_TABLES as PERSONAL_TABLES
from churn_research.personal import header_reason
from churn_research.personal import mask as mask_personal

TABLES = ("customers", "transactions", "tickets", "surveys", "events", "campaigns")
KINDS = ("contractual", "non-contractual")

#: Days without a purchase after which a non-contractual customer counts as lost (default).
DEFAULT_INACTIVITY_DAYS = 180
#: The fix every "required column is missing" error gives.
MAP_COLUMNS_FIX = ("map your export's column onto this name (the `columns:` of the dataset's YAML "
                   "mapping; README, 'Your own data').")


def sample_positions(n: int, size: int, *, random_state: int = 0) -> np.ndarray:
    """Sorted positions of a simple random sample of ``size`` of ``n`` rows, without replacement
    (seeded); every position when ``size >= n``. The project's one sampling rule: the model
    fits on samples of large bases (``max_model_customers``) all draw through it."""
    if size >= n:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, size=size, replace=False))


def sample_ids(ids: pd.Series, size: int, *, random_state: int = 0) -> pd.Index:
    """``size`` distinct values of ``ids`` drawn at random without replacement (seeded)."""
    unique = pd.Index(pd.unique(ids))
    return unique[sample_positions(len(unique), size, random_state=random_state)]


def sample_note(data: ChurnData, what: str = "The models below") -> str:
    """A sentence for a report saying whether ``what`` uses a sample (empty when not)."""
    s = data.meta.get("sample")
    if not s:
        return ""
    return (f"{what} use a simple random sample of {s['customers']:,} of the "
            f"{s['of']:,} customers (seed {s['random_state']}; parameter `max_model_customers`): "
            "the estimates are the same up to sampling error, which their confidence intervals "
            "include, at a fixed cost. Descriptive figures use every customer.")


class ChurnDataError(ValueError):
    """Raised for any input that does not fit the data model.

    The message names the table, the column, a few offending rows and how to fix the input;
    for a parameter's value that does not fit the data, the parameter (``parameter``, a dotted
    key such as ``reference.plan``; the runner adds the params file and section). Values that look personal (phone numbers, e-mails, ID numbers) are masked in every part
    (:func:`churn_research.personal.mask`): an error message never quotes them.
    """

    def __init__(self, message: str, *, table: str | None = None, column: str | None = None,
                 rows: list | None = None, fix: str | None = None, parameter: str | None = None):
        rows = None if rows is None else [mask_personal(r) for r in rows]
        fix = None if fix is None else mask_personal(fix)
        self.table, self.column, self.rows, self.fix = table, column, rows, fix
        self.parameter = parameter
        parts = []
        if table is not None:
            where = f"table '{table}'"
            if column is not None:
                where += f", column '{column}'"
            parts.append(where + ":")
        parts.append(message)
        if rows:
            shown = ", ".join(str(r) for r in rows[:5])
            more = f" (and {len(rows) - 5} more)" if len(rows) > 5 else ""
            parts.append(f"Offending rows: {shown}{more}.")
        if parameter:  # the runner names the params file and section (PARAMETER_PATTERN)
            parts.append(f"Parameter `{parameter}`.")
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(mask_personal(" ".join(parts)))


def offending_rows(df: pd.DataFrame, mask, n: int = 5) -> list[str]:
    """A few offending rows for a :class:`ChurnDataError`: 'row <n> (customer_id=...)', numbered
    as lines of a CSV file (after its header), without personal data (a customer_id that
    looks like a phone number, e-mail or ID number is masked)."""
    idx = np.flatnonzero(np.asarray(mask))[:n]
    out = []
    for i in idx:
        label = f"row {i + 2}"  # 1-based, after the header line of a CSV
        if "customer_id" in df.columns:
            label += f" (customer_id={mask_personal(df['customer_id'].iloc[i])})"
        out.append(label)
    return out


def require_columns(df: pd.DataFrame, table: str, columns, *, fix: str = MAP_COLUMNS_FIX) -> None:
    """Raise :class:`ChurnDataError` naming the first of ``columns`` missing from ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ChurnDataError(f"missing column(s) {missing}.", table=table,
                             column=missing[0], fix=fix)


def on_books(customers: pd.DataFrame, date) -> pd.Series:
    """Whether each customer was a customer on ``date``: started by then and not ended by then
    (the project's one rule for "active on a date", the base of every churn figure)."""
    day = pd.Timestamp(date)
    start = pd.to_datetime(customers["start_date"])
    end = pd.to_datetime(customers["end_date"])
    return (start <= day) & (end.isna() | (end > day))


def is_snapshot(customers: pd.DataFrame, observation_end, *, window_days: int = 31) -> bool:
    """Whether ``customers`` look like one snapshot: every churner left within ``window_days``
    before ``observation_end`` while start dates spread over more than that.

    Such a dataset (e.g. IBM Telco) is one cross-section: who was a customer at the start of the
    last period, and who of them left during it. Its churn flag is a one-period outcome. This is
    the project's one rule for it (see :attr:`ChurnData.is_snapshot`).
    """
    ends = pd.to_datetime(customers["end_date"]).dropna()
    if ends.empty:
        return False
    obs = pd.Timestamp(observation_end)
    starts = pd.to_datetime(customers["start_date"])
    spread = (starts.max() - starts.min()).days
    return bool(ends.min() >= obs - pd.Timedelta(days=window_days)) and spread > window_days


def yes_no(value):
    """A boolean group label as a word a reader expects ("yes" / "no"); anything else as is."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return value


#: The sources known by name (everything else is a directory or a YAML mapping file); here, not
#: in ``sources``, so that the runner checks a params file without importing the loaders.
BUILT_IN = ("synthetic", "synthetic_zh", "telco", "cdnow")


def sha256(path: str | Path) -> str:
    """Hex sha256 of a file (here, not in ``sources``: the runner checksums reports' inputs
    without importing the loaders and the engine)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file, so that a reader never sees
    a half-written report, JSON or CSV (the parent directory is created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def _timestamp(value) -> pd.Timestamp | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else pd.Timestamp(value)


def read_parquet(path, **kwargs) -> pd.DataFrame:
    """A Parquet table as pandas, its text columns in pandas' Arrow-backed ``str`` dtype (the
    default of pandas 3; missing values stay NaN, comparisons give plain booleans).

    Why not ``object``: 10^7 customers' eight text columns take ~4 GB as Python strings and
    ~1 GB in Arrow, and read ~3x faster (``make bench``, ``pipeline_1e7_peak_mb``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def text(dtype):
        return _TEXT if dtype in (pa.string(), pa.large_string()) else None

    frame = pq.read_table(path, **kwargs).to_pandas(types_mapper=text)
    # the Arrow buffers of the converted (non-text) columns are free now; Arrow's allocator
    # keeps them for reuse unless asked: 10^7 customers' read held ~0.7 GB more without this
    pa.default_memory_pool().release_unused()
    return frame


_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


class _StoredTable:
    """A table of processed data not read yet (:meth:`ChurnData.read`): read on first use.

    ``ids``: only the rows of these customers (a model sample), in the file's order, as
    ``df[df["customer_id"].isin(ids)].reset_index(drop=True)`` of the whole table would give.
    """

    __slots__ = ("path", "ids", "parent", "name", "frame")

    def __init__(self, path: Path, ids: pd.Index | None = None, *, parent: ChurnData | None = None,
                 name: str | None = None):
        self.path, self.ids, self.name = Path(path), ids, name
        self.frame: pd.DataFrame | None = None  # once read: shared by every copy (replace())
        # the data the sample was drawn from (weakly): if it has read the whole table by the
        # time the sample needs its rows, they are taken from memory, not read again
        self.parent = None if parent is None else weakref.ref(parent)

    def columns(self) -> list[str]:
        import pyarrow.parquet as pq

        return list(pq.read_schema(self.path).names)

    def rows(self) -> int:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(self.path).metadata.num_rows)

    def load(self) -> pd.DataFrame:
        if self.frame is None:
            self.frame = self._read()
        return self.frame

    def _read(self) -> pd.DataFrame:
        if self.ids is None:
            return read_parquet(self.path)
        parent = self.parent() if self.parent is not None else None
        whole = parent._stored(self.name) if parent is not None else None
        if isinstance(whole, pd.DataFrame):
            return whole[whole["customer_id"].isin(self.ids)].reset_index(drop=True)
        try:
            df = read_parquet(self.path, filters=[("customer_id", "in", list(self.ids))])
        except Exception:  # noqa: BLE001 - a type pyarrow cannot filter on: filter in pandas
            df = read_parquet(self.path)
            df = df[df["customer_id"].isin(self.ids)]
        return df.reset_index(drop=True)


def stored_table(path: str | Path) -> _StoredTable:
    """A table of processed data that a :class:`ChurnData` reads on first use (what
    :meth:`ChurnData.read` gives for every table but the customers)."""
    return _StoredTable(Path(path))


@dataclass
class ChurnData:
    """A company's customer data in the project's data model.

    Attributes
    ----------
    customers : DataFrame
        One row per customer: ``customer_id``, ``start_date``, ``end_date`` (NaT = still a
        customer at ``observation_end``) and optional attributes (``churn_reason``, ``gender``,
        ``age``, ``region``, ``channel``, ``plan``, ``monthly_revenue``, ...).
    transactions, tickets, surveys, events : DataFrame or None
        Optional tables (see the data model in the README); ``None`` when the source has no
        such table.
    campaigns : DataFrame or None
        Optional: who a retention campaign reached, one row per customer and campaign:
        ``customer_id``, ``date`` (the campaign's date), ``campaign`` (its name), ``treated``
        (1 = contacted, 0 = held out as control) and optionally ``cost`` (the cost of the
        contact). Read by :mod:`churn_research.retention.campaign` to measure its effect.
    observation_end : Timestamp
        The snapshot date: everything after it is unknown; customers without an end date are
        censored there.
    kind : {"contractual", "non-contractual"}
        ``contractual``: ``end_date`` is an explicit cancellation. ``non-contractual``: the
        end date was inferred from inactivity (``inactivity_days`` days without a purchase; see
        :func:`infer_end_dates`).
    meta : dict
        Provenance: ``source``, ``licence``, ``checksums`` (sha256 of every input file) and,
        for synthetic data, ``truth`` (the generator's true parameters, used only to compare
        estimates with the truth).
    inactivity_days : int
        Days without a purchase after which a non-contractual customer counts as lost
        (default 180). Every stage uses this value unless a parameter overrides it.
    records_start : Timestamp or None
        The date from which the records follow customers. Anyone who was already a customer
        then is only known because they survived to it (*left truncation*): survival models
        let them enter the risk set at their tenure on that date, and churn rates start there.
        Loaders set it (the synthetic generator: its start date); a user's data declare it
        with ``records_start:`` in the YAML mapping or in ``source_options``. None: the
        records cover every customer's whole history.
    snapshot : Timestamp or None
        Set for one-snapshot data (e.g. IBM Telco): the date of the snapshot whose last month
        alone has recorded exits.
    """

    customers: pd.DataFrame
    transactions: pd.DataFrame | None = None
    tickets: pd.DataFrame | None = None
    surveys: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    campaigns: pd.DataFrame | None = None
    observation_end: pd.Timestamp | None = None
    kind: str = "contractual"
    meta: dict[str, Any] = field(default_factory=dict)
    inactivity_days: int = DEFAULT_INACTIVITY_DAYS
    records_start: pd.Timestamp | None = None
    snapshot: pd.Timestamp | None = None

    def __getattribute__(self, name: str):
        value = object.__getattribute__(self, name)
        if type(value) is _StoredTable:  # read from disk on first use (ChurnData.read)
            value = value.load()
            object.__setattr__(self, name, value)
        return value

    def _stored(self, name: str):
        """A table's value without reading it: a DataFrame, None or a :class:`_StoredTable`."""
        return object.__getattribute__(self, name)

    def __post_init__(self):
        self.inactivity_days = int(self.inactivity_days)
        if self.inactivity_days < 0:
            raise ChurnDataError(f"inactivity_days must be >= 0, got {self.inactivity_days}.",
                                 fix="set inactivity_days to the days without a purchase after "
                                     "which a customer counts as lost (e.g. 180).")
        self.records_start = _timestamp(self.records_start)
        self.snapshot = _timestamp(self.snapshot)

    def unread_path(self, name: str) -> Path | None:
        """The Parquet file of table ``name`` while the whole table is still unread (processed
        data, or an engine source's output), so that a profile can aggregate it in place
        (:mod:`churn_research.sources.profile`); None once read, for a sample, or a frame."""
        value = self._stored(name)
        return value.path if type(value) is _StoredTable and value.ids is None and value.frame is None else None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables that are present, by name."""
        return {t: getattr(self, t) for t in TABLES if getattr(self, t) is not None}

    def table_names(self) -> list[str]:
        """The names of the tables that are present, as :meth:`tables` (none is read)."""
        return [t for t in TABLES if self._stored(t) is not None]

    def has(self, table: str) -> bool:
        """Whether ``table`` is present and non-empty (a table not read yet stays unread)."""
        df = self._stored(table)
        if type(df) is _StoredTable and df.ids is None:
            return df.rows() > 0
        df = getattr(self, table)
        return df is not None and len(df) > 0

    def columns_of(self, table: str) -> list[str]:
        """The column names of ``table`` (a table not read yet stays unread; [] if absent)."""
        df = self._stored(table)
        if type(df) is _StoredTable:
            return df.columns()
        return [] if df is None else list(df.columns)

    def replace(self, **changes: Any) -> ChurnData:
        """A copy with some tables or fields replaced (the others are shared, not copied; tables
        not read yet stay unread)."""
        kept = {f.name: self._stored(f.name) for f in dataclasses.fields(self)
                if f.init and f.name not in changes}
        return dataclasses.replace(self, **kept, **changes)

    @property
    def is_snapshot(self) -> bool:
        """One snapshot (``snapshot`` set, or every churner left in the last month: see
        :func:`is_snapshot`) rather than a dated history. Every stage takes its design from
        this: 20_causes models a snapshot with one row per customer, 40_segments
        cross-sectionally, 10_indicators measures churn over the snapshot's last month."""
        if self.snapshot is not None:
            return True
        return self.kind == "contractual" and is_snapshot(self.customers, self.observation_end)

    @property
    def event_dates(self) -> list[pd.Timestamp]:
        """Dates of the business changes in ``events``, earliest first (empty without events)."""
        if not self.has("events"):
            return []
        return sorted(pd.Timestamp(d) for d in pd.to_datetime(self.events["date"]).dropna().unique())

    @property
    def event_date(self) -> pd.Timestamp | None:
        """Date of the first business change in ``events`` (None without events)."""
        dates = self.event_dates
        return dates[0] if dates else None

    def summary(self) -> pd.DataFrame:
        """Rows and date range of each table (no personal data)."""
        rows = []
        date_col = {"customers": "start_date"}
        for name, df in self.tables().items():
            col = date_col.get(name, "date")
            rows.append({
                "table": name,
                "rows": len(df),
                "columns": df.shape[1],
                "first_date": df[col].min() if col in df else pd.NaT,
                "last_date": df[col].max() if col in df else pd.NaT,
            })
        return pd.DataFrame(rows)

    # -- sampling for the model fits -------------------------------------------------------
    def sample_customers(self, max_customers: int | None, *, random_state: int = 0) -> ChurnData:
        """A simple random sample of at most ``max_customers`` customers with all their rows.

        The stages fit their heaviest models (Cox with delayed entry, time-varying Cox,
        person-month GLMs, permutation importance, clusters, the risk model) on such a sample
        when the customer base is larger: a random sample of tens of thousands gives the same
        estimates up to sampling error, which the confidence intervals include, at a fixed cost
        instead of one growing with the base. Descriptive figures use every customer. Returns
        ``self`` when there are at most ``max_customers`` customers (or ``max_customers`` is
        None); otherwise a new ``ChurnData`` with ``meta["sample"]`` describing the sample.
        This is the project's one way of sampling customers (see also :func:`sample_ids`).
        """
        n = len(self.customers)
        if max_customers is None or n <= int(max_customers):
            return self
        if int(max_customers) < 1:
            raise ValueError("max_customers must be at least 1 (or None for no sampling)")
        ids = sample_ids(self.customers["customer_id"], int(max_customers), random_state=random_state)
        tables = {}
        for name in TABLES:
            df = self._stored(name)
            if type(df) is _StoredTable and df.ids is None and name != "events" \
                    and "customer_id" in df.columns():
                df = _StoredTable(df.path, ids, parent=self, name=name)  # the sample's rows, on first use
            elif type(df) is _StoredTable:
                df = getattr(self, name)
            if isinstance(df, pd.DataFrame) and name != "events" and "customer_id" in df:
                df = df[df["customer_id"].isin(ids)].reset_index(drop=True)
            tables[name] = df
        meta = dict(self.meta)
        meta["sample"] = {"customers": int(max_customers), "of": n, "random_state": random_state}
        return self.replace(**tables, meta=meta)

    def rows_of(self, table: str, ids) -> pd.DataFrame | None:
        """The rows of ``table`` of the customers ``ids``, in the table's order: read from disk,
        only those rows, when the table is not in memory (None without the table)."""
        df = self._stored(table)
        if df is None:
            return None
        ids = pd.Index(pd.unique(pd.Series(list(ids), dtype=object)))
        if type(df) is _StoredTable and df.ids is None:
            return _StoredTable(df.path, ids).load()
        df = getattr(self, table)
        return df[df["customer_id"].isin(ids)].reset_index(drop=True)

    # -- persistence ---------------------------------------------------------------------
    def write(self, directory: str | Path) -> Path:
        """Write the tables as parquet plus ``meta.json`` into ``directory``.

        Tables an engine source wrote into ``directory`` itself (``meta["engine"]``) are left
        as they are. The loaders already dropped every personal column
        (:func:`churn_research.personal.screen`, by header and by content); as a safety net for
        data built by hand, columns whose header marks them as personal (:func:`churn_research.personal.header_reason`) are dropped
        here too: processed data feeds the reports, which must never show them.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        engine = self.meta.get("engine") or {}
        written = (engine.get("tables", ()) if engine.get("directory") == str(directory.resolve())
                   else ())  # the engine wrote them there (churn_research.sources.tables)
        for name in TABLES:
            path = directory / f"{name}.parquet"
            if name in written and self._stored(name) is not None and path.exists():
                continue  # (never read into memory for this)
            df = getattr(self, name)
            if df is None:
                path.unlink(missing_ok=True)
                continue
            drop = [c for c in df.columns if header_reason(name, c) is not None]
            df.drop(columns=drop).to_parquet(path, index=False)
        meta = dict(self.meta)
        meta.update({
            "observation_end": str(pd.Timestamp(self.observation_end).date()),
            "kind": self.kind,
            "tables": sorted(self.table_names()),
            "inactivity_days": self.inactivity_days,
            "records_start": None if self.records_start is None else str(self.records_start.date()),
            "snapshot": None if self.snapshot is None else str(self.snapshot.date()),
        })
        (directory / "meta.json").write_text(json.dumps(meta, indent=2, default=str, sort_keys=True))
        return directory

    @classmethod
    def read(cls, directory: str | Path) -> ChurnData:
        """Read data written by :meth:`write` (the stages' only input)."""
        directory = Path(directory)
        meta_path = directory / "meta.json"
        if not meta_path.exists():
            raise ChurnDataError(
                f"no processed data in '{directory}'.",
                fix="run `make data` (or the 00_data notebook) for this dataset first.",
            )
        meta = json.loads(meta_path.read_text())
        tables: dict[str, Any] = {}
        for name in TABLES:
            path = directory / f"{name}.parquet"
            # the customers now; every other table when a stage first uses it (a stage that
            # never looks at the transactions never holds them in memory)
            stored = _StoredTable(path) if path.exists() else None
            tables[name] = stored.load() if stored is not None and name == "customers" else stored
        fields = {"observation_end": pd.Timestamp(meta.pop("observation_end")),
                  "kind": meta.pop("kind"),
                  "inactivity_days": meta.pop("inactivity_days", DEFAULT_INACTIVITY_DAYS),
                  "records_start": meta.pop("records_start", None),
                  "snapshot": meta.pop("snapshot", None)}
        meta.pop("tables", None)
        return cls(**tables, **fields, meta=meta)


# ------------------------------------------------------------------------------------------
# the churn rule for non-contractual data
# ------------------------------------------------------------------------------------------
def select_events(data: ChurnData, events=None) -> pd.DataFrame | None:
    """The business events to analyse, earliest first: ``date`` and ``event`` (the name, else the
    date). Every stage that studies the changes one by one (10_indicators, 30_survival) selects them
    here, from its ``events`` parameter.

    ``events``: None (every event of the data) or a list of event names and/or dates
    (``"2024-07-01"``). None when the data have no events table.
    """
    if not data.has("events"):
        return None
    ev = data.events.copy()
    ev["date"] = pd.to_datetime(ev["date"])
    ev = ev.dropna(subset=["date"])
    names = ev["name"].astype(str) if "name" in ev else ev["date"].dt.strftime("%Y-%m-%d")
    ev = pd.DataFrame({"date": ev["date"], "event": names})
    if events is not None:
        wanted = [events] if isinstance(events, str) else list(events)
        keep = np.zeros(len(ev), dtype=bool)
        for w in wanted:
            hit = ev["event"].eq(str(w)).to_numpy()
            if not hit.any():
                try:
                    hit = (ev["date"] == pd.Timestamp(w)).to_numpy()
                except (ValueError, TypeError):
                    hit = np.zeros(len(ev), dtype=bool)
            if not hit.any():
                raise ValueError(f"events: {w!r} is neither an event name nor an event date "
                                 f"(events: {', '.join(ev['event'])}).")
            keep |= hit
        ev = ev[keep]
    # events on the same date are one change
    ev = ev.groupby("date", as_index=False).agg(event=("event", " + ".join))
    return ev.sort_values("date").reset_index(drop=True)


def infer_end_dates(customers: pd.DataFrame, transactions: pd.DataFrame, *,
                    observation_end, inactivity_days: int) -> pd.DataFrame:
    """Infer churn dates for non-contractual data (the rule every stage shares).

    A customer is taken as lost on the date of their last purchase if no purchase followed
    within ``inactivity_days`` *and* at least ``inactivity_days`` have passed since it before
    ``observation_end``. Customers whose last purchase is more recent cannot be classed yet
    (``status == "undetermined"``) and stay censored (``end_date`` NaT) at ``observation_end``.

    Returns a new customers frame with ``end_date`` (the inferred churn date or NaT),
    ``last_purchase`` and ``status``:

    - ``"churned"``: ``observation_end - last_purchase > inactivity_days``; churn date =
      last purchase;
    - ``"active"``: bought within the last ``inactivity_days`` days (censored);
    - ``"undetermined"``: not churned but joined within the last ``inactivity_days`` days, so
      the rule has not yet had a full window to apply (also censored). Rates and survival
      use only the churned / censored split; ``status`` lets reports state the caveat.
    """
    obs = pd.Timestamp(observation_end)
    last = transactions.groupby("customer_id", observed=True)["date"].max()
    out = customers.copy()
    out["last_purchase"] = out["customer_id"].map(last)
    gap = (obs - out["last_purchase"]).dt.days
    churned = gap > inactivity_days
    out["end_date"] = out["last_purchase"].where(churned)
    recent_start = (obs - out["start_date"]).dt.days <= inactivity_days
    out["status"] = np.where(churned, "churned", np.where(recent_start, "undetermined", "active"))
    return out


def infer_churn(customers: pd.DataFrame, transactions: pd.DataFrame, *, observation_end,
                inactivity_days: int = DEFAULT_INACTIVITY_DAYS) -> pd.DataFrame:
    """Infer churn of non-contractual customers from their purchases (the project's rule).

    Rule: a customer is lost **on the date of their last purchase** if more than
    ``inactivity_days`` days separate that purchase from ``observation_end``
    (``observation_end - last_purchase > inactivity_days``). Everyone else is still counted as
    a customer (``end_date`` NaT). Customers without any purchase are never classed as churned.

    Caveat: the rule can only see a lapse ``inactivity_days`` after it happened, so recent
    customers cannot be classed yet. ``status`` says which case applies:

    - ``"churned"``: lapsed by the rule; ``end_date`` = last purchase;
    - ``"active"``: bought within the last ``inactivity_days`` days;
    - ``"undetermined"``: not churned, but joined within the last ``inactivity_days`` days, so
      the rule has not had a full window to apply.

    Rates built on the inferred dates must stop ``inactivity_days + 1`` days before
    ``observation_end`` (every lapse dated up to then is visible);
    :func:`churn_research.indicators.observation_window` does this for non-contractual data.

    This checks the columns, parses the dates and applies :func:`infer_end_dates`, so the
    loaders, the indicators, survival and segments stages all agree.

    Parameters
    ----------
    customers : DataFrame
        ``customer_id`` and ``start_date`` (first purchase); other columns are kept.
    transactions : DataFrame
        ``customer_id`` and ``date``.
    observation_end : date-like
        Snapshot date of the purchase log.
    inactivity_days : int, default 180
        Days without a purchase after which a customer counts as lost.

    Returns
    -------
    DataFrame
        A new customers frame with ``end_date``, ``last_purchase`` and ``status``.

    Examples
    --------
    >>> c = pd.DataFrame({"customer_id": ["a", "b"],
    ...                   "start_date": pd.to_datetime(["2020-01-01", "2020-06-01"])})
    >>> t = pd.DataFrame({"customer_id": ["a", "b"],
    ...                   "date": pd.to_datetime(["2020-02-01", "2020-12-01"])})
    >>> infer_churn(c, t, observation_end="2020-12-31", inactivity_days=90)["status"].tolist()
    ['churned', 'active']
    """
    if int(inactivity_days) < 0:
        raise ValueError(f"inactivity_days must be >= 0, got {inactivity_days!r}.")
    for table, df, cols in (("customers", customers, ("customer_id", "start_date")),
                            ("transactions", transactions, ("customer_id", "date"))):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ChurnDataError("required column is missing.", table=table, column=missing[0],
                                 fix=MAP_COLUMNS_FIX)
    cust = customers.copy()
    cust["start_date"] = pd.to_datetime(cust["start_date"])
    tx = transactions[["customer_id", "date"]].copy()
    tx["date"] = pd.to_datetime(tx["date"])
    return infer_end_dates(cust, tx, observation_end=pd.Timestamp(observation_end),
                           inactivity_days=int(inactivity_days))


def redefine_churn(data: ChurnData, inactivity_days: int) -> ChurnData:
    """``data`` with churn re-inferred under another inactivity window (non-contractual data).

    The customers' ``end_date``, ``last_purchase`` and ``status`` are recomputed from the same
    transactions by the project's rule (:func:`infer_churn`) with ``inactivity_days``, and the
    copy carries that window (``ChurnData.inactivity_days``), so every figure built on it
    (annual churn, the lifetime frame, who is active) uses the new definition. Nothing is
    written: the processed data on disk keep the dataset's own window. Contractual data have
    recorded churn dates and no such window: asking for one is an error.
    """
    if data.kind != "non-contractual":
        raise ChurnDataError(
            "churn is recorded (contractual data): there is no inactivity window to change.",
            fix="re-infer churn only for non-contractual data (kind: non-contractual).")
    if not data.has("transactions"):
        raise ChurnDataError("non-contractual data need transactions to infer churn.",
                             table="transactions", fix="load the purchase log with the customers.")
    inferred = infer_churn(data.customers.drop(columns=["end_date", "last_purchase", "status"],
                                               errors="ignore"),
                           data.transactions, observation_end=data.observation_end,
                           inactivity_days=int(inactivity_days))
    return data.replace(customers=inferred, inactivity_days=int(inactivity_days))
