"""Find the package's translatable messages and the ones a catalog lacks (used by tests/test_i18n.py).

As a script, for translators: ``python tests/i18n_tool.py [--po FILE.po] [PATH ...]`` lists the
messages of PATH (package files or folders, notebooks; default: the package and the notebooks)
that the Chinese catalog does not translate; with ``--po`` it appends them, untranslated, to that
PO file (created if needed) for a translator to fill in.

Messages are what :mod:`churn_research.i18n` marks: ``_("…")``, ``t("…", …)``,
``N_("…")``, ``n_("…", "…", n)``, ``_p("context", "…")`` and ``label_msg("…")`` (a data label: message context ``label``), in
``.py`` files and in the code cells of notebooks, extracted with Babel's Python extractor.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import nbformat
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "churn_research"
NOTEBOOKS = ROOT / "notebooks"
LOCALE = PACKAGE / "locale"
KEYWORDS = {"_": None, "N_": None, "t": None, "n_": (1, 2), "_p": ((1, "c"), 2), "label_msg": None}

#: (context, msgid, plural or None, where)
Message = tuple[str | None, str, str | None, str]


def _extract(source: bytes, where: str) -> list[Message]:
    found = []
    for lineno, func, msg, _comments in extract_python(io.BytesIO(source), KEYWORDS, [], {}):
        parts = msg if isinstance(msg, tuple) else (msg,)
        strings = [p for p in parts if isinstance(p, str)]
        if not strings:
            continue
        context = "label" if func == "label_msg" else None
        if func == "_p":
            if len(strings) < 2:
                continue
            context, strings = strings[0], strings[1:]
        plural = strings[1] if func == "n_" and len(strings) > 1 else None
        found.append((context, strings[0], plural, f"{where}:{lineno}"))
    return found


def _notebook_source(path: Path) -> bytes:
    nb = nbformat.read(path, as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            lines.append("" if line.lstrip().startswith(("%", "!")) else line)
        lines.append("")
    return "\n".join(lines).encode()


def messages(paths: list[Path] | None = None) -> list[Message]:
    """Every message marked in ``paths`` (default: the package and the notebooks)."""
    paths = paths or [PACKAGE, NOTEBOOKS]
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files += sorted(q for q in p.rglob("*.py") if "__pycache__" not in q.parts)
            files += sorted(p.glob("[0-9][0-9]_*.ipynb"))
        else:
            files.append(p)
    out: list[Message] = []
    for f in files:
        where = str(f.resolve().relative_to(ROOT)) if f.resolve().is_relative_to(ROOT) else str(f)
        source = _notebook_source(f) if f.suffix == ".ipynb" else f.read_bytes()
        out += _extract(source, where)
    return out


def missing(lang: str = "zh", paths: list[Path] | None = None) -> list[Message]:
    """The messages of ``paths`` without a translation in ``lang`` (each once)."""
    from churn_research.i18n import catalog

    catalog.cache_clear()
    have = catalog(lang)
    seen, out = set(), []
    for context, msgid, plural, where in messages(paths):
        if (context, msgid) in have or (context, msgid) in seen:
            continue
        seen.add((context, msgid))
        out.append((context, msgid, plural, where))
    return out


def append_to_po(po_path: Path, entries: list[Message], lang: str = "zh") -> int:
    """Append ``entries`` untranslated to ``po_path`` (created with a header if missing)."""
    if po_path.exists():
        with po_path.open("rb") as fh:
            cat = read_po(fh, locale=lang)
    else:
        cat = Catalog(locale=lang, project="churn-research", charset="utf-8")
    added = 0
    for context, msgid, plural, where in entries:
        key = (msgid, plural) if plural else msgid
        if cat.get(msgid, context=context) is not None:
            continue
        path, _, line = where.rpartition(":")
        cat.add(key, string=("", "") if plural else "", locations=[(path, int(line))], context=context)
        added += 1
    po_path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    write_po(buf, cat, width=100, omit_header=False, sort_output=False)
    po_path.write_bytes(buf.getvalue())
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--po", type=Path, help="append the missing messages to this PO file")
    parser.add_argument("--lang", default="zh")
    args = parser.parse_args(argv)
    todo = missing(args.lang, args.paths or None)
    for context, msgid, _plural, where in todo:
        print(f"{where}: {'[' + context + '] ' if context else ''}{msgid!r}")
    if args.po:
        print(f"appended {append_to_po(args.po, todo, args.lang)} messages to {args.po}")
    print(f"{len(todo)} untranslated messages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
