"""The data model shared by every stage: :class:`ChurnData` and :class:`ChurnDataError`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

TABLES = ("customers", "transactions", "tickets", "surveys", "events")
KINDS = ("contractual", "non-contractual")

#: Columns that may hold personal data in raw inputs (English and common Chinese CRM headers).
#: They are dropped from the customer-level tables before anything is written to
#: ``data/processed`` so that no report, JSON or log can show them. (``events.name`` is the
#: name of a business change, not of a person, and is kept.)
PERSONAL_COLUMNS = ("name", "first_name", "last_name", "full_name", "phone", "mobile", "email",
                    "e_mail", "address", "姓名", "电话", "手机", "手机号", "邮箱", "地址")
PERSONAL_TABLES = ("customers", "transactions", "tickets", "surveys")
#: Days without a purchase after which a non-contractual customer counts as lost (default).
DEFAULT_INACTIVITY_DAYS = 180


def sample_ids(ids: pd.Series, size: int, *, random_state: int = 0) -> pd.Index:
    """``size`` distinct values of ``ids`` drawn at random without replacement (seeded)."""
    import numpy as np

    unique = pd.Index(pd.unique(ids))
    if size >= len(unique):
        return unique
    rng = np.random.default_rng(random_state)
    return unique[np.sort(rng.choice(len(unique), size=size, replace=False))]


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

    The message names the table, the column, a few offending rows and how to fix the input.
    """

    def __init__(self, message: str, *, table: str | None = None, column: str | None = None,
                 rows: list | None = None, fix: str | None = None):
        self.table, self.column, self.rows, self.fix = table, column, rows, fix
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
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))


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
        Optional tables (see ``DESIGN.md``); ``None`` when the source has no such table.
    observation_end : Timestamp
        The snapshot date: everything after it is unknown; customers without an end date are
        censored there.
    kind : {"contractual", "non-contractual"}
        ``contractual``: ``end_date`` is an explicit cancellation. ``non-contractual``: the
        end date was inferred from inactivity (``meta["inactivity_days"]`` days without a
        purchase; see :func:`churn_research.data.infer_end_dates`).
    meta : dict
        ``source``, ``licence``, ``checksums`` (sha256 of every input file) and, for synthetic
        data, ``truth`` (the generator's true parameters).
    """

    customers: pd.DataFrame
    transactions: pd.DataFrame | None = None
    tickets: pd.DataFrame | None = None
    surveys: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    observation_end: pd.Timestamp | None = None
    kind: str = "contractual"
    meta: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables that are present, by name."""
        return {t: getattr(self, t) for t in TABLES if getattr(self, t) is not None}

    def has(self, table: str) -> bool:
        """Whether ``table`` is present and non-empty."""
        df = getattr(self, table)
        return df is not None and len(df) > 0

    @property
    def inactivity_days(self) -> int:
        """Days without a purchase that mark a non-contractual customer as lost
        (``meta["inactivity_days"]``, default 180)."""
        return int((self.meta or {}).get("inactivity_days", DEFAULT_INACTIVITY_DAYS))

    @property
    def event_date(self) -> pd.Timestamp | None:
        """Date of the first business change in ``events`` (None without events)."""
        if not self.has("events"):
            return None
        return pd.Timestamp(self.events["date"].min())

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
        person-month GLMs, permutation importance) on such a sample when the customer base
        is larger: a random sample of tens of thousands gives the same estimates up to
        sampling error, which the confidence intervals include, at a fixed cost instead of
        one growing with the base. Descriptive figures use every customer. Returns ``self``
        when there are at most ``max_customers`` customers (or ``max_customers`` is None);
        otherwise a new ``ChurnData`` with ``meta["sample"]`` describing the sample.
        """
        n = len(self.customers)
        if max_customers is None or n <= int(max_customers):
            return self
        if int(max_customers) < 1:
            raise ValueError("max_customers must be at least 1 (or None for no sampling)")
        ids = sample_ids(self.customers["customer_id"], int(max_customers), random_state=random_state)
        tables = {}
        for name in TABLES:
            df = getattr(self, name)
            if df is not None and name != "events" and "customer_id" in df:
                df = df[df["customer_id"].isin(ids)].reset_index(drop=True)
            tables[name] = df
        meta = dict(self.meta)
        meta["sample"] = {"customers": int(max_customers), "of": n, "random_state": random_state}
        return ChurnData(**tables, observation_end=self.observation_end, kind=self.kind, meta=meta)

    # -- persistence ---------------------------------------------------------------------
    def write(self, directory: str | Path) -> Path:
        """Write the tables as parquet plus ``meta.json`` into ``directory``.

        Personal-data columns (see ``PERSONAL_COLUMNS``) are dropped: processed data feeds
        the reports, which must never show them.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in TABLES:
            path = directory / f"{name}.parquet"
            df = getattr(self, name)
            if df is None:
                path.unlink(missing_ok=True)
                continue
            drop = [c for c in df.columns if name in PERSONAL_TABLES and c.lower() in PERSONAL_COLUMNS]
            df.drop(columns=drop).to_parquet(path, index=False)
        meta = dict(self.meta)
        meta.update({
            "observation_end": str(pd.Timestamp(self.observation_end).date()),
            "kind": self.kind,
            "tables": sorted(self.tables()),
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
        tables = {}
        for name in TABLES:
            path = directory / f"{name}.parquet"
            tables[name] = pd.read_parquet(path) if path.exists() else None
        obs = pd.Timestamp(meta.pop("observation_end"))
        kind = meta.pop("kind")
        meta.pop("tables", None)
        return cls(**tables, observation_end=obs, kind=kind, meta=meta)
