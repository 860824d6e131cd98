"""Findings in the rendered reports: the Findings box that opens every stage report (with links to
the sections it comes from), the page title, figure alt text, and the one-page summary of a
dataset (``reports/<dataset>/summary.html``).
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from churn_research import narrate
from churn_research.i18n import LANGUAGES, _, is_chinese, language, set_language, t
from churn_research.model import write_atomic
from churn_research.narrate import actions, definitions
from churn_research.narrate.findings import StageFindings
from churn_research.runner.downloads import download_link
from churn_research.runner.params import _parsed
from churn_research.runner.registry import STAGES, stage_names
from churn_research.runner.registry import stage as registry_stage
from churn_research.wording import gap, join

__all__ = ["stage_findings", "decorate_report", "render_summary", "BOX_CSS", "REPORT_CSS",
           "PRINT_CSS", "html_lang", "dataset_language", "in_language", "summary_questions"]

BOX_CSS = """
.cr-findings{border:2px solid #1f6feb;border-radius:8px;padding:.8rem 1.1rem;margin:1rem 0 1.6rem;
  background:#f5f9ff;font-size:1rem;line-height:1.5;max-width:72rem}
.cr-findings h2{margin:.1rem 0 .4rem;font-size:1.15rem;border:0}
.cr-findings .cr-headline{font-size:1.08rem;font-weight:600;margin:.2rem 0 .5rem}
.cr-findings ul{margin:.2rem 0 .4rem 1.1rem;padding:0} .cr-findings li{margin:.15rem 0}
.cr-findings .cr-na{color:#555;font-size:.92rem} .cr-findings .cr-checked{color:#1a7f37;font-size:.92rem}
@media (max-width:600px){.cr-findings{padding:.6rem .7rem;font-size:.95rem}}
"""

#: Every page printed (index, summaries, stage reports): no navigation, tables wrap instead of
#: scrolling, a figure or table is never split across pages, a heading stays with what follows
#: it, and links print as their text only.
PRINT_CSS = """
@media print{
  @page{margin:14mm 12mm}
  body{margin:0!important;max-width:none!important;padding:0!important}
  .cr-download,.cr-nav,a.anchor-link,.jp-Collapser{display:none!important}
  .scroll,.jp-OutputArea-output{overflow:visible!important}
  table{width:auto!important;max-width:100%!important;table-layout:auto!important;font-size:8pt!important}
  td,th{white-space:normal!important;overflow-wrap:break-word;word-break:normal;padding:2px 4px!important}
  tr,img,svg,figure,.jp-RenderedImage,.cr-findings,.action,details{break-inside:avoid;page-break-inside:avoid}
  h1,h2,h3,h4{break-after:avoid;page-break-after:avoid;break-inside:avoid}
  .jp-MarkdownCell:has(h1:last-child,h2:last-child,h3:last-child,h4:last-child){break-after:avoid;
    page-break-after:avoid}
  a,a:visited{color:inherit;text-decoration:none} a[href]::after{content:none!important}
}
"""

#: A stage report on any screen: the page never scrolls sideways (a wide table scrolls inside its
#: own box; figures shrink to the width), and prints cleanly (:data:`PRINT_CSS`).
REPORT_CSS = """
.jp-Cell-outputWrapper,.jp-OutputArea{min-width:0}
.jp-OutputArea-child{display:block;width:auto}
.jp-OutputArea-child .jp-OutputArea-output{display:block;width:auto;max-width:100%;margin-left:0;
  overflow-x:auto}
.jp-RenderedImage img,.jp-RenderedHTMLCommon img{max-width:100%;height:auto}
.jp-RenderedHTMLCommon td,.jp-RenderedHTMLCommon th{min-width:3.5em}
.cr-download{margin:.2rem 0 1.2rem;font-size:.95rem}
.cr-download a{color:#0b5cd5;text-decoration:underline}
@media (max-width:600px){.jp-Notebook{padding:.5rem}}
""" + PRINT_CSS

_HEADING = re.compile(r"<h([23])\s+id=\"([^\"]+)\"[^>]*>(.*?)</h\1>", re.S)
_TAG = re.compile(r"<[^>]+>")


#: The ``lang`` attribute of a page in each report language.
HTML_LANG = {"en": "en", "zh": "zh-Hans"}


def html_lang(code: str | None = None) -> str:
    """The ``<html lang>`` of a page in ``code`` (default: the current report language)."""
    return HTML_LANG.get(code or language(), code or language())


def _set_html_lang(page: str) -> str:
    """``page`` with its ``<html lang>`` set to the report language."""
    def tag(m: re.Match) -> str:
        bare = re.sub(r"\s+lang=(['\"])[^'\"]*\1", "", m.group(0))
        return bare.replace("<html", f"<html lang=\"{html_lang()}\"", 1)
    return re.sub(r"<html\b[^>]*>", tag, page, count=1)


@contextmanager
def in_language(code: str) -> Iterator[str]:
    """Messages in ``code`` inside the block whatever ``REPORT_LANG`` says (a dataset's summary is
    written in the dataset's language); the previous language afterwards."""
    before, env = language(), os.environ.pop("REPORT_LANG", None)
    try:
        yield set_language(code)
    finally:
        set_language(before)
        if env is not None:
            os.environ["REPORT_LANG"] = env


def dataset_language(ds: Path) -> str | None:
    """The language a dataset's reports were rendered in, from its stages' provenance
    (``parameters`` -> ``language``, English when not recorded): the language they share, else
    that of the stage rendered last; None when no stage was rendered."""
    runs = []
    for path in Path(ds).glob("*.provenance.json"):
        try:
            prov = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        code = (prov.get("parameters") or {}).get("language") or "en"
        code = code if code in LANGUAGES else "en"
        runs.append((str(prov.get("finished", "")), code))
    if not runs:
        return None
    return max(runs)[1]


def _text(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment)).replace("¶", "").strip()


def context(processed_dir: Path, params_file: Path) -> dict[str, Any]:
    """Data-level facts for the findings: the processed data's meta and the dataset's currency."""
    meta_path = Path(processed_dir) / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    ctx = {k: meta.get(k) for k in ("kind", "snapshot", "records_start", "inactivity_days",
                                    "observation_end")}
    if Path(params_file).exists():
        spec = _parsed(Path(params_file)) or {}  # the runner's parse, once per file version
        ctx["currency"] = spec.get("currency", "")
    return ctx


def stage_findings(dataset: str, stage: str, *, key_json: Path, processed_dir: Path,
                   params_file: Path) -> StageFindings | None:
    """Build and write ``<stage>.findings.json`` beside the stage's key figures."""
    figures = json.loads(key_json.read_text()) if key_json.exists() else {}
    found = narrate.build(stage, figures, dataset=dataset,
                          context=context(processed_dir, params_file))
    if found is not None:
        found.write(key_json.with_name(f"{stage}.findings.json"))
    return found


def _anchors(page: str) -> list[tuple[str, str]]:
    return [(m.group(2), _text(m.group(3))) for m in _HEADING.finditer(page)]


def _link(section: str | None, anchors: list[tuple[str, str]], href: str = "") -> str | None:
    if not section:
        return None
    words = section.lower()
    for anchor, text in anchors:
        if words in text.lower():
            return f"{href}#{anchor}"
    return None


def findings_box(found: StageFindings, anchors: list[tuple[str, str]], *, href: str = "") -> str:
    """The Findings box: the headline, the key findings (linked to their sections), what is not
    available for the dataset, and what the estimates were checked against."""
    items, more = [], html.escape(_("→ section"))
    for f in found.key_findings:
        target = _link(f.section, anchors, href)
        text = html.escape(f.text)
        items.append(f"<li>{text}" + (f" <a href='{html.escape(target)}'>{more}</a>" if target
                                       else "") + "</li>")
    na = "".join(f"<p class='cr-na'>{html.escape(u)}</p>" for u in found.unavailable)
    checked = ("<p class='cr-checked'>" + html.escape(t("Checked against {what}.",
                                                         what=found.checked_against)) + "</p>"
               if found.checked_against else "")
    heading = html.escape(_("Findings"))
    return (f"<section class='cr-findings' aria-label='{heading}'><h2>{heading}</h2>"
            f"<p class='cr-headline'>{html.escape(found.headline)}</p>"
            f"<ul>{''.join(items)}</ul>{na}{checked}</section>")


_HEADER_CELL = re.compile(r"(<th\b[^>]*>)([^<]*_[^<]*)(</th>)")


def _breakable_header(m: re.Match) -> str:
    """A table header such as ``churn_rate_low`` may wrap after each underscore (a narrow screen,
    a printed page)."""
    return m.group(1) + m.group(2).replace("_", "_<wbr>") + m.group(3)


def decorate_report(page: str, *, dataset: str, stage: str, found: StageFindings | None,
                    tables: str | Path | None = None) -> str:
    """The rendered stage HTML with its title, figure alt text, the page style for narrow screens
    and print (:data:`REPORT_CSS`), and after the report's first heading the Findings box and
    the link to ``tables`` (the report's workbook, :mod:`churn_research.runner.downloads`)."""
    title = registry_stage(stage).shown_title if stage in stage_names() else stage
    page = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)} — {html.escape(dataset)}"
                  "</title>", page, count=1, flags=re.S)
    if "<meta name=\"viewport\"" not in page:
        page = page.replace("<head>", "<head><meta name=\"viewport\" content=\"width=device-width, "
                            "initial-scale=1\">", 1)
    # alt text: each figure is described by the section it belongs to
    pieces, last, current = [], 0, title
    generic = 'alt="No description has been provided for this image"'
    page = page.replace(generic, "")
    for m in re.finditer(r"<h[1-3][^>]*>(.*?)</h[1-3]>|<img(?![^>]*\balt=)", page, re.S):
        if m.group(0).startswith("<h"):
            current = _text(m.group(1))
            continue
        pieces.append(page[last:m.start()])
        alt = html.escape(t("Figure: {section}", section=current))
        pieces.append(f"<img alt=\"{alt}\"")
        last = m.end()
    page = _set_html_lang("".join(pieces) + page[last:])
    page = page.replace("</head>", f"<style>{REPORT_CSS}</style></head>", 1)
    page = _HEADER_CELL.sub(_breakable_header, page)
    box = download_link(tables) if tables else ""
    if found is not None:
        box = findings_box(found, _anchors(page)) + box
        page = page.replace("</head>", f"<style>{BOX_CSS}</style></head>", 1)
    if not box:
        return page
    end_h1 = page.find("</h1>")
    if end_h1 < 0:
        body = page.find(">", page.find("<body")) + 1
        return page[:body] + box + page[body:]
    return page[:end_h1 + 5] + box + page[end_h1 + 5:]


_SUMMARY_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;margin:1.5rem auto;
     max-width:60rem;color:#222;line-height:1.5;padding:0 1rem}
h1{margin-bottom:.2rem} h2{margin-top:1.8rem;border-bottom:1px solid #ddd;font-size:1.2rem}
.muted{color:#666;font-size:.92rem} .headline{font-weight:600}
.action{background:#eef6ee;border-left:4px solid #2e7d32;padding:.45rem .7rem}
li{margin:.2rem 0} a{color:#0b5cd5}
table{border-collapse:collapse;width:100%;font-size:.93rem} td,th{border-bottom:1px solid #eee;
  padding:.3rem .45rem;text-align:left;vertical-align:top} th{background:#f6f6f6}
.scroll{overflow-x:auto}
td,th{min-width:4em} th:last-child{white-space:nowrap} td:last-child{min-width:6em}
""" + PRINT_CSS


def summary_questions() -> tuple[tuple[str, str], ...]:
    """The manager's questions, in order, and the stage that answers each (in the current
    report language)."""
    return (
        ("10_indicators", _("How many customers do we lose, and is it getting worse?")),
        ("30_survival", _("How long do customers stay?")),
        ("20_causes", _("Why do they leave?")),
        ("40_segments", _("Who is at risk now?")),
        ("50_clv", _("What does churn cost, and what is a realistic retention gain worth?")),
        ("60_retention", _("How much money is at risk, and what does a retention action achieve?")),
    )


def _stage_name(name: str) -> str:
    """A stage as a link's text: its name (``10_indicators``) in English, its title in Chinese."""
    if is_chinese() and name in stage_names():
        return registry_stage(name).shown_title
    return name


def _stage_links(stages: str) -> str:
    """``"10_indicators, 50_clv"`` -> a link to each report."""
    return join(f"<a href='{html.escape(s)}.html'>{html.escape(_stage_name(s))}</a>"
                        for s in (p.strip() for p in stages.split(",")) if s)


def render_summary(reports: Path, dataset: str) -> Path | None:
    """``reports/<dataset>/summary.html``: the stages' findings as one page for management, every
    finding linked to the report section it comes from, in the language the dataset's stages
    were rendered in (:func:`dataset_language`; the findings are already in it)."""
    with in_language(dataset_language(Path(reports) / dataset) or "en"):
        return _render_summary(Path(reports), dataset)


def _render_summary(reports: Path, dataset: str) -> Path | None:
    ds = Path(reports) / dataset
    found = {}
    for s in STAGES:
        path = ds / f"{s.name}.findings.json"
        if path.exists() and (ds / f"{s.name}.html").exists():
            found[s.name] = StageFindings.read(path)
    if not found:
        return None
    figs = {s.name: json.loads((ds / f"{s.name}.json").read_text())
            for s in STAGES if (ds / f"{s.name}.json").exists() and s.name in found}
    root = Path(reports).resolve().parent
    ctx = context(root / "data" / "processed" / dataset, root / "params" / f"{dataset}.yaml")
    parts = []
    todo_word, to_report = html.escape(_("What to do:")), html.escape(_("→ report"))
    space = gap()                            # no space after a full-width colon
    call_list = "retention_watchlist.csv" if (ds / "retention_watchlist.csv").exists() else "watchlist.csv"
    download = html.escape(_("Download the retention watchlist (retention_watchlist.csv)")
                           if call_list == "retention_watchlist.csv"
                           else _("Download the watchlist (watchlist.csv)"))
    data = found.get("00_data")
    intro = f"<p class='muted'>{html.escape(data.headline)}</p>" if data else ""
    for stage, question in summary_questions():
        f = found.get(stage)
        if f is None:
            continue
        report = f"{stage}.html"
        page = (ds / report).read_text(encoding="utf-8")
        anchors = _anchors(page)
        items = []
        for k in f.key_findings:
            target = _link(k.section, anchors, report) or report
            items.append(f"<li>{html.escape(k.text)} <a href='{html.escape(target)}'>→</a></li>")
        extra = ""
        todo = actions.action(stage, figs, currency=ctx.get("currency", ""))
        if todo:
            extra += f"<p class='action'><b>{todo_word}</b>{space}{html.escape(todo)}</p>"
        if stage == "40_segments" and (ds / call_list).exists():
            extra += f"<p><a href='{call_list}'>{download}</a></p>"
        parts.append(f"<h2>{html.escape(question)}</h2><p class='headline'>{html.escape(f.headline)} "
                     f"<a href='{report}'>{to_report}</a></p>"
                     f"<ul>{''.join(items)}</ul>{extra}")
    for title, rows, note, third in (
            (_("Definitions: the churn figures of these reports"),
             definitions.churn_definitions(figs), definitions.CHURN_NOTE, _("what it measures")),
            (_("Money figures and their bases"),
             definitions.money_definitions(figs, currency=ctx.get("currency", "")),
             definitions.money_note(), _("base: customers, horizon, model")),
            (_("The effect of the business change, estimated four ways"),
             definitions.change_definitions(figs), definitions.CHANGE_NOTE, _("what it measures"))):
        if not rows:
            continue
        body = "".join(f"<tr><td>{html.escape(r.name)}</td><td>{html.escape(r.value)}</td>"
                       f"<td>{html.escape(r.measures)}</td><td>{_stage_links(r.stage)}</td></tr>"
                       for r in rows)
        head = "".join(f"<th>{html.escape(h)}</th>" for h in
                       (_("figure"), _("value"), third, _("report")))
        parts.append(f"<h2>{html.escape(title)}</h2><p class='muted'>{html.escape(_(note))}</p>"
                     f"<div class='scroll'><table><tr>{head}</tr>{body}</table></div>")
    title = html.escape(t("Summary — {dataset}", dataset=dataset))
    heading = html.escape(t("Customer churn: summary ({dataset})", dataset=dataset))
    every = html.escape(_("All reports"))
    page = (f"<!doctype html><html lang='{html_lang()}'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{title}</title><style>{_SUMMARY_CSS}</style></head>"
            f"<body><h1>{heading}</h1>{intro}{''.join(parts)}<p class='muted cr-nav'>"
            f"<a href='../index.html'>{every}</a></p></body></html>")
    return write_atomic(ds / "summary.html", page)
