"""``churn-research new-dataset NAME --from data/raw/NAME``: scaffold a user's dataset.

Writes ``data/raw/NAME/mapping.yaml`` (the files and headers mapped onto the data model:
:mod:`churn_research.sources.scaffold`) and ``params/NAME.yaml`` (title, ``source:`` the
mapping, the report language guessed from the headers, and a ``stages:`` skeleton of the keys a
user usually looks at, commented out with their notebook defaults and meanings from
:mod:`churn_research.runner.reference`), then checks the params file and prints the next
command. Never overwrites either file unless ``force``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from churn_research.runner.params import PROJECT_ROOT, USER_DATA_DEFAULTS, notebook_defaults
from churn_research.runner.reference import meanings
from churn_research.sources.scaffold import has_chinese, mapping_text, plan_mapping

__all__ = ["new_dataset", "params_text", "SKELETON"]

#: The keys of each stage a user typically sets for their own data (the params file lists
#: them commented out; docs/parameters.md lists every key).
SKELETON: dict[str, tuple[str, ...]] = {
    "10_indicators": ("freq", "segments", "targets", "event_date", "recurring_col"),
    "20_causes": ("drivers", "horizon_months", "reason_segment"),
    "30_survival": ("segments", "cox_covariates", "horizons"),
    "40_segments": ("horizon_days", "static_columns"),
    "50_clv": ("margin", "discount_rate", "value_col", "segment_by"),
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _flow(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _line(text: str, comment: str, at: int = 36) -> str:
    return f"{text:<{at}} # {comment}"


def params_text(name: str, source: str, *, language: str, root: Path = PROJECT_ROOT) -> str:
    """``params/<name>.yaml`` for a user's data read through ``source`` (a mapping file)."""
    means = meanings(root)
    out = [
        f"# Parameters of the dataset '{name}', written by `churn-research new-dataset`; every key:",
        "# docs/parameters.md. A key left out takes the notebook's default (for your own data: no",
        "# targets, the most frequent level as reference); uncomment a line to change it.",
        f"title: {_flow(name)}",
        _line(f"source: {source}", "your files, mapped onto the data model (check the mapping)"),
        _line(f"language: {language}", means[""]["language"] + "; guessed from your headers"),
        _line("# currency: 元" if language == "zh" else "# currency: EUR", means[""]["currency"]),
        _line("# annual_churn_months: 12", means[""]["annual_churn_months"]),
        _line("# reference: {}", means[""]["reference"]),
        "stages:",
        "  00_data: {}",
    ]
    for stage, keys in SKELETON.items():
        notebook = root / "notebooks" / f"{stage}.ipynb"
        defaults = notebook_defaults(notebook) if notebook.exists() else {}
        out.append(f"  {stage}:")
        for key in keys:
            if key not in defaults:
                continue
            value = USER_DATA_DEFAULTS.get(stage, {}).get(key, defaults[key])
            out.append(_line(f"    # {key}: {_flow(value)}", means[stage].get(key, "")))
    return "\n".join(out) + "\n"


def _resolve(path: str | Path, root: Path) -> Path:
    path = Path(path)
    if path.is_absolute():
        return path
    return path if path.exists() else root / path


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path.resolve())


def new_dataset(name: str, source: str | Path | None = None, *, force: bool = False,
                root: Path = PROJECT_ROOT, echo=print) -> tuple[Path, Path]:
    """Write the mapping and the params file of dataset ``name`` from the files in ``source``
    (default ``data/raw/<name>``), check the params file and print the next command. Returns
    (params file, mapping file); ``SystemExit`` naming the file that exists (without ``force``),
    or the directory that does not."""
    from churn_research.runner.pipeline import check  # noqa: PLC0415 - pipeline imports this lazily

    if not _NAME.fullmatch(name):
        raise SystemExit(f"dataset name {name!r}: use letters, digits, '_', '-' or '.' "
                         "(it names params/<name>.yaml and reports/<name>/).")
    directory = _resolve(source or Path("data") / "raw" / name, root)
    if not directory.is_dir():
        raise SystemExit(f"{_shown(directory, root)} is not a directory: put your files (CSV, "
                         f".xlsx, Parquet; one table each) in data/raw/{name}/ or name the "
                         "directory with --from.")
    params_file, mapping = root / "params" / f"{name}.yaml", directory / "mapping.yaml"
    for existing in (params_file, mapping):
        if existing.exists() and not force:
            raise SystemExit(f"{_shown(existing, root)} already exists: not overwritten (use "
                             "--force to replace it).")
    plans = plan_mapping(directory)
    headers = [h for p in plans for h, _, _ in p.columns]
    language = "zh" if has_chinese(headers) else "en"
    mapping.write_text(mapping_text(plans, title=name), encoding="utf-8")
    params_file.parent.mkdir(parents=True, exist_ok=True)
    params_file.write_text(params_text(name, _shown(mapping, root), language=language, root=root),
                           encoding="utf-8")
    echo(f"wrote {_shown(mapping, root)}")
    for p in plans:
        mapped = sum(1 for _, t, _ in p.columns if t)
        personal = sum(1 for _, t, _ in p.columns if t is None)
        echo(f"  {p.file}: " + (f"{p.table}, {mapped} header(s) mapped, {personal} personal "
                                f"left out, {len(p.columns) - mapped - personal} not recognised"
                                if p.table else "not recognised as a table (commented out)"))
    echo(f"wrote {_shown(params_file, root)}")
    for line in check([name], root=root):
        echo(line)
    echo(f"Check the mapping, then: make reports DATASET={name}")
    return params_file, mapping
