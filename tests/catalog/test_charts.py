"""The server-drawn price-history chart: daily values, the step line, axes, and the SVG itself."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.catalog import charts
from app.catalog.charts import (
    ChartText,
    Layout,
    OfferHistory,
    axis_money,
    daily_lowest,
    daily_prices,
    date_ticks,
    nice_ticks,
    path_data,
    price_history,
    render_svg,
    step_points,
    summarize,
    window,
)

SVG = "{http://www.w3.org/2000/svg}"
D = Decimal
TEXT = ChartText(title="价格走势 <测试>", description="说明 & 描述")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def parse_svg(markup) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 -- our own output, parsed to prove it is well-formed


# --------------------------------------------------------------------------------------------
# Daily values


def test_window_is_the_last_n_days_ending_today():
    days = window(date(2026, 11, 26), 90)
    assert len(days) == 90
    assert days[0] == date(2026, 8, 29) and days[-1] == date(2026, 11, 26)
    assert window(date(2026, 3, 1), 2) == [date(2026, 2, 28), date(2026, 3, 1)]


def test_daily_price_is_the_price_at_the_end_of_the_day_in_china():
    days = [date(2026, 11, d) for d in range(20, 26)]
    changes = [
        (utc(2026, 11, 21, 2, 0), D("100.00")),  # 10:00 on the 21st in China
        (utc(2026, 11, 21, 9, 0), D("90.00")),  # 17:00 the same day: the day ends at 90
        (utc(2026, 11, 22, 16, 30), D("80.00")),  # 00:30 on the 23rd in China, not the 22nd
    ]
    assert daily_prices(reversed(changes), days) == [None, D(90), D(90), D(80), D(80), D(80)]


def test_a_change_before_the_window_opens_it():
    days = [date(2026, 11, 1), date(2026, 11, 2)]
    assert daily_prices([(utc(2025, 1, 1), D("5"))], days) == [D(5), D(5)]
    assert daily_prices([], days) == [None, None]


def test_daily_lowest_ignores_missing_values():
    assert daily_lowest([[None, D(5), D(7)], [None, None, D(6)], [None, D(9), None]]) == [None, D(5), D(6)]
    assert daily_lowest([]) == []


def test_price_history_combines_offers():
    today = date(2026, 11, 26)
    history = price_history(
        [
            OfferHistory(1, "甲", [(utc(2026, 11, 1), D("10.00")), (utc(2026, 11, 20), D("8.00"))]),
            OfferHistory(2, "乙", [(utc(2026, 11, 10), D("9.00"))]),
        ],
        today,
        days=30,
    )
    assert history.days[0] == date(2026, 10, 28)
    assert history.lowest.values[:4] == [None] * 4
    by_day = dict(zip(history.days, history.lowest.values, strict=True))
    assert by_day[date(2026, 11, 1)] == D(10)
    assert by_day[date(2026, 11, 10)] == D(9)
    assert by_day[date(2026, 11, 20)] == D(8)
    assert [s.label for s in history.offers] == ["甲", "乙"]
    assert history.change_rows() == [
        (date(2026, 11, 1), [D(10)]),
        (date(2026, 11, 10), [D(9)]),
        (date(2026, 11, 20), [D(8)]),
        (date(2026, 11, 26), [D(8)]),
    ]
    summary = summarize(history)
    assert (summary.start, summary.end, summary.first, summary.last) == (
        date(2026, 11, 1),
        today,
        D(10),
        D(8),
    )
    assert (summary.low, summary.high) == (D(8), D(10))


# --------------------------------------------------------------------------------------------
# Step line


def test_step_line_points():
    values = [None, D(10), D(10), D(8), D(8), D(12)]
    runs = step_points(values, x=lambda i: i * 10, y=lambda v: int(v))
    assert runs == [[(10, 10), (30, 10), (30, 8), (50, 8), (50, 12)]]
    assert path_data(runs) == "M10 10 L30 10 L30 8 L50 8 L50 12"


def test_step_line_holds_the_last_value_to_the_last_day():
    runs = step_points([D(5), D(6), D(6), D(6)], x=lambda i: i, y=lambda v: int(v))
    assert runs == [[(0, 5), (1, 5), (1, 6), (3, 6)]]


def test_gaps_split_the_line_and_a_lone_day_is_a_point():
    runs = step_points([D(5), None, D(7)], x=lambda i: i, y=lambda v: int(v))
    assert runs == [[(0, 5)], [(2, 7)]]
    assert path_data(runs) == ""  # single points are drawn as circles, not paths
    assert step_points([None, None], x=lambda i: i, y=lambda v: v) == []


# --------------------------------------------------------------------------------------------
# Axes


def test_nice_ticks():
    assert nice_ticks(D(4999), D(5600)) == [D(4800), D(5000), D(5200), D(5400), D(5600)]
    ticks = nice_ticks(D("12.5"), D("13.7"))
    assert ticks[0] <= D("12.5") and ticks[-1] >= D("13.7")
    steps = {b - a for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1


def test_a_flat_series_gets_room_above_and_below():
    ticks = nice_ticks(D(4999), D(4999))
    assert ticks[0] < D(4999) < ticks[-1]
    assert nice_ticks(D("0.50"), D("0.50"))[0] == 0  # never below zero for positive prices


def test_axis_money_labels():
    assert axis_money(D(4800)) == "¥4,800"
    assert axis_money(D("12.50")) == "¥12.50"
    assert axis_money(D(1200000)) == "¥1,200,000"


def test_date_ticks_first_last_and_month_starts_without_crowding():
    days = window(date(2026, 11, 26), 90)  # 2026-08-29 … 2026-11-26
    labels = [days[i].isoformat() for i in date_ticks(days)]
    # 09-01 is only three days after the first day: dropped rather than printed over it.
    assert labels == ["2026-08-29", "2026-10-01", "2026-11-01", "2026-11-26"]
    close = window(date(2026, 12, 3), 20)  # 11-14 … 12-03: 12-01 is two days from the end
    assert [close[i].isoformat() for i in date_ticks(close)] == ["2026-11-14", "2026-12-03"]


# --------------------------------------------------------------------------------------------
# The SVG


def _history(values: list, start: date = date(2026, 11, 1)) -> charts.PriceHistory:
    days = [start + timedelta(days=i) for i in range(len(values))]
    return charts.PriceHistory(days=days, lowest=charts.Series("lowest", "", list(values)))


def test_svg_is_well_formed_and_accessible():
    history = _history([None, D("5299.00"), D("5299.00"), D("4999.00"), D("4999.00")])
    svg = parse_svg(render_svg(history, TEXT, id_prefix="c1"))
    assert svg.tag == f"{SVG}svg"
    assert (svg.get("role"), svg.get("aria-labelledby")) == ("img", "c1-title c1-desc")
    assert svg.find(f"{SVG}title").get("id") == "c1-title"
    assert svg.find(f"{SVG}title").text == "价格走势 <测试>"  # escaped in the markup, text again here
    assert svg.find(f"{SVG}desc").text == "说明 & 描述"
    assert "<测试>" not in str(render_svg(history, TEXT))
    y = [t.text for t in svg.find(f"{SVG}g[@class='chart-axis chart-axis-y']").findall(f"{SVG}text")]
    assert y == ["¥4,900", "¥5,000", "¥5,100", "¥5,200", "¥5,300"]
    x = [t.text for t in svg.find(f"{SVG}g[@class='chart-axis chart-axis-x']").findall(f"{SVG}text")]
    assert x == ["11-01", "11-05"]
    path = svg.find(f"{SVG}path")
    assert path.get("class") == "chart-line chart-line-lowest"
    layout = Layout()
    numbers = [float(n) for n in re.findall(r"[\d.]+", path.get("d"))]
    xs, ys = numbers[0::2], numbers[1::2]
    # Day 1 to day 3 at 5299, then down to 4999 until the last day, at the plot's right edge.
    assert xs[0] == layout.left + layout.plot_width * 1 / 4
    assert xs[-1] == layout.left + layout.plot_width
    assert ys[0] == ys[1] and ys[2] == ys[3] and ys[0] < ys[2]
    current = [c for c in svg.findall(f"{SVG}circle") if c.get("class") == "chart-current"]
    assert len(current) == 1 and float(current[0].get("cx")) == xs[-1]


def test_a_single_price_point():
    history = _history([None, None, D("3999.00")])
    svg = parse_svg(render_svg(history, TEXT))
    assert svg.findall(f"{SVG}path") == []
    points = [c for c in svg.findall(f"{SVG}circle") if "chart-point" in c.get("class")]
    assert len(points) == 1
    y = [t.text for t in svg.find(f"{SVG}g[@class='chart-axis chart-axis-y']").findall(f"{SVG}text")]
    assert y[0] != y[-1] and "¥3,999" not in y[0]  # the flat value sits between the labels
    summary = summarize(history)
    assert (summary.start, summary.end, summary.low, summary.high) == (
        date(2026, 11, 3),
        date(2026, 11, 3),
        D("3999.00"),
        D("3999.00"),
    )


def test_no_data():
    history = _history([None, None, None])
    svg = parse_svg(render_svg(history, TEXT))
    assert [child.tag for child in svg] == [f"{SVG}title", f"{SVG}desc"]
    assert summarize(history) is None
    assert not history.has_data
    empty = price_history([], date(2026, 11, 26), days=3)
    assert empty.lowest.values == [None, None, None] and not empty.has_data


def test_offer_lines_are_optional_and_styled_apart():
    days = 4
    lowest = charts.Series("lowest", "", [D(5), D(5), D(4), D(4)])
    offers = [
        charts.Series("offer-1", "甲", [D(5), D(5), D(5), D(5)]),
        charts.Series("offer-2", "乙", [None, D(6), D(4), D(4)]),
    ]
    history = charts.PriceHistory(
        days=[date(2026, 11, 1) + timedelta(days=i) for i in range(days)], lowest=lowest, offers=offers
    )
    alone = parse_svg(render_svg(history, TEXT))
    assert len(alone.findall(f"{SVG}path")) == 1
    svg = parse_svg(render_svg(history, TEXT, show_offers=True))
    assert [p.get("class") for p in svg.findall(f"{SVG}path")] == [
        "chart-line chart-line-lowest",
        "chart-line chart-line-offer chart-series-1",
        "chart-line chart-line-offer chart-series-2",
    ]
    sample = parse_svg(charts.legend_sample(charts.series_class(history, offers[1])))
    assert sample.get("aria-hidden") == "true"
    assert sample.find(f"{SVG}line").get("class") == "chart-line chart-line-offer chart-series-2"
