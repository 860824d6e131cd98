"""The parameter reference (``docs/parameters.md``), generated from the notebooks.

The notebooks' ``parameters`` cells are the schema's one source of truth
(:mod:`churn_research.runner.params` reads their names and defaults); each assignment there
carries a trailing ``# comment`` saying what the parameter does, which this module reads as
its meaning. ``churn-research params --reference > docs/parameters.md`` writes the reference;
a test fails when the file is out of date or a parameter has no comment
(:func:`missing_meanings`).
"""

from __future__ import annotations

import ast
import io
import json
import tokenize
from pathlib import Path
from typing import Any

import nbformat

from churn_research.runner.params import (
    COMMON_KEYS,
    DATE_KEYS,
    NONE_DEFAULT_TYPES,
    PROJECT_ROOT,
    RUNNER_KEYS,
    USER_DATA_DEFAULTS,
    notebook_defaults,
)
from churn_research.runner.registry import stage, stage_names

__all__ = ["parameter_comments", "missing_meanings", "reference_markdown", "meanings",
           "OTHER_COMMON_MEANINGS"]

#: Meanings of the common keys that no notebook declares (read by the runner, or by people).
OTHER_COMMON_MEANINGS = {
    "title": "the dataset's descriptive name, for readers of the params file (no stage reads it)",
    "stages": "one section per stage (`stages: 20_causes: {horizon_months: 24}`) holding the keys "
              "of that stage's notebook below",
}
#: What a stage receives when the params file leaves a common key out, where that is not the
#: notebook's default (:func:`churn_research.runner.params.stage_parameters`).
RUNNER_DEFAULTS = {"source": "synthetic", "source_options": {}}


def _cell(notebook: Path) -> str:
    nb = nbformat.read(notebook, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    return "" if cell is None else cell.source


def parameter_comments(notebook: Path) -> dict[str, str]:
    """Each name the notebook's ``parameters`` cell assigns -> the first ``# comment`` on the
    lines of its assignment ("" when there is none)."""
    source = _cell(Path(notebook))
    spans: list[tuple[int, int, str]] = []
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        spans += [(node.lineno, node.end_lineno or node.lineno, t.id) for t in targets
                  if isinstance(t, ast.Name)]
    out = {name: "" for _, _, name in spans}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.COMMENT:
            continue
        line = tok.start[0]
        for first, last, name in spans:
            if first <= line <= last and not out[name]:
                out[name] = tok.string.lstrip("#").strip()
    return out


def _notebooks(root: Path) -> dict[str, Path]:
    return {s: root / "notebooks" / f"{s}.ipynb" for s in stage_names()
            if (root / "notebooks" / f"{s}.ipynb").exists()}


def missing_meanings(root: Path = PROJECT_ROOT) -> list[str]:
    """``<stage>.<name>`` of every notebook parameter without a comment (empty: none)."""
    return [f"{s}.{name}" for s, nb in _notebooks(root).items()
            for name, text in parameter_comments(nb).items() if not text]


def meanings(root: Path = PROJECT_ROOT) -> dict[str, dict[str, str]]:
    """``{stage: {name: meaning}}`` of every notebook, and ``{"": {common key: meaning}}``
    (a common key's meaning: its first comment in stage order, without "(common key)")."""
    out: dict[str, dict[str, str]] = {s: parameter_comments(nb) for s, nb in _notebooks(root).items()}
    common = dict(OTHER_COMMON_MEANINGS)
    for comments in out.values():
        for key, text in comments.items():
            if key in COMMON_KEYS and text and key not in common:
                common[key] = text.replace(" (common key)", "")
    out[""] = common
    return out


def _type(name: str, default: Any) -> str:
    if name in DATE_KEYS:
        return "date (YYYY-MM-DD)" + (" or null" if default is None else "")
    if default is None:
        typed = NONE_DEFAULT_TYPES.get(name)
        return "any or null" if typed is None else f"{_type(name, typed)} or null"
    if isinstance(default, bool):
        return "true/false"
    if isinstance(default, int):
        return "integer"
    if isinstance(default, float):
        return "number"
    if isinstance(default, str):
        return "text"
    if isinstance(default, (list, tuple)):
        kinds = {type(v) for v in default}
        element = {frozenset({str}): "texts", frozenset({int}): "integers",
                   frozenset({float}): "numbers", frozenset({int, float}): "numbers"}.get(
            frozenset(kinds))
        return f"list of {element}" if element else "list"
    if isinstance(default, dict):
        return "mapping"
    return "any"


def _shown(value: Any) -> str:
    return "`" + json.dumps(value, ensure_ascii=False, default=str) + "`"


def _cell_text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


#: ``source:`` for data read in place by the engine (README, "Data that stay where they are").
SOURCE_EXAMPLES = [
    "### `source:` for data read in place",
    "",
    "Besides a built-in name, a directory of tables and a mapping `.yaml` of files, `source:`",
    "takes data the engine reads where they are (`churn_research.sources.tables`; README, *Data",
    "that stay where they are*). One example of each:",
    "",
    "```yaml",
    "# a directory or glob of Parquet/CSV files per table, in a mapping file",
    "source: data/raw/shop/mapping.yaml   # tables: {transactions: {file: \"orders/*.parquet\"}, ...}",
    "",
    "# a DuckDB database file, tables by name",
    "source: data/raw/shop/shop.duckdb",
    "source_options: {tables: {customers: crm_customers, transactions: sales.orders}}",
    "",
    "# a connection URL; the password only from the environment",
    "source: postgres://analyst:${PGPASSWORD}@db.example.com:5432/crm",
    "source_options: {tables: {customers: public.customers, transactions: sales.transactions}}",
    "```",
    "",
    "A URL holding a literal password is refused (without repeating it); `${NAME}` is read from",
    "the environment when connecting.",
    "",
]


def reference_markdown(root: Path = PROJECT_ROOT) -> str:
    """``docs/parameters.md``: every parameter, its stage(s), type, default and meaning."""
    notebooks = _notebooks(root)
    defaults = {s: notebook_defaults(nb) for s, nb in notebooks.items()}
    means = meanings(root)
    lines = [
        "# Parameter reference",
        "",
        "<!-- Generated by `churn-research params --reference > docs/parameters.md` from the",
        "     notebooks' parameters cells; edit a parameter's comment there, not this file. -->",
        "",
        "A dataset's parameters live in `params/<dataset>.yaml`: the common keys at the top level,",
        "each stage's keys under `stages: <stage>:`. A key the file leaves out takes the default",
        "below (the notebook's); where a cell says *your data*, a dataset with a `source:` path gets",
        "that neutral value instead of the synthetic business's. `churn-research check --dataset",
        "<name>` checks a file against this schema; `churn-research params --dataset <name> --stage",
        "<stage>` prints what a stage receives. Start a new dataset with `churn-research new-dataset",
        "<name>`.",
        "",
        "## Common keys",
        "",
        "Outside `stages:`; each goes to every stage whose notebook declares it.",
        "",
        "| key | stages | type | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for key in COMMON_KEYS:
        owners = [s for s, d in defaults.items() if key in d]
        if key == "stages":
            kind, default = "mapping", "`{}`"
        elif key == "title":
            kind, default = "text", "`\"\"`"
        else:
            value = next((defaults[s][key] for s in owners if defaults[s][key] is not None),
                         defaults[owners[0]][key] if owners else None)
            kind = "mapping" if key == "source_options" else _type(key, value)
            default = _shown(RUNNER_DEFAULTS.get(key, value))
        lines.append(f"| `{key}` | {', '.join(owners) or '—'} | {kind} | {_cell_text(default)} | "
                     f"{_cell_text(means[''].get(key, ''))} |")
    lines += ["", "Set by the runner for every stage, never in a params file: "
              + ", ".join(f"`{k}`" for k in RUNNER_KEYS) + ".", ""]
    lines += SOURCE_EXAMPLES
    for s, stage_defaults in defaults.items():
        own = {k: v for k, v in stage_defaults.items() if k not in COMMON_KEYS and k not in RUNNER_KEYS}
        common = [k for k in stage_defaults if k in COMMON_KEYS]
        lines += [f"## {s}: {stage(s).title}", ""]
        if common:
            lines += ["Common keys it receives: " + ", ".join(f"`{k}`" for k in common) + ".", ""]
        if not own:
            lines += ["No keys of its own: `stages: " + s + ": {}`.", ""]
            continue
        lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
        user = USER_DATA_DEFAULTS.get(s, {})
        for key, value in own.items():
            default = _shown(value)
            if key in user:
                default += f" (*your data*: {_shown(user[key])})"
            lines.append(f"| `{key}` | {_type(key, value)} | {_cell_text(default)} | "
                         f"{_cell_text(means[s].get(key, ''))} |")
        lines.append("")
    return "\n".join(lines)
