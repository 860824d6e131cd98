"""The tables of a report as a workbook for BI tools: ``reports/<dataset>/<stage>.xlsx``.

Every table a stage notebook displays carries its data beside its HTML
(:data:`churn_research.narrate.format.TABLE_MIME`, put there by ``plots.set_style``).
:func:`displayed_tables` collects them from the executed notebook, each named after the report
section it appears in; :func:`write_tables` writes them as one workbook: a contents sheet, then
one sheet per table in report order, headers as the report shows them (in its language). Only
what the report shows goes in: the same rows and columns (customer ids only where the report
lists them, as in the watchlist).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from churn_research.i18n import _, t
from churn_research.narrate.format import TABLE_MIME

__all__ = ["Table", "displayed_tables", "write_tables", "sheet_name", "download_link"]

#: Excel's longest sheet name.
SHEET_NAME_MAX = 31
_NOT_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
_HEADING = re.compile(r"^\s{0,3}(#{1,3})\s+(.+?)\s*#*\s*$", re.M)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True)
class Table:
    """One displayed table: the report section it appears in, its headers and rows."""

    section: str
    columns: list[str]
    rows: list[list[Any]]
    dates: tuple[int, ...] = ()


def _plain(markdown: str) -> str:
    """A markdown heading's text without emphasis, code marks or link targets."""
    text = _LINK.sub(r"\1", markdown)
    return re.sub(r"[*_`]+", "", text).strip()


def _last_heading(markdown: str) -> str | None:
    found = _HEADING.findall(markdown)
    return _plain(found[-1][1]) if found else None


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def displayed_tables(nb, *, hidden: set[str] = frozenset()) -> list[Table]:
    """The tables the executed notebook ``nb`` displays, in order, each with the heading it
    appears under (the last heading of a markdown cell or a displayed Markdown text before it);
    cells tagged with any of ``hidden`` (the other language's text, the parameters) are skipped."""
    section, tables = "", []
    for cell in nb.cells:
        if hidden & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if cell.cell_type == "markdown":
            section = _last_heading(_text(cell.source)) or section
            continue
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/markdown" in data:
                section = _last_heading(_text(data["text/markdown"])) or section
            table = data.get(TABLE_MIME)
            if isinstance(table, dict) and table.get("columns"):
                tables.append(Table(section, [str(c) for c in table["columns"]],
                                    [list(r) for r in table.get("rows", [])],
                                    tuple(table.get("dates", ()))))
    return tables


def sheet_name(number: int, section: str, used: set[str] = frozenset()) -> str:
    """``"<number> <section>"`` as an Excel sheet name: at most 31 characters, without
    ``[ ] : * ? / \\``, not starting or ending with an apostrophe, unique in ``used``
    (case-insensitively); ``Table <number>`` in the report language without a section."""
    text = _NOT_IN_SHEET_NAME.sub(" ", section)
    text = re.sub(r"\s+", " ", text).strip(" '")
    name = f"{number} {text}" if text else t("Table {n}", n=number)
    name = name[:SHEET_NAME_MAX].rstrip(" '")
    taken = {u.lower() for u in used}
    suffix = 2
    while name.lower() in taken:
        tail = f" ({suffix})"
        name = name[:SHEET_NAME_MAX - len(tail)].rstrip(" '") + tail
        suffix += 1
    return name


#: characters a worksheet cell cannot hold (openpyxl's ``ILLEGAL_CHARACTERS_RE``: the control
#: characters but tab, newline and carriage return), written here so that importing this module
#: (every notebook kernel does, through the key-figures writer) does not import openpyxl
_ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _cell(value: Any, is_date: bool) -> Any:
    if value is None:
        return None
    if is_date and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).replace(tzinfo=None)  # Excel has no zones
        except ValueError:
            return value
    if isinstance(value, str):
        return _ILLEGAL_CHARACTERS.sub("", value)
    return value


def _width(value: Any) -> int:
    """Roughly how many character cells ``value`` takes (East Asian wide characters: two)."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_tables(tables: list[Table], path: Path) -> Path | None:
    """Write ``tables`` to the workbook ``path`` (a contents sheet, then one sheet per table,
    header row bold and frozen, dates as dates); with no tables remove ``path`` and return None.
    Headers and the contents sheet are in the current report language."""
    path = Path(path)
    if not tables:
        path.unlink(missing_ok=True)
        return None
    from openpyxl import Workbook  # here: the notebook kernels import this module, not write

    wb = Workbook()
    contents = wb.active
    contents.title = _("Contents")
    contents.append([_("sheet"), _("section of the report")])
    used = {contents.title}
    for number, table in enumerate(tables, start=1):
        name = sheet_name(number, table.section, used)
        used.add(name)
        contents.append([name, table.section])
        ws = wb.create_sheet(name)
        ws.append([_cell(h, False) for h in table.columns])
        dates = set(table.dates)
        for row in table.rows:
            ws.append([_cell(v, i in dates) for i, v in enumerate(row)])
        _finish_sheet(ws, dates)
    _finish_sheet(contents, set())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path


def _finish_sheet(ws, dates: set[int]) -> None:
    from openpyxl.styles import Font

    ws.freeze_panes = "A2"
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, column in enumerate(ws.iter_cols(), start=0):
        letter = column[0].column_letter
        widest = max((_width(c.value) for c in column), default=8)
        ws.column_dimensions[letter].width = min(60, max(8, widest + 2))
        if i in dates:
            for c in column[1:]:
                c.number_format = "yyyy-mm-dd"


def download_link(path: Path | str) -> str:
    """The line at the top of a report that links its workbook (in the report language)."""
    name = Path(path).name
    text = _("Download the tables (.xlsx)")
    return (f"<p class='cr-download'><a href='{html.escape(name)}' download>"
            f"{html.escape(text)}</a></p>")
