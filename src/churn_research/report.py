"""Key-figure JSON, provenance records and the reports index.

Each stage notebook ends with :func:`save_key_figures`, which writes a *flat* JSON object
(``{"churn_rate_overall": 0.21, "its.level_change": 0.38, ...}``) that machines can read and
the index can show.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _scalar(value: Any) -> Any:
    """Convert numpy / pandas scalars to plain JSON values (NaN and NaT become null)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (pd.Timestamp, _dt.date, np.datetime64)):
        return str(pd.Timestamp(value).date()) if pd.Timestamp(value) == pd.Timestamp(value).normalize() \
            else pd.Timestamp(value).isoformat()
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, str):
        return value
    return str(value)


def flatten(figures: Mapping[str, Any], prefix: str = "", sep: str = ".") -> dict[str, Any]:
    """Flatten nested mappings (and Series / lists of scalars) into ``{"a.b": value}``.

    Lists of scalars stay lists; a DataFrame becomes a list of row records.
    """
    out: dict[str, Any] = {}
    for key, value in figures.items():
        name = f"{prefix}{sep}{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(flatten(value, name, sep))
        elif isinstance(value, pd.Series):
            out.update(flatten(value.to_dict(), name, sep))
        elif isinstance(value, pd.DataFrame):
            out[name] = [{str(k): _scalar(v) for k, v in row.items()}
                         for row in value.to_dict(orient="records")]
        elif isinstance(value, (list, tuple, np.ndarray)):
            out[name] = [_scalar(v) if not isinstance(v, Mapping)
                         else {str(k): _scalar(x) for k, x in v.items()} for v in value]
        else:
            out[name] = _scalar(value)
    return out


def save_key_figures(figures: Mapping[str, Any], path: str | Path) -> dict[str, Any]:
    """Write a stage's key figures as flat, sorted JSON and return the flat dict."""
    flat = flatten(figures)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(flat, indent=2, sort_keys=True, ensure_ascii=False))
    tmp.replace(path)
    return flat
