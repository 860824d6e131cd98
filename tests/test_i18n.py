"""The language layer: every message and notebook text exists in Chinese, and the mechanics.

The catalog test extracts every message the package and the notebooks mark for translation
(tests/i18n_tool.py, Babel's extractor) and fails on one without a Chinese translation, naming
the file and line and the command that appends it to a catalog for a translator.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from i18n_tool import NOTEBOOKS, messages, missing

from churn_research import i18n
from churn_research.i18n import _, label, n_, t
from churn_research.narrate import format as fmt

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture()
def zh():
    i18n.set_language("zh")
    yield
    i18n.set_language("en")


def test_every_message_has_a_chinese_translation():
    todo = missing("zh")
    listing = "\n".join(f"  {where}: {msgid!r}" for _c, msgid, _p, where in todo[:40])
    assert not todo, (f"{len(todo)} messages have no Chinese translation:\n{listing}\n"
                      "append them to a catalog with `python tests/i18n_tool.py --po "
                      "src/churn_research/locale/zh/<area>.po <files>` and translate them")


def test_translations_keep_their_placeholders():
    cat = i18n.catalog("zh")
    wrong = []
    for context, msgid, plural, where in messages():
        found = cat.get((context, msgid))
        if found is None:
            continue
        wanted = i18n.placeholders(msgid) | (i18n.placeholders(plural) if plural else set())
        for text in (found if isinstance(found, tuple) else (found,)):
            if i18n.placeholders(text) != wanted:
                wrong.append(f"{where}: {msgid!r} -> {text!r}")
    assert not wrong, "translations whose {placeholders} differ:\n" + "\n".join(wrong[:30])


def test_translations_are_chinese():
    """A translation that is still English (copied msgid) is not a translation."""
    english = [msgid for (ctx, msgid), text in i18n.catalog("zh").items()
               if ctx is None and not CJK.search(text if isinstance(text, str) else text[0])
               and re.search(r"[A-Za-z]{4,}", msgid)]
    assert not english, f"catalog entries left in English: {english[:20]}"


def test_chinese_sentences_name_a_report_by_its_title_not_its_stage_id():
    """Review s7: "为 60_retention 校准之前" reads as code to a Chinese manager; the Chinese
    sentences name a report by its Chinese title (《从预警名单到决策》), as the index does."""
    from churn_research.runner.registry import STAGES

    ids = re.compile(r"\b(" + "|".join(s.name for s in STAGES) + r")\b(?![._/])")
    raw = [text for text in (v if isinstance(v, str) else " ".join(v)
                             for v in i18n.catalog("zh").values()) if ids.search(text)]
    assert not raw, f"Chinese text with a stage id: {raw[:5]}"
    i18n.set_language("zh")
    try:
        titles = {label(s.title) for s in STAGES}
    finally:
        i18n.set_language("en")
    named = re.findall(r"《([^》]+)》", " ".join(v if isinstance(v, str) else " ".join(v)
                                              for v in i18n.catalog("zh").values()))
    assert named and set(named) <= titles, set(named) - titles


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_notebook_text_exists_in_both_languages(path):
    """Every markdown cell is tagged lang-en or lang-zh, and each English cell is followed by
    its Chinese one (the renderer keeps the report language's cells)."""
    cells = nbformat.read(path, as_version=4).cells
    md = [c for c in cells if c.cell_type == "markdown"]
    untagged = [c.source[:60] for c in md
                if not {"lang-en", "lang-zh"} & set(c.metadata.get("tags", []))]
    assert not untagged, f"markdown cells without a language tag: {untagged}"
    for i, cell in enumerate(cells):
        if "lang-en" in cell.metadata.get("tags", []):
            nxt = cells[i + 1] if i + 1 < len(cells) else None
            assert nxt is not None and "lang-zh" in nxt.metadata.get("tags", []), \
                f"no Chinese cell after {cell.source[:60]!r}"
            assert CJK.search(nxt.source), f"the Chinese cell after {cell.source[:60]!r} is not Chinese"
            # the same headings, so that the Findings box's links find their sections
            assert cell.source.count("\n#") + cell.source.startswith("#") == \
                nxt.source.count("\n#") + nxt.source.startswith("#"), cell.source[:60]


def test_english_is_the_source_language():
    i18n.set_language("en")
    assert _("Churn rate") == "Churn rate"
    assert t("Churn per {unit}", unit="month") == "Churn per month"
    assert n_("{n} customer", "{n} customers", 1) == "1 customer"
    assert n_("{n} customer", "{n} customers", 12345) == "12,345 customers"
    # review s5, 4a: raw names read in words in English (the English label catalogue, else the
    # underscores as spaces), True/False as yes/no; a user's own values stay as they are
    assert label("two_year") == "two year" and label("internet_service") == "internet service"
    assert label("churn_ci_low") == "churn 95% CI low" and label("p_value") == "p-value"
    assert label("mean_tenure_months") == "mean tenure (months)" and label("gamma_se") == "gamma SE"
    assert label("complaint_90d") == "complaint in the last 90 days"
    assert label("clv_new_customer.mean") == "mean lifetime value of a new customer"
    assert label(True) == "yes" and label("False") == "no"
    assert label("Month-to-month") == "Month-to-month" and label("Fiber optic") == "Fiber optic"
    assert i18n.currency("") == "" and i18n.money_unit() == "currency units"
    assert fmt.money(1234567.8) == "1,234,568"
    assert fmt.pct_ci(0.1234, 0.11, 0.136) == "12.3% (95% CI 11.0–13.6%)"


def test_chinese_messages_labels_and_money(zh):
    assert n_("{n} customer", "{n} customers", 12345) == "12,345 位客户"
    assert fmt.pct_ci(0.1234, 0.11, 0.136) == "12.3%（95% 置信区间 11.0–13.6%）"
    assert fmt.money(1234567.8) == "1,234,568 元"          # 元 by default in Chinese
    assert fmt.money(12.5, "USD") == "12.50 USD"           # a dataset's own currency wins
    assert label("churn rate") == "流失率" and label("retention rate") == "留存率"
    assert label("two_year") == label("two year") == "两年合同"
    assert label("华东") == "华东"                         # a user's own value is shown as it is
    assert fmt.not_available("survival curves", "x").startswith("本数据集无法提供")


def test_language_comes_from_params_or_report_lang(monkeypatch):
    monkeypatch.delenv("REPORT_LANG", raising=False)
    assert i18n.resolve_language(None) == "en"
    assert i18n.resolve_language("zh-CN") == "zh"
    monkeypatch.setenv("REPORT_LANG", "zh")
    assert i18n.resolve_language("en") == "zh"
    monkeypatch.setenv("REPORT_LANG", "fr")
    with pytest.raises(ValueError, match="`language:` in params"):
        i18n.resolve_language("en")


def test_seed_terminology_is_translated_as_the_seeds_write_it(zh):
    seeds = {"churn rate": "流失率", "retention rate": "留存率", "customer lifetime value": "客户终身价值",
             "new": "新客户", "existing": "老客户", "high value": "高价值客户", "loyal": "忠诚客户",
             "at risk": "风险客户", "lost": "已流失客户", "complaint rate": "投诉率",
             "satisfaction": "满意度", "recommendation rate": "推荐率", "NPS": "净推荐值"}
    assert {k: label(k) for k in seeds} == seeds


def test_catalog_files_agree_with_each_other():
    """A message in two area catalogs has one translation (the loader merges them)."""
    from babel.messages.pofile import read_po

    seen: dict[tuple, tuple[str, object]] = {}
    clashes = []
    for po in sorted((i18n_tool_root() / "zh").glob("*.po")):
        with po.open("rb") as fh:
            for m in read_po(fh, locale="zh"):
                if not m.id or not m.string:
                    continue
                key = (m.context, m.id if isinstance(m.id, str) else m.id[0])
                if key in seen and seen[key][1] != m.string:
                    clashes.append(f"{key}: {seen[key][0]} {seen[key][1]!r} vs {po.name} {m.string!r}")
                seen.setdefault(key, (po.name, m.string))
    assert not clashes, "\n".join(clashes)


def i18n_tool_root():
    from i18n_tool import LOCALE

    return LOCALE


def _bold_left_on_screen(markdown: str) -> bool:
    """Whether ``**`` survives the reports' Markdown renderer (nbconvert's mistune) as text."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    html = markdown2html_mistune(re.sub(r"\{(\w+)\}", r"\1", markdown))
    return "**" in re.sub(r"<code>.*?</code>|<[^>]+>", "", html, flags=re.S)


def test_chinese_bold_closes_before_its_punctuation():
    """review s5, item 5: "**定义。**流失率" shows its asterisks (CommonMark does not close bold
    after CJK punctuation followed by a character); "**定义**。" is bold. Every Chinese notebook
    cell and catalog translation renders without a literal ``**``."""
    assert _bold_left_on_screen("**定义。**流失率") and not _bold_left_on_screen("**定义**。流失率")
    shown = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if "lang-zh" in cell.metadata.get("tags", []):
                shown += [f"{path.stem}: {line[:40]}" for line in cell.source.split("\n")
                          if "**" in line and _bold_left_on_screen(line)]
    for text in i18n.catalog("zh").values():
        for s in (text if isinstance(text, tuple) else (text,)):
            if "**" in s and _bold_left_on_screen(s):
                shown.append(f"catalog: {s[:40]}")
    assert not shown, f"literal ** on screen: {shown}"
