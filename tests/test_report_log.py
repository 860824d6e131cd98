"""Warnings a stage prints go to its log, never into the HTML report (issue 14)."""

from __future__ import annotations

import nbformat

from churn_research.runner.pipeline import _warning_count, move_stderr_to_log, render_html

WARNING = ("/x/font_manager.py:1: UserWarning: Glyph 27969 (\\N{CJK UNIFIED IDEOGRAPH-6D41}) "
           "missing from font(s) DejaVu Sans.\n  func(*args)\n")


def _executed(tmp_path):
    nb = nbformat.v4.new_notebook()
    first = nbformat.v4.new_code_cell("print('hello')")
    first.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n"),
                     nbformat.v4.new_output("stream", name="stderr", text=WARNING * 2)]
    second = nbformat.v4.new_code_cell("x = 1")
    second.outputs = [nbformat.v4.new_output("stream", name="stderr", text="some chatter\n")]
    nb.cells = [first, second]
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    return path


def test_stderr_moves_to_the_log_with_a_count(tmp_path):
    nb = nbformat.read(_executed(tmp_path), as_version=4)
    log = tmp_path / "stage.log"
    assert move_stderr_to_log(nb, log) == 3          # two warnings, one line of chatter
    assert all(o["name"] == "stdout" for c in nb.cells for o in c.outputs)
    text = log.read_text(encoding="utf-8")
    assert "--- code cell 1 ---" in text and "--- code cell 2 ---" in text and "Glyph 27969" in text
    assert _warning_count(log) == 3
    assert _warning_count(tmp_path / "absent.log") == 0


def test_report_shows_one_line_instead_of_warning_boxes(tmp_path):
    html = tmp_path / "10_indicators.html"
    render_html(_executed(tmp_path), html)
    page = html.read_text(encoding="utf-8")
    assert "Glyph" not in page and "UserWarning" not in page and "chatter" not in page
    assert "wrote 3 warning messages to its log" in page and "10_indicators.log" in page
    assert "hello" in page
    clean = tmp_path / "clean.html"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title")])
    nbformat.write(nb, tmp_path / "clean.ipynb")
    render_html(tmp_path / "clean.ipynb", clean)
    assert "warning message" not in clean.read_text(encoding="utf-8")
    assert not (tmp_path / "clean.log").exists()


def test_chinese_report_says_so_in_chinese_and_keeps_chinese_cells(tmp_path):
    from churn_research import i18n

    nb = nbformat.read(_executed(tmp_path), as_version=4)
    for text, lang in (("# Indicators", "en"), ("# 流失指标", "zh")):
        cell = nbformat.v4.new_markdown_cell(text)
        cell.metadata["tags"] = [f"lang-{lang}"]
        nb.cells.insert(len(nb.cells) - 2, cell)
    nbformat.write(nb, tmp_path / "both.ipynb")
    html = tmp_path / "10_indicators.html"
    i18n.set_language("zh")
    try:
        render_html(tmp_path / "both.ipynb", html)
    finally:
        i18n.set_language("en")
    page = html.read_text(encoding="utf-8")
    assert "本阶段有 3 条警告信息写入日志" in page and "流失指标" in page
    assert "Indicators" not in page and "warning messages" not in page
