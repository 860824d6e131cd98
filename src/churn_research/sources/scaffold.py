"""A mapping template (``mapping.yaml``) from the headers of a user's files.

:func:`plan_mapping` reads a sample of each data file of a directory (CSV in UTF-8 or GB18030,
``.xlsx``, Parquet), assigns each file to a data-model table (by its name, else by its headers)
and each header to a data-model column where the project's existing header vocabulary
recognises it: the data model's own names (``customerID`` = ``customer_id``), the Chinese
export's headers (:data:`churn_research.sources.chinese_export.HEADERS`: 客户编号, 开户日期, 工单类型,
...) and the Chinese labels of the columns in the report catalog (:func:`churn_research.i18n.label`:
开始日期, 流失原因, ...). Personal data (:func:`churn_research.personal.screen`, by header and by
content, on the columns as the loader would name them) are never mapped: the template maps them
to ``null`` and says why. :func:`mapping_text` writes the template with a comment on each line.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from churn_research.i18n import LABEL_CONTEXT, catalog
from churn_research.model import TABLES, ChurnDataError
from churn_research.personal import key_problem, screen
from churn_research.sources.chinese_export import FILES, HEADERS
from churn_research.sources.files import DATA_SUFFIXES, EXCEL_SUFFIXES, _read_table
from churn_research.sources.validate import REQUIRED
from churn_research.sources.vocabulary import BOOLEANS, LIKELY_FLAGS, canonical_key

__all__ = ["MODEL_COLUMNS", "FilePlan", "detect_encoding", "recognise", "plan_mapping",
           "mapping_text", "has_chinese"]

_PERSONAL_HEADERS = ("name", "phone", "email")  # the export's personal columns: never mapped
#: The data model's columns per table (README's table; those of the Chinese export, the
#: yes/no flags, Telco-like columns), that a header may be mapped onto.
MODEL_COLUMNS: dict[str, tuple[str, ...]] = {
    table: tuple(dict.fromkeys(
        [*REQUIRED[table],
         *(c for c in HEADERS.get(table, {}) if not (table != "events" and c in _PERSONAL_HEADERS)),
         *BOOLEANS.get(table, ()), *LIKELY_FLAGS.get(table, ()),
         *{"customers": ("tenure_months", "monthly_charges", "total_charges"),
           "transactions": ("margin",)}.get(table, ())]))
    for table in TABLES
}
#: Rows read from each file to recognise personal data by content.
SAMPLE_ROWS = 5000
_CJK = re.compile(r"[\u3400-\u9fff]")


def _key(header: object) -> str:
    """A header as matched: camelCase split (``customerID`` = ``customer_id``), then
    :func:`~churn_research.sources.vocabulary.canonical_key`."""
    text = unicodedata.normalize("NFKC", str(header))
    return canonical_key(re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text))


def _lookup(table: str) -> dict[str, str]:
    """Header key -> data-model column of ``table``: the model's names, the Chinese export's
    headers (any table's, for the same column), the columns' Chinese labels; first wins."""
    labels = catalog("zh")
    out: dict[str, str] = {}
    columns = MODEL_COLUMNS[table]
    for c in columns:
        out.setdefault(_key(c), c)
    for c in columns:
        for t in (table, *TABLES):
            if c in HEADERS.get(t, {}):
                out.setdefault(_key(HEADERS[t][c]), c)
    for c in columns:
        found = labels.get((LABEL_CONTEXT, c))
        if isinstance(found, str):
            out.setdefault(_key(found), c)
    return out


def recognise(header: object, table: str) -> str | None:
    """The data-model column of ``table`` that ``header`` names, or None."""
    return _lookup(table).get(_key(header))


def has_chinese(texts) -> bool:
    """Whether any of ``texts`` holds a Chinese character."""
    return any(_CJK.search(str(t)) for t in texts)


def detect_encoding(path: Path) -> str | None:
    """``"utf-8"`` or ``"gb18030"`` for a text file (the first MB decoded), None for Excel and
    Parquet."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", *EXCEL_SUFFIXES):
        return None
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if head.startswith(b"PK\x03\x04"):
        return None
    for name in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(name)().decode(head, final=False)
            return name
        except UnicodeDecodeError:
            continue
    raise ChurnDataError(f"cannot decode {path.name} as UTF-8 or GB18030.",
                         fix="save it as UTF-8 (or write `encoding:` into the mapping by hand).")


@dataclass
class FilePlan:
    """One file: its table (None: not recognised), encoding and each header's fate.

    ``columns``: ``(header, target, note)`` in file order, where ``target`` is a data-model
    column, ``None`` (personal data: left out; ``note`` says why) or ``""`` (not recognised:
    loaded under its own name, or ``note`` names the header already mapped onto that column).
    """

    file: str
    table: str | None
    encoding: str | None
    columns: list[tuple[str, str | None, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def mapped(self) -> dict[str, str | None]:
        return {h: t for h, t, _ in self.columns if t != ""}


def _table_by_name(stem: str) -> list[str]:
    key = _key(stem)
    labels = catalog("zh")
    best, found = 0, []
    for table in TABLES:
        names = {table, table.rstrip("s"), str(labels.get((LABEL_CONTEXT, table)) or table)}
        if table in FILES:
            names.add(Path(FILES[table]).stem)
        length = max((len(_key(n)) for n in names if _key(n) and _key(n) in key), default=0)
        if length > best:
            best, found = length, [table]
        elif length and length == best:
            found.append(table)
    return found


def _score(headers, table: str) -> int:
    hits = {recognise(h, table) for h in headers} - {None}
    shared = {"customer_id", "date"}
    return 2 * len(hits - shared) + len(hits & shared) + 3 * all(c in hits for c in REQUIRED[table])


def guess_table(stem: str, headers) -> str | None:
    """The table a file holds: by its name (客户, transactions, 工单 ...), else by its headers;
    None when neither says."""
    candidates = _table_by_name(stem)
    if len(candidates) == 1:
        return candidates[0]
    scores = {t: _score(headers, t) for t in (candidates or TABLES)}
    best = max(scores.values())
    tops = [t for t, s in scores.items() if s == best]
    return tops[0] if best > 0 and len(tops) == 1 else None


def data_files(directory: Path) -> list[Path]:
    """The data files of ``directory`` (by suffix; hidden and Excel lock files left out)."""
    return sorted(p for p in Path(directory).iterdir()
                  if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
                  and not p.name.startswith((".", "~$")))


def plan_mapping(directory: str | Path) -> list[FilePlan]:
    """One :class:`FilePlan` per data file of ``directory`` (see the module docstring)."""
    directory = Path(directory)
    files = data_files(directory)
    if not files:
        raise ChurnDataError(f"no data files in {directory}.",
                             fix="put your CSV, .xlsx or Parquet files there (one table each).")
    plans, taken = [], set()
    for path in files:
        encoding = detect_encoding(path)
        sample = _read_table(path, table=path.stem, encoding=encoding or "utf-8", nrows=SAMPLE_ROWS)
        headers = [str(c) for c in sample.columns]
        table = guess_table(path.stem, headers)
        plan = FilePlan(path.name, None if table in taken else table, encoding)
        if table in taken:
            plan.warnings.append(f"also looks like {table}, which {_owner(plans, table)} holds")
        if plan.table is None:
            plan.columns = [(h, "", "") for h in headers]
            plans.append(plan)
            continue
        taken.add(plan.table)
        targets: dict[str, str] = {}
        for h in headers:
            column = recognise(h, plan.table)
            if column and column not in targets.values():
                targets[h] = column
        renamed = sample[list(targets)].rename(columns=targets) if targets else sample.iloc[:, :0]
        others = sample[[h for h in headers if h not in targets]]
        screened = pd.concat([renamed, others], axis=1)
        _, record = screen({plan.table: screened})
        back = {v: k for k, v in targets.items()}
        personal = {back.get(d["column"], d["column"]): d for d in record["dropped"]}
        for h in headers:
            if h in personal:
                d = personal[h]
                plan.columns.append((h, None, f"personal data ({d['reason']}, found by its "
                                              f"{'header' if d['found_by'] == 'header' else 'values'})"))
            elif h in targets:
                plan.columns.append((h, targets[h], ""))
            else:
                column = recognise(h, plan.table)
                note = f"also names {column}, mapped from {back[column]!r}" if column else ""
                plan.columns.append((h, "", note))
        if "customer_id" in renamed and (found := key_problem(renamed["customer_id"])):
            plan.warnings.append(f"customer_id looks like {found[0]} in {found[1]} of {found[2]} "
                                 "rows checked: map the CRM's own customer number onto it")
        plans.append(plan)
    order = {t: i for i, t in enumerate(TABLES)}
    return sorted(plans, key=lambda p: order.get(p.table, len(TABLES)))


def _owner(plans: list[FilePlan], table: str) -> str:
    return next((p.file for p in plans if p.table == table), "another file")


def _scalar(value: object) -> str:
    """``value`` as a YAML flow scalar (quoted when it must be)."""
    return yaml.safe_dump([value], allow_unicode=True, default_flow_style=True,
                          width=10**6).strip()[1:-1]


def _line(text: str, comment: str = "", at: int = 36) -> str:
    return f"{text:<{at}} # {comment}" if comment else text


def mapping_text(plans: list[FilePlan], *, title: str) -> str:
    """The mapping template of ``plans``: YAML that :func:`~churn_research.sources.files.load_mapping`
    reads, with a comment on each line to check."""
    encodings = [p.encoding for p in plans if p.encoding and p.table]
    common = max(set(encodings), key=encodings.count) if encodings else "utf-8"
    tables = {p.table for p in plans if p.table}
    kind = "contractual"
    customers = next((p for p in plans if p.table == "customers"), None)
    if customers and "end_date" not in customers.mapped().values() and "transactions" in tables:
        kind = "non-contractual"
    out = [
        f"# {title}: your files mapped onto the data model (README.md, 'Your own data'),",
        "# written by `churn-research new-dataset` from the files' headers. Check every line:",
        "# `header: column` loads a header as a data-model column, `header: null` leaves it out,",
        "# a header not listed is loaded under its own name.",
        _line(f"encoding: {common}", "of the CSV files (detected); a table's `encoding:` overrides it"),
        _line(f"kind: {kind}", "contractual (end dates) or non-contractual (churn = no purchase "
                               "for inactivity_days)"),
        _line("# inactivity_days: 180", "non-contractual: days without a purchase after which "
                                         "a customer counts as gone"),
        _line("# records_start: 2021-01-01", "the date your records begin, if customers who "
                                              "left before it are missing"),
        _line("# observation_end: 2025-12-31", "the date of the export (default: the latest "
                                                "date in the data)"),
        "tables:",
    ]
    unplaced = []
    for plan in plans:
        if plan.table is None:
            unplaced.append(plan)
            continue
        out += [f"  {plan.table}:", f"    file: {_scalar(plan.file)}"]
        if plan.encoding and plan.encoding != common:
            out.append(_line(f"    encoding: {plan.encoding}", "this file's encoding (detected)"))
        out += [f"    # warning: {w}" for w in plan.warnings]
        out.append(_line("    columns:", "your header: data-model column"))
        for header, target, note in plan.columns:
            if target is None:
                out.append(_line(f"      {_scalar(header)}: null", note + ": never loaded"))
            elif target:
                out.append(f"      {_scalar(header)}: {target}")
        for header, target, note in plan.columns:
            if target == "":
                out.append(_line(f"      # {_scalar(header)}: null",
                                 note or "not recognised: loaded under its own name; map it "
                                         "onto a data-model column, or uncomment to leave it out"))
        missing = [c for c in REQUIRED[plan.table] if c not in plan.mapped().values()
                   and not (c == "end_date" and kind == "non-contractual")]
        for c in missing:
            out.append(f"      # REQUIRED: no header recognised as {c}: map the column that "
                       f"holds it (`your header: {c}`)")
    if "customers" not in tables:
        out.append("  # REQUIRED: no file recognised as the customers table (customer_id, "
                   "start_date, end_date): add it here")
    for plan in unplaced:
        why = "; ".join(plan.warnings) or "not recognised as a table"
        out += [f"  # {_scalar(plan.file)}: {why}. To load it, name its table "
                f"({', '.join(TABLES)}):",
                "  # <table>:", f"  #   file: {_scalar(plan.file)}", "  #   columns:"]
        out += [f"  #     {_scalar(h)}: <column>" for h, _, _ in plan.columns]
    return "\n".join(out) + "\n"
