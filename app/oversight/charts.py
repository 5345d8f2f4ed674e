"""The dashboards' charts, drawn by the server as inline SVG: horizontal bars (by category, unit,
supplier, route, alert type), columns (by month) and a share bar (SMEs, green products).

Like the product page's price chart (:mod:`app.catalog.charts`, whose axis helpers this reuses) it
needs no JavaScript and no chart library, so the pages keep their Content-Security-Policy. Every
chart carries a ``<title>`` and a ``<desc>`` and sits next to a table with the same figures;
colours come from classes in ``static/css/dashboards.css`` and each bar is also labelled with its
value, so nothing depends on colour.

This module knows nothing of Flask: the view passes in the texts (already translated).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from xml.sax.saxutils import escape

from markupsafe import Markup

from app.catalog.charts import SVG_NS, ChartText, axis_money, nice_ticks
from app.catalog.charts import _attrs as attrs  # the same attribute escaping as the price chart
from app.catalog.charts import _fmt as fmt

Point = tuple[str, Decimal | int]
WIDTH = 720
SHARE_STYLES = 4  # fill patterns of the share bar's parts in dashboards.css; they repeat after that


def shorten(label: str, limit: int = 14) -> str:
    """A label that fits the chart's margin; the table next to the chart has it in full."""
    label = " ".join(str(label).split())
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _open(text: ChartText, id_prefix: str, width: int, height: int, css: str) -> list[str]:
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    return [
        f"<svg{attrs(xmlns=SVG_NS, class_=f'dash-chart {css}', viewBox=f'0 0 {width} {height}')}"
        f"{attrs(role='img', aria_labelledby=f'{title_id} {desc_id}', focusable='false')}>",
        f"<title{attrs(id=title_id)}>{escape(text.title)}</title>",
        f"<desc{attrs(id=desc_id)}>{escape(text.description)}</desc>",
    ]


def _close(out: list[str]) -> Markup:
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 -- every text and attribute above is escaped


def bar_chart(
    points: Sequence[Point],
    text: ChartText,
    *,
    value_label: Callable[[Decimal | int], str],
    id_prefix: str,
    label_width: int = 190,
    value_width: int = 130,
) -> Markup:
    """Horizontal bars, largest first as given, each with its label on the left and its value at
    the end of the bar."""
    row, bar, top = 30, 18, 6
    height = top * 2 + row * max(len(points), 1)
    out = _open(text, id_prefix, WIDTH, height, "dash-bars")
    if not points:
        return _close(out)
    plot = WIDTH - label_width - value_width
    high = max((Decimal(v) for _, v in points), default=Decimal(0))
    out.append(f"<line{attrs(class_='dash-axis', x1=label_width, y1=top, x2=label_width, y2=height - top)}/>")
    for index, (label, value) in enumerate(points):
        y = top + index * row
        length = float(Decimal(value) / high * plot) if high > 0 else 0.0
        middle = fmt(y + row / 2 + 4)
        out.append("<g class='dash-bar-row'>")
        out.append(f"<title>{escape(f'{label}：{value_label(value)}')}</title>")
        out.append(
            f"<text{attrs(class_='dash-label', x=label_width - 8, y=middle, text_anchor='end')}>"
            f"{escape(shorten(label))}</text>"
        )
        if length > 0:
            box = attrs(x=label_width, y=fmt(y + (row - bar) / 2), width=fmt(max(length, 1.0)), height=bar)
            out.append(f"<rect class='dash-bar'{box}/>")
        out.append(
            f"<text{attrs(class_='dash-value', x=fmt(label_width + length + 6), y=middle)}>"
            f"{escape(value_label(value))}</text>"
        )
        out.append("</g>")
    return _close(out)


def column_chart(
    points: Sequence[Point],
    text: ChartText,
    *,
    id_prefix: str,
    tick_label: Callable[[str], str] = lambda label: label,
    money: Callable[[Decimal], str] = axis_money,
) -> Markup:
    """Vertical columns (one per month), a money axis on the left; every label that fits is
    written under its column."""
    left, right, top, bottom, height = 84, 16, 16, 36, 260
    out = _open(text, id_prefix, WIDTH, height, "dash-columns")
    if not points:
        return _close(out)
    values = [Decimal(v) for _, v in points]
    ticks = nice_ticks(Decimal(0), max(max(values), Decimal(1)))
    low, high = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    base = top + plot_h

    def y(value: Decimal) -> float:
        return top + plot_h * (1 - float((value - low) / (high - low)))

    out.append("<g class='dash-grid'>")
    for tick in ticks:
        out.append(f"<line{attrs(x1=left, y1=fmt(y(tick)), x2=WIDTH - right, y2=fmt(y(tick)))}/>")
    out.append("</g><g class='dash-axis-labels'>")
    for tick in ticks:
        out.append(
            f"<text{attrs(x=left - 8, y=fmt(y(tick) + 4), text_anchor='end')}>{escape(money(tick))}</text>"
        )
    out.append("</g>")
    slot = plot_w / len(points)
    every = max(1, math.ceil(48 / slot))  # labels at least 48 px apart
    for index, ((label, _), value) in enumerate(zip(points, values, strict=True)):
        x = left + slot * index
        width = slot * 0.7
        out.append("<g class='dash-column'>")
        out.append(f"<title>{escape(f'{label}：{money(value)}')}</title>")
        if value > 0:
            box = attrs(
                x=fmt(x + slot * 0.15), y=fmt(y(value)), width=fmt(width), height=fmt(base - y(value))
            )
            out.append(f"<rect class='dash-bar'{box}/>")
        if index % every == 0:
            out.append(
                f"<text{attrs(class_='dash-tick', x=fmt(x + slot / 2), y=base + 18, text_anchor='middle')}>"
                f"{escape(tick_label(label))}</text>"
            )
        out.append("</g>")
    out.append(f"<line{attrs(class_='dash-axis', x1=left, y1=base, x2=WIDTH - right, y2=base)}/>")
    return _close(out)


def share_chart(
    points: Sequence[Point],
    text: ChartText,
    *,
    id_prefix: str,
    share_label: Callable[[Decimal | int, Decimal | int], str],
) -> Markup:
    """One bar split into its parts (each as wide as its share), with a legend underneath:
    ``share_label(value, whole)`` names each part's share."""
    left, right, bar, legend_row = 8, 8, 34, 24
    height = 14 + bar + 14 + legend_row * max(len(points), 1)
    out = _open(text, id_prefix, WIDTH, height, "dash-share")
    whole = sum((Decimal(v) for _, v in points), Decimal(0))
    if not points or whole <= 0:
        return _close(out)
    plot = WIDTH - left - right
    x = float(left)
    for index, (label, value) in enumerate(points):
        width = float(Decimal(value) / whole * plot)
        css = f"dash-part dash-part-{index % SHARE_STYLES + 1}"
        if width > 0:
            out.append(
                f"<rect{attrs(class_=css, x=fmt(x), y=14, width=fmt(width), height=bar)}>"
                f"<title>{escape(f'{label}：{share_label(value, whole)}')}</title></rect>"
            )
        x += width
    out.append(f"<rect{attrs(class_='dash-share-frame', x=left, y=14, width=plot, height=bar)}/>")
    for index, (label, value) in enumerate(points):
        y = 14 + bar + 14 + legend_row * index
        css = f"dash-part dash-part-{index % SHARE_STYLES + 1}"
        out.append(f"<rect{attrs(class_=css, x=left, y=y, width=16, height=16)}/>")
        out.append(
            f"<text{attrs(class_='dash-legend', x=left + 24, y=y + 13)}>"
            f"{escape(f'{label}：{share_label(value, whole)}')}</text>"
        )
    return _close(out)
