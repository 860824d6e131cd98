"""Reports for reviewers (issue 15): sharp figures, narrow screens and print, and each report's
tables as ``<stage>.xlsx`` beside it."""

from __future__ import annotations

import base64
import json
import struct

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import openpyxl  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from churn_research import i18n  # noqa: E402
from churn_research.narrate import tables  # noqa: E402
from churn_research.runner import downloads, pipeline  # noqa: E402
from churn_research.runner.findings_html import decorate_report, in_language  # noqa: E402

MIME = tables.TABLE_MIME


@pytest.fixture
def shell(monkeypatch):
    """An IPython shell standing in for a notebook kernel."""
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    monkeypatch.setattr(tables, "get_ipython", lambda: ip)
    from churn_research import plots

    monkeypatch.setattr(plots, "get_ipython", lambda: ip)
    yield ip
    from IPython.core.pylabtools import select_figure_formats

    select_figure_formats(ip, {"png"})
    InteractiveShell.clear_instance()


def _png_size(data: str) -> tuple[int, int]:
    raw = base64.b64decode(data)
    return struct.unpack(">II", raw[16:24])


def test_figures_are_2x_pngs_shown_at_their_usual_size(shell):
    from churn_research import plots

    assert plots.sharp_figures() is True
    plots.set_style("en")
    fig, ax = plt.subplots(figsize=(5, 2.5), dpi=96)
    ax.plot([1, 2], [3, 4])
    try:
        data, meta = shell.display_formatter.format(fig)
    finally:
        plt.close(fig)
    width, height = _png_size(data["image/png"])
    shown = meta["image/png"]
    assert width == 2 * shown["width"] and height == 2 * shown["height"]
    assert 400 < shown["width"] <= 480                    # 5 in at 96 dpi, trimmed (bbox tight)


def test_sharp_figures_outside_a_notebook_does_nothing():
    from churn_research import plots

    assert plots.sharp_figures() is False


def test_a_displayed_table_carries_its_data(shell):
    tables.register()
    df = pd.DataFrame({"period": ["2024Q1", "2024Q2"], "churned": [3, 4],
                       "rate": [0.1, np.nan], "ok": [True, False],
                       "when": pd.to_datetime(["2024-01-01", "2024-04-01"])})
    data, _ = shell.display_formatter.format(df)
    assert data[MIME] == {"columns": ["period", "churned", "rate", "ok", "when"],
                          "rows": [["2024Q1", 3, 0.1, True, "2024-01-01T00:00:00"],
                                   ["2024Q2", 4, None, False, "2024-04-01T00:00:00"]],
                          "dates": [4]}
    assert "<table" in data["text/html"]
    styled = df.set_index("period").style.format({"rate": "{:.1%}"}).hide(["ok"], axis="columns")
    data, _ = shell.display_formatter.format(styled)
    assert data[MIME]["columns"] == ["period", "churned", "rate", "when"]
    assert data[MIME]["rows"][0] == ["2024Q1", 3, 0.1, "2024-01-01T00:00:00"]
    assert data[MIME]["dates"] == [3]
    hidden = df.style.hide(axis="index")
    assert tables.table_data(hidden)["columns"][0] == "period"
    assert tables.table_data("not a table") is None


def test_table_data_has_the_rows_the_report_shows():
    long = pd.DataFrame({"x": range(100)}, index=pd.Index(range(100), name="n") + 1)
    with pd.option_context("display.max_rows", 60, "display.min_rows", 10):
        data = tables.table_data(long)
    assert len(data["rows"]) == 10                         # head 5 + tail 5, as pandas shows it
    assert [r[0] for r in data["rows"]] == [1, 2, 3, 4, 5, 96, 97, 98, 99, 100]
    cols = pd.MultiIndex.from_tuples([("rate", "low"), ("rate", "high")])
    multi = pd.DataFrame([[0.1, 0.2]], columns=cols, index=pd.Index([True], name="flag"))
    data = tables.table_data(multi)
    assert data["columns"] == ["flag", "rate low", "rate high"]
    assert data["rows"] == [["yes", 0.1, 0.2]]


def _executed() -> nbformat.NotebookNode:
    def table(columns, rows, dates=()):
        return nbformat.v4.new_output("display_data", data={
            MIME: {"columns": columns, "rows": rows, "dates": list(dates)},
            "text/html": "<table></table>", "text/plain": "df"})

    params = nbformat.v4.new_code_cell("dataset = 'x'", metadata={"tags": ["parameters"]})
    params.outputs = [table(["secret"], [["no"]])]
    en = nbformat.v4.new_markdown_cell("# Indicators\n\n## How many customers do we *lose*?",
                                       metadata={"tags": ["lang-en"]})
    zh = nbformat.v4.new_markdown_cell("# 流失指标\n\n## 每期流失多少客户？", metadata={"tags": ["lang-zh"]})
    first = nbformat.v4.new_code_cell("display(t)")
    first.outputs = [table(["期间", "流失率"], [["2024Q1", 0.1]]),
                     nbformat.v4.new_output("display_data", data={
                         "text/markdown": "### By [segment](#s): rates", "text/plain": "md"}),
                     table(["segment", "since"], [["a", "2024-07-01T00:00:00"]], dates=[1])]
    return nbformat.v4.new_notebook(cells=[params, en, zh, first])


def test_displayed_tables_are_named_after_their_section():
    found = downloads.displayed_tables(_executed(), hidden={"parameters", "lang-zh"})
    assert [t.section for t in found] == ["How many customers do we lose?", "By segment: rates"]
    assert found[0].columns == ["期间", "流失率"] and found[1].dates == (1,)
    zh = downloads.displayed_tables(_executed(), hidden={"parameters", "lang-en"})
    assert zh[0].section == "每期流失多少客户？"


def test_sheet_names_fit_excel():
    assert downloads.sheet_name(3, "Did churn change after the business change? [ITS]") == \
        "3 Did churn change after the bu"
    assert len(downloads.sheet_name(12, "x" * 80)) == 31
    assert downloads.sheet_name(1, "a/b: c*d?") == "1 a b c d"
    assert downloads.sheet_name(2, "") == "Table 2"
    taken = {"1 Same"}
    assert downloads.sheet_name(1, "Same", taken) == "1 Same (2)"
    with in_language("zh"):
        assert downloads.sheet_name(2, "") == "表 2"


def test_workbook_has_a_sheet_per_table_in_the_report_language(tmp_path):
    found = downloads.displayed_tables(_executed(), hidden={"parameters", "lang-en"})
    with in_language("zh"):
        path = downloads.write_tables(found, tmp_path / "10_indicators.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["目录", "1 每期流失多少客户？", "2 By segment rates"]
    contents = [list(r) for r in wb["目录"].iter_rows(values_only=True)]
    assert contents == [["工作表", "报告章节"], ["1 每期流失多少客户？", "每期流失多少客户？"],
                        ["2 By segment rates", "By segment: rates"]]
    first = [list(r) for r in wb["1 每期流失多少客户？"].iter_rows(values_only=True)]
    assert first == [["期间", "流失率"], ["2024Q1", 0.1]]
    second = wb["2 By segment rates"]
    assert second["B2"].value == pd.Timestamp("2024-07-01").to_pydatetime()
    assert second.freeze_panes == "A2" and second["A1"].font.bold
    with in_language("en"):
        english = downloads.write_tables(found, tmp_path / "en.xlsx")
    assert openpyxl.load_workbook(english).sheetnames[0] == "Contents"
    # no tables: no workbook (a stale one is removed)
    assert downloads.write_tables([], path) is None and not path.exists()


def test_report_links_its_tables_and_fits_narrow_screens_and_print(tmp_path):
    page = ("<html lang=\"en\"><head><title>x</title></head><body><h1 id=\"t\">Indicators</h1>"
            "<table><tr><th>churn_rate_low</th><th id='a_b'>n</th></tr></table></body></html>")
    with in_language("zh"):
        out = decorate_report(page, dataset="shop", stage="10_indicators", found=None,
                              tables=tmp_path / "10_indicators.xlsx")
    assert "</h1><p class='cr-download'><a href='10_indicators.xlsx' download>下载表格（.xlsx）</a></p>" in out
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in out
    assert "overflow-x:auto" in out and "@media print{" in out and "break-inside:avoid" in out
    assert "<th>churn_<wbr>rate_<wbr>low</th><th id='a_b'>n</th>" in out
    plain = decorate_report(page, dataset="shop", stage="10_indicators", found=None)
    assert "cr-download'>" not in plain and "@media print{" in plain


def test_render_html_writes_the_workbook_beside_the_report(tmp_path):
    path = tmp_path / "executed.ipynb"
    nbformat.write(_executed(), path)
    html = pipeline.render_html(path, tmp_path / "10_indicators.html", dataset="shop",
                                stage="10_indicators")
    page = html.read_text(encoding="utf-8")
    assert "<a href='10_indicators.xlsx' download>Download the tables (.xlsx)</a>" in page
    wb = openpyxl.load_workbook(tmp_path / "10_indicators.xlsx")
    assert wb.sheetnames == ["Contents", "1 How many customers do we lose", "2 By segment rates"]
    assert "secret" not in json.dumps([[c for c in r] for ws in wb for r in ws.iter_rows(values_only=True)],
                                      default=str)
    empty = tmp_path / "clean.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T")]), empty)
    (tmp_path / "clean.xlsx").write_bytes(b"stale")
    out = pipeline.render_html(empty, tmp_path / "clean.html", dataset="shop", stage="10_indicators")
    assert not (tmp_path / "clean.xlsx").exists() and "cr-download'>" not in out.read_text()


def test_a_failed_run_removes_the_stale_workbook(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    (root / "params").mkdir(parents=True)
    (root / "notebooks").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), root / "notebooks" / "00_data.ipynb")
    (root / "params" / "tiny.yaml").write_text(yaml.safe_dump({"source": "synthetic",
                                                               "stages": {"00_data": {}}}))
    out = root / "reports" / "tiny"
    out.mkdir(parents=True)
    (out / "00_data.xlsx").write_bytes(b"from the last run")

    def fail(*args, **kwargs):
        raise RuntimeError("deliberate failure")

    monkeypatch.setattr(pipeline.pm, "execute_notebook", fail)
    with pytest.raises(SystemExit, match="stage 00_data \\(dataset tiny\\) FAILED"):
        pipeline.run_stage("tiny", "00_data", root=root, quiet=True)
    assert not (out / "00_data.xlsx").exists() and (out / "00_data.failed.json").exists()
    assert i18n.language() == "en"


def test_index_links_each_workbook_and_prints_cleanly(tmp_path, monkeypatch):
    from churn_research.narrate.findings import StageFindings
    from churn_research.runner import render_index

    monkeypatch.delenv("REPORT_LANG", raising=False)
    ds = tmp_path / "reports" / "shop"
    ds.mkdir(parents=True)
    (ds / "10_indicators.html").write_text("<html><body><h1>T</h1></body></html>")
    StageFindings("10_indicators", "shop", "流失率为 8.9%。", []).write(ds / "10_indicators.findings.json")
    (ds / "10_indicators.json").write_text("{}")
    (ds / "10_indicators.provenance.json").write_text(json.dumps({
        "git_commit": "abc1234", "finished": "2026-01-01T00:00:00+00:00", "seconds": 1.0,
        "parameters": {"language": "zh"}, "input_checksums": {}, "package_versions": {}}))
    index = render_index(tmp_path / "reports").read_text(encoding="utf-8")
    assert "10_indicators.xlsx" not in index and "@media print{" in index
    (ds / "10_indicators.xlsx").write_bytes(b"x")
    index = render_index(tmp_path / "reports").read_text(encoding="utf-8")
    assert "<a href='shop/10_indicators.xlsx'>表格（.xlsx）</a>" in index
    summary = (ds / "summary.html").read_text(encoding="utf-8")
    assert "@media print{" in summary and "class='muted cr-nav'" in summary


def test_index_shows_each_dataset_in_its_own_language(tmp_path, monkeypatch):
    """review s5, item 5: beside an English dataset, synthetic_zh's section of the index reads in
    Chinese (its headers, stage titles and summary link), and its parameters show 元, not \\u5143."""
    from churn_research.narrate.findings import StageFindings
    from churn_research.runner import render_index

    monkeypatch.delenv("REPORT_LANG", raising=False)
    for name, lang, headline in (("shop", "en", "Churn is 8.9%."), ("shop_zh", "zh", "流失率为 8.9%。")):
        ds = tmp_path / "reports" / name
        ds.mkdir(parents=True)
        (ds / "00_data.html").write_text("<html><body><h1>T</h1></body></html>")
        StageFindings("00_data", name, headline, []).write(ds / "00_data.findings.json")
        (ds / "00_data.json").write_text("{}")
        (ds / "00_data.provenance.json").write_text(json.dumps({
            "git_commit": "abc1234", "finished": "2026-01-01T00:00:00+00:00", "seconds": 1.0,
            "parameters": {"language": lang, "currency": "元" if lang == "zh" else "USD"},
            "input_checksums": {}, "package_versions": {}}))
    index = render_index(tmp_path / "reports").read_text(encoding="utf-8")
    en, zh = index.split("<h2>shop_zh</h2>")
    assert "<html lang='en'" in index and "<section lang='zh-Hans'><h2>shop_zh</h2>" in index
    assert "<th>report</th><th>status</th><th>headline</th>" in en
    assert "<th>报告</th>" in zh and "<th>report</th>" not in zh
    assert "Data: sources, validation and profile" in en and "Data: sources" not in zh
    assert "One-page summary for management" in en and "One-page summary" not in zh
    assert "&quot;currency&quot;: &quot;元&quot;" in zh and "\\u5143" not in index


def test_the_kernel_writes_the_findings_beside_its_key_figures_under_the_runner(tmp_path, monkeypatch):
    """Under the runner (CHURN_RESEARCH_BATCH, CHURN_RESEARCH_ROOT) save_key_figures builds the
    stage's findings in the notebook's kernel, as the runner would (it then reads the file);
    run any other way, it writes the key figures only."""
    import json as _json

    from churn_research import narrate
    from churn_research.lab import BATCH
    from churn_research.runner import save_key_figures

    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "telco.yaml").write_text("source: telco\ncurrency: USD\n")
    (tmp_path / "data" / "processed" / "telco").mkdir(parents=True)
    (tmp_path / "data" / "processed" / "telco" / "meta.json").write_text(
        _json.dumps({"kind": "contractual", "snapshot": "2018-01-31"}))
    out = tmp_path / "reports" / "telco" / "30_survival.json"
    out.parent.mkdir(parents=True)
    figures = {"km_survival": {"12": 0.843}, "km_survival_lower": {"12": 0.834},
               "km_survival_upper": {"12": 0.852}, "time_unit": "months", "cox_concordance": 0.857}
    monkeypatch.delenv(BATCH, raising=False)
    save_key_figures(figures, out)
    assert not out.with_name("30_survival.findings.json").exists()
    monkeypatch.setenv(BATCH, "1")
    monkeypatch.setenv("CHURN_RESEARCH_ROOT", str(tmp_path))
    flat = save_key_figures(figures, out)
    written = _json.loads(out.with_name("30_survival.findings.json").read_text(encoding="utf-8"))
    expected = narrate.build("30_survival", flat, dataset="telco",
                             context={"kind": "contractual", "snapshot": "2018-01-31",
                                      "records_start": None, "inactivity_days": None,
                                      "observation_end": None, "currency": "USD"})
    assert written == expected.to_dict()
    assert written["headline"].startswith("84.3% (95% CI 83.4–85.2%) of customers are still customers")


def test_the_report_exporter_renders_what_nbconvert_renders(tmp_path):
    """ReportExporter skips nbconvert's BeautifulSoup pass, per-preprocessor validation and
    template compilation per process: the page must still be nbconvert's page, element for
    element (same text, images, tables; output areas keyboard-focusable)."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    nb = _executed()
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
    nb.cells[-1].outputs.append(nbformat.v4.new_output(
        "display_data", data={"image/png": png, "text/plain": "<Figure>"}))
    nb.cells[-1].outputs.append(nbformat.v4.new_output(
        "display_data", data={"text/html": "<p>a &amp; b&nbsp;c &#27969;&#x5931; &#60;x&#62;</p>", "text/plain": "p"}))
    options = dict(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                   exclude_output_prompt=True)
    pages = [cls(**options).from_notebook_node(nb)[0]
             for cls in (HTMLExporter, pipeline.ReportExporter)]
    ours = pages[1]
    assert "No description has been provided" not in ours  # decorate_report writes the alt text
    assert ">流失指标<" in ours and "流失 &#60;x&#62;" in ours  # characters, markup stays escaped
    soups = [BeautifulSoup(page, "html.parser") for page in pages]
    for soup in soups:
        for img in soup.find_all("img"):
            img.attrs.pop("alt", None)
    assert soups[0].get_text() == soups[1].get_text()
    assert [str(t) for t in soups[0].find_all(["img", "table", "h1", "h2", "p"])] == \
        [str(t) for t in soups[1].find_all(["img", "table", "h1", "h2", "p"])]
    focusable = [[(e.name, e.get("class")) for e in s.select("[tabindex]")] for s in soups]
    assert focusable[1] == focusable[0]
    assert len(soups[1].select("div.jp-OutputArea-output[tabindex='0']")) >= 4
    assert len(soups[1].select("div.jp-Cell-inputWrapper[tabindex='0']")) >= 2
    # a second exporter reads the compiled templates from Jinja's cache: the same page
    assert pipeline.ReportExporter(**options).from_notebook_node(nb)[0] == ours


def test_the_workbook_drops_the_characters_openpyxl_refuses():
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    every = "".join(map(chr, range(0x10000)))
    assert downloads._ILLEGAL_CHARACTERS.pattern == ILLEGAL_CHARACTERS_RE.pattern
    assert downloads._cell(every, False) == ILLEGAL_CHARACTERS_RE.sub("", every)
