"""Charts as inline SVG, drawn on the server: the app runs on an intranet (issue 14: no CDN,
no script to load). Each bar is a link to the list it counts, as every number on the page is.

Text goes through format_html, so a label (a group's or a rule's name) is escaped like any
other text on the page.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from dashboard.selectors import Figure

BAR = "#417690"  # the admin's own blue (--primary)
LINE = "#2a9d4a"
MUTED = "#999"


def _join(parts: Sequence[SafeString]) -> SafeString:
    return mark_safe("".join(parts))  # noqa: S308 — every part is format_html's, escaped


def bars(figures: Sequence[Figure], *, title: str, width: int = 420) -> SafeString:
    """Horizontal bars, one row per figure: its label, a bar as long as its share of the
    largest, its number; each row links to the figure's list."""
    if not figures:
        return mark_safe("")
    row, label_width, number_width = 22, 150, 48
    height = row * len(figures) + 4
    largest = max(f.count for f in figures) or 1
    room = width - label_width - number_width
    rows = []
    for i, figure in enumerate(figures):
        y = i * row + 2
        length = max(round(room * figure.count / largest), 1 if figure.count else 0)
        rows.append(
            format_html(
                '<a href="{}" data-count="{}"><title>{}：{}</title>'
                '<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>'
                '<text x="{}" y="{}" font-size="12">{}</text></a>',
                figure.url,
                figure.count,
                figure.label,
                figure.count,
                label_width - 6,
                y + 14,
                _short(figure.label, 12),
                label_width,
                y + 3,
                length,
                row - 8,
                BAR,
                label_width + length + 4,
                y + 14,
                figure.count,
            )
        )
    return _chart(title, width, height, rows)


def columns(figures: Sequence[Figure], *, title: str, width: int = 420) -> SafeString:
    """Vertical bars left to right (months, oldest first), each linking to its list."""
    if not figures:
        return mark_safe("")
    height, top, bottom = 150, 16, 22
    slot = width / len(figures)
    largest = max(f.count for f in figures) or 1
    room = height - top - bottom
    parts = []
    for i, figure in enumerate(figures):
        tall = round(room * figure.count / largest)
        x = round(i * slot + slot * 0.2)
        parts.append(
            format_html(
                '<a href="{}" data-count="{}"><title>{}：{}</title>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>'
                '<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>'
                '<text x="{}" y="{}" text-anchor="middle" font-size="11">{}</text></a>',
                figure.url,
                figure.count,
                figure.label,
                figure.count,
                x,
                height - bottom - tall,
                round(slot * 0.6),
                tall,
                BAR,
                round(i * slot + slot / 2),
                height - bottom - tall - 3,
                figure.count,
                round(i * slot + slot / 2),
                height - 6,
                _short(figure.label, 8),
            )
        )
    return _chart(title, width, height, parts)


def sparkline(values: Sequence[float | None], *, width: int = 120, height: int = 26) -> SafeString:
    """A rate's trend (0–100%, oldest first) as a line; a snapshot without a rate (an empty
    roster) leaves a gap. Nothing for fewer than two values."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(values) < 2 or not known:
        return mark_safe("")
    step = (width - 6) / (len(values) - 1)

    def point(i: int, v: float) -> str:
        return f"{3 + i * step:.1f},{height - 3 - v * (height - 6):.1f}"

    line = " ".join(point(i, v) for i, v in known)
    last_i, last_v = known[-1]
    words = "、".join("—" if v is None else f"{v:.0%}" for v in values)
    x, y = point(last_i, last_v).split(",")
    return format_html(
        '<svg class="dashboard-sparkline" role="img" aria-label="合规率趋势：{}" width="{}" '
        'height="{}" viewBox="0 0 {} {}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
        '<line x1="0" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-dasharray="2,2"></line>'
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="1.5"></polyline>'
        '<circle cx="{}" cy="{}" r="2" fill="{}"></circle></svg>',
        words,
        width,
        height,
        width,
        height,
        words,
        3,
        width,
        3,
        MUTED,
        line,
        LINE,
        x,
        y,
        LINE,
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chart(title: str, width: int, height: int, parts: Sequence[SafeString]) -> SafeString:
    """The chart's SVG element around its parts, named for screen readers by ``title``."""
    return format_html(
        '<svg class="dashboard-chart" role="img" aria-label="{}" width="{}" height="{}" '
        'viewBox="0 0 {} {}" xmlns="http://www.w3.org/2000/svg">{}</svg>',
        title,
        width,
        height,
        width,
        height,
        _join(parts),
    )
