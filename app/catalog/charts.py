"""The price-history chart of a product page, drawn by the server as inline SVG.

No JavaScript and no chart library: the page stays within its Content-Security-Policy and works
everywhere. The chart is a step line of the lowest listed price per day over the last 90 days
(each day's value is the lowest price any listed offer had at the end of that day), optionally
with one dashed line per offer. Colours come from classes in ``static/css/app.css``; the lines
also differ in width and dash pattern, and the page carries the same data as a table.

This module knows nothing of Flask: the view passes in the texts (already translated).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from markupsafe import Markup

from app.core.money import to_money

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # the mall's calendar: a day is a day in China
HISTORY_DAYS = 90
SVG_NS = "http://www.w3.org/2000/svg"
SERIES_STYLES = 6  # dash patterns (and colours) for offer lines in app.css; they repeat after that


# --------------------------------------------------------------------------------------------
# Data: one value per day


@dataclass(frozen=True)
class OfferHistory:
    """One offer's price changes (any order) and how to name it in a legend."""

    offer_id: int
    label: str
    changes: Sequence[tuple[datetime, Decimal]]


@dataclass
class Series:
    key: str
    label: str
    values: list[Decimal | None]  # one per day of the window, None before the first price


@dataclass
class PriceHistory:
    days: list[date]
    lowest: Series
    offers: list[Series] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return any(v is not None for v in self.lowest.values)

    def change_rows(self, series: Sequence[Series] | None = None) -> list[tuple[date, list[Decimal | None]]]:
        """The days on which any of ``series`` changed (plus the first and last day with data):
        everything the step line shows, as table rows."""
        series = list(series) if series is not None else [self.lowest]
        rows = []
        previous: list[Decimal | None] | None = None
        last = len(self.days) - 1
        for index, day in enumerate(self.days):
            values = [s.values[index] for s in series]
            if all(v is None for v in values):
                previous = values
                continue
            if values != previous or index == last:
                rows.append((day, values))
            previous = values
        return rows


def local_day(moment: datetime, tz: ZoneInfo = LOCAL_TZ) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).date()


def window(today: date, days: int = HISTORY_DAYS) -> list[date]:
    """The last ``days`` days, ending with ``today``."""
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def daily_prices(
    changes: Iterable[tuple[datetime, Decimal]], days: Sequence[date], tz: ZoneInfo = LOCAL_TZ
) -> list[Decimal | None]:
    """The price in effect at the end of each day: the last change on or before that day."""
    ordered = sorted(((local_day(at, tz), at, to_money(price)) for at, price in changes), key=lambda c: c[:2])
    values: list[Decimal | None] = []
    current: Decimal | None = None
    position = 0
    for day in days:
        while position < len(ordered) and ordered[position][0] <= day:
            current = ordered[position][2]
            position += 1
        values.append(current)
    return values


def daily_lowest(columns: Iterable[Sequence[Decimal | None]]) -> list[Decimal | None]:
    """Per day, the lowest of the values that exist; None where none does."""
    columns = list(columns)
    if not columns:
        return []
    lowest: list[Decimal | None] = []
    for values in zip(*columns, strict=True):
        present = [v for v in values if v is not None]
        lowest.append(min(present) if present else None)
    return lowest


def price_history(
    offers: Iterable[OfferHistory], today: date, days: int = HISTORY_DAYS, tz: ZoneInfo = LOCAL_TZ
) -> PriceHistory:
    span = window(today, days)
    series = [
        Series(key=f"offer-{o.offer_id}", label=o.label, values=daily_prices(o.changes, span, tz))
        for o in offers
    ]
    lowest_values = daily_lowest(s.values for s in series) if series else [None] * len(span)
    return PriceHistory(days=span, lowest=Series(key="lowest", label="", values=lowest_values), offers=series)


# --------------------------------------------------------------------------------------------
# Geometry


@dataclass(frozen=True)
class Layout:
    width: int = 720
    height: int = 260
    left: int = 84  # room for the price labels
    right: int = 20
    top: int = 16
    bottom: int = 34  # room for the date labels

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom


_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


def nice_ticks(low: Decimal, high: Decimal, count: int = 4) -> list[Decimal]:
    """Round tick values covering [low, high]: about ``count`` steps of 1, 2, 2.5 or 5 × 10ⁿ.
    A flat series gets room above and below so its line is not drawn on the frame."""
    low, high = Decimal(low), Decimal(high)
    if high < low:
        low, high = high, low
    non_negative = low >= 0
    if high == low:
        pad = max(abs(high) * Decimal("0.05"), Decimal(1))
        low, high = low - pad, high + pad
    raw = (high - low) / count
    magnitude = Decimal(10) ** raw.adjusted()
    step = next(s * magnitude for s in _STEPS if s * magnitude >= raw)
    first = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    last = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    if first < 0 and non_negative:
        first = Decimal(0)
    ticks = []
    value = first
    while value <= last:
        ticks.append(value)
        value += step
    return ticks


@dataclass(frozen=True)
class Scale:
    layout: Layout
    days: int
    low: Decimal
    high: Decimal

    def x(self, index: int) -> float:
        if self.days <= 1:
            return self.layout.left + self.layout.plot_width
        return self.layout.left + self.layout.plot_width * index / (self.days - 1)

    def y(self, value: Decimal) -> float:
        span = self.high - self.low
        share = float((Decimal(value) - self.low) / span) if span else 0.5
        return self.layout.top + self.layout.plot_height * (1 - share)


Point = tuple[float, float]


def step_points(
    values: Sequence[Decimal | None], x: Callable[[int], float], y: Callable
) -> list[list[Point]]:
    """The corners of a step line (each day's value holds until the next day's), one list per run
    of days with a value. A run of a single day is a single point."""
    runs: list[list[Point]] = []
    run: list[Point] = []
    previous: Decimal | None = None
    previous_index = 0

    def close() -> None:
        if run:
            end = (x(previous_index), y(previous))
            if end != run[-1]:
                run.append(end)
            runs.append(run)

    for index, value in enumerate(values):
        if value is None:
            close()
            run, previous = [], None
            continue
        if not run:
            run = [(x(index), y(value))]
        elif value != previous:
            run.append((x(index), y(previous)))
            run.append((x(index), y(value)))
        previous, previous_index = value, index
    close()
    return runs


def axis_money(amount: Decimal) -> str:
    """A price axis label: whole yuan without the fen (¥4,800), fen only where a tick has them."""
    amount = Decimal(amount)
    return f"¥{amount:,.0f}" if amount == amount.to_integral_value() else f"¥{amount:,.2f}"


def _fmt(number: float) -> str:
    text = f"{number:.1f}"
    return text[:-2] if text.endswith(".0") else text


def path_data(runs: Sequence[Sequence[Point]]) -> str:
    parts = []
    for run in runs:
        if len(run) < 2:
            continue
        parts.append("M" + " L".join(f"{_fmt(px)} {_fmt(py)}" for px, py in run))
    return " ".join(parts)


def date_ticks(days: Sequence[date], min_gap: int = 7) -> list[int]:
    """Indexes of the days to label: the first, the last, and the first of each month in between
    unless it is within ``min_gap`` days of either end (its label would run into theirs)."""
    if not days:
        return []
    last = len(days) - 1
    if last == 0:
        return [0]
    months = [i for i, d in enumerate(days) if d.day == 1 and min_gap <= i <= last - min_gap]
    return [0, *months, last]


# --------------------------------------------------------------------------------------------
# SVG


@dataclass(frozen=True)
class ChartText:
    """The chart's words, in the reader's language."""

    title: str
    description: str


def _attrs(**attributes) -> str:
    return "".join(
        f" {name.rstrip('_').replace('_', '-')}={quoteattr(str(value))}"
        for name, value in attributes.items()
        if value is not None
    )


def render_svg(
    history: PriceHistory,
    text: ChartText,
    *,
    show_offers: bool = False,
    id_prefix: str = "price-chart",
    layout: Layout | None = None,
    money: Callable[[Decimal], str] | None = None,
) -> Markup:
    """The chart as an ``<svg>`` element (well-formed XML, so it also parses on its own)."""
    layout = layout or Layout()
    money = money or axis_money
    shown = [history.lowest] + (history.offers if show_offers else [])
    present = [v for s in shown for v in s.values if v is not None]
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    out = [
        f"<svg{_attrs(xmlns=SVG_NS, class_='price-chart', viewBox=f'0 0 {layout.width} {layout.height}')}"
        f"{_attrs(role='img', aria_labelledby=f'{title_id} {desc_id}', focusable='false')}>",
        f"<title{_attrs(id=title_id)}>{escape(text.title)}</title>",
        f"<desc{_attrs(id=desc_id)}>{escape(text.description)}</desc>",
    ]
    if not present:
        out.append("</svg>")
        return Markup("".join(out))  # noqa: S704 -- every piece above is escaped

    ticks = nice_ticks(min(present), max(present))
    scale = Scale(layout, len(history.days), ticks[0], ticks[-1])
    right = layout.left + layout.plot_width
    bottom = layout.top + layout.plot_height

    out.append('<g class="chart-grid">')
    for tick in ticks:
        y = _fmt(scale.y(tick))
        out.append(f"<line{_attrs(x1=layout.left, y1=y, x2=right, y2=y)}/>")
    out.append("</g>")
    out.append(f"<line{_attrs(class_='chart-frame', x1=layout.left, y1=bottom, x2=right, y2=bottom)}/>")
    out.append('<g class="chart-axis chart-axis-y">')
    for tick in ticks:
        out.append(
            f"<text{_attrs(x=layout.left - 8, y=_fmt(scale.y(tick) + 4), text_anchor='end')}>"
            f"{escape(money(tick))}</text>"
        )
    out.append("</g>")
    out.append('<g class="chart-axis chart-axis-x">')
    last = len(history.days) - 1
    for index in date_ticks(history.days):
        anchor = "start" if index == 0 else "end" if index == last else "middle"
        x = _fmt(scale.x(index))
        out.append(f"<line{_attrs(class_='chart-tick', x1=x, y1=bottom, x2=x, y2=bottom + 5)}/>")
        out.append(
            f"<text{_attrs(x=x, y=bottom + 20, text_anchor=anchor)}>"
            f"{history.days[index].strftime('%m-%d')}</text>"
        )
    out.append("</g>")

    for series in shown:
        runs = step_points(series.values, scale.x, scale.y)
        css = series_class(history, series)
        data = path_data(runs)
        if data:
            out.append(f"<path{_attrs(class_=css, d=data)}/>")
        for run in runs:
            if len(run) == 1:  # a single day: a line would have no length, so draw a point
                px, py = run[0]
                out.append(f"<circle{_attrs(class_=css + ' chart-point', cx=_fmt(px), cy=_fmt(py), r=4)}/>")
    # Today's lowest price, marked at the end of the line.
    current = history.lowest.values[-1]
    if current is not None:
        px, py = _fmt(scale.x(last)), _fmt(scale.y(current))
        out.append(f"<circle{_attrs(class_='chart-current', cx=px, cy=py, r=4)}/>")
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 -- every piece above is escaped


def legend_sample(css: str) -> Markup:
    """A short line drawn like a series, for a legend next to its name."""
    svg = _attrs(xmlns=SVG_NS, class_="chart-legend-sample", viewBox="0 0 32 10")
    return Markup(  # noqa: S704 -- every attribute value is escaped by _attrs
        f"<svg{svg}{_attrs(aria_hidden='true', focusable='false')}>"
        f"<line{_attrs(class_=css, x1=0, y1=5, x2=32, y2=5)}/></svg>"
    )


def series_class(history: PriceHistory, series: Series) -> str:
    if series is history.lowest:
        return "chart-line chart-line-lowest"
    number = next(i for i, s in enumerate(history.offers) if s is series)
    return f"chart-line chart-line-offer chart-series-{number % SERIES_STYLES + 1}"


@dataclass(frozen=True)
class Summary:
    start: date
    end: date
    first: Decimal
    last: Decimal
    low: Decimal
    high: Decimal


def summarize(history: PriceHistory) -> Summary | None:
    """Figures for the chart's text description."""
    points = [(d, v) for d, v in zip(history.days, history.lowest.values, strict=True) if v is not None]
    if not points:
        return None
    values = [v for _, v in points]
    return Summary(
        start=points[0][0],
        end=points[-1][0],
        first=values[0],
        last=values[-1],
        low=min(values),
        high=max(values),
    )
