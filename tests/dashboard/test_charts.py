"""The charts are SVG drawn on the server (no script, no CDN), each bar a link (issue 14.1)."""

from __future__ import annotations

from dashboard.charts import bars, columns, sparkline
from dashboard.selectors import Figure


def test_each_bar_links_to_its_list_and_says_its_count():
    svg = bars([Figure("陌生人", 3, "/a/?k=1&s=2"), Figure("非实名", 0, "/a/")], title="问题")
    assert svg.startswith("<svg")
    assert "<script" not in svg
    assert 'href="/a/?k=1&amp;s=2" data-count="3"' in svg
    assert 'data-count="0"' in svg


def test_a_label_is_escaped_like_any_text():
    svg = columns([Figure("<b>群</b>", 1, "/x/")], title="<t>")
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg
    assert 'aria-label="&lt;t&gt;"' in svg


def test_no_chart_without_figures():
    assert bars([], title="空") == ""
    assert columns([], title="空") == ""


def test_a_sparkline_draws_the_known_rates_and_says_them_all():
    svg = sparkline([0.5, None, 1.0])
    assert "<polyline" in svg
    assert "合规率趋势：50%、—、100%" in svg
    assert sparkline([0.9]) == ""  # one snapshot is no trend
