"""The figures of the oversight dashboards and of the public late-payment page: SQL queries that
return rows, and the tables built from them (the same table feeds the chart, the table view and
the CSV export, so the three can never disagree).

**Spend (成交金额)** — the definition every figure uses, also printed on the page:

- an order counts when it *reached confirmed* (``orders.confirmed_at`` is set: the supplier
  accepted it and the contract stands) and its current status is *not* cancelled, rejected or
  returned (``SPEND_EXCLUDED``);
- it is dated by ``confirmed_at`` in China time (Asia/Shanghai), and a period is a range of whole
  local days;
- the amount is the order's total, which equals the sum of its lines' amounts (price × quantity
  frozen at submit); figures by category and the energy-saving / environmental shares add up the
  lines, all others the orders.

Amounts are summed in integer fen in SQL (exact on both databases) and handed out as ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from app.auth.models import Organization, OrgKind
from app.catalog.charts import LOCAL_TZ
from app.catalog.models import Category, Product
from app.core.money import from_fen
from app.extensions import db
from app.orders.models import Order, OrderLine
from app.orders.models import OrderStatus as S
from app.oversight.models import Alert, AlertKind, AlertStatus
from app.oversight.workflow import STATUS_LABELS

SPEND_EXCLUDED = (S.CANCELLED, S.REJECTED, S.RETURNED)
UNPAID = (S.ACCEPTED, S.PAYMENT_PENDING)
EXPORT_MAX_ROWS = 10_000  # a CSV export lists this many groups, the rest as one "其他" row

# The buying route of an order (采购方式). Every order today is a direct order of the e-mall; when
# other routes arrive (竞价, 反向竞价 …) this becomes a column or a CASE over the order, and the
# figure groups by it unchanged.
ROUTE_DIRECT = "direct"
ROUTE_LABELS = {ROUTE_DIRECT: _l("电子卖场直购")}


def route_expression() -> sa.ColumnElement[str]:
    return sa.literal_column(f"'{ROUTE_DIRECT}'", sa.String)


# --------------------------------------------------------------------------------------------
# SQL helpers that differ between PostgreSQL and SQLite


class local_month(FunctionElement):  # lower case: used like a SQL function
    """``YYYY-MM`` of a UTC timestamp, in China time."""

    type = sa.String()
    inherit_cache = True


@compiles(local_month, "postgresql")
def _local_month_pg(element, compiler, **kw):
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"


@compiles(local_month, "sqlite")
def _local_month_sqlite(element, compiler, **kw):
    # China has kept UTC+8 without daylight saving since 1991.
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)}, '+8 hours')"


class days_between(FunctionElement):  # lower case: used like a SQL function
    """The time from the first timestamp to the second, in (fractional) days."""

    type = sa.Float()
    inherit_cache = True


@compiles(days_between, "postgresql")
def _days_between_pg(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end}) - ({start})) / 86400.0)"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({end}) - julianday({start}))"


def fen(amount) -> sa.ColumnElement[int]:
    """A money column in integer fen: sums of these are exact on SQLite too (no float drift)."""
    return sa.cast(sa.func.round(amount * sa.literal_column("100")), sa.BigInteger)


def fen_sum(amount, where=None) -> sa.ColumnElement[int]:
    value = fen(amount) if where is None else sa.case((where, fen(amount)), else_=sa.literal_column("0"))
    return sa.func.coalesce(sa.func.sum(value), sa.literal_column("0"))


def money(value: Any) -> Decimal:
    return from_fen(int(value or 0))


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(UTC)


def local_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(LOCAL_TZ).date()


# --------------------------------------------------------------------------------------------
# The period


@dataclass(frozen=True)
class Period:
    """Whole local days from ``start`` to ``end`` (both included)."""

    start: date
    end: date

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @property
    def utc_start(self) -> datetime:
        return local_midnight(self.start)

    @property
    def utc_end(self) -> datetime:
        """Exclusive."""
        return local_midnight(self.end + timedelta(days=1))

    @property
    def is_whole_year(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31) and (
            self.start.year == self.end.year
        )

    def months(self) -> list[str]:
        found, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            found.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found

    def slug(self) -> str:
        if self.is_whole_year:
            return str(self.start.year)
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"


def counted(period: Period):
    """The orders that count as spend in ``period`` (see the module's docstring)."""
    return sa.and_(
        Order.confirmed_at.is_not(None),
        Order.status.not_in(SPEND_EXCLUDED),
        Order.confirmed_at >= period.utc_start,
        Order.confirmed_at < period.utc_end,
    )


# --------------------------------------------------------------------------------------------
# Queries: each returns rows, largest amount first where that means something


def spend_by_category(period: Period) -> list[sa.Row]:
    """(code, name, orders, fen) per 品目, from the order lines."""
    return list(
        db.session.execute(
            sa.select(
                Category.code,
                Category.name,
                sa.func.count(sa.distinct(Order.id)).label("orders"),
                fen_sum(OrderLine.amount).label("fen"),
            )
            .select_from(OrderLine)
            .join(Order, Order.id == OrderLine.order_id)
            .join(Category, Category.id == OrderLine.category_id)
            .where(counted(period))
            .group_by(Category.id, Category.code, Category.name)
            .order_by(sa.desc("fen"), Category.code)
        )
    )


def _spend_by_org(period: Period, org_column) -> list[sa.Row]:
    return list(
        db.session.execute(
            sa.select(
                Organization.code,
                Organization.name,
                Organization.is_sme,
                sa.func.count(Order.id).label("orders"),
                fen_sum(Order.total).label("fen"),
            )
            .select_from(Order)
            .join(Organization, Organization.id == org_column)
            .where(counted(period))
            .group_by(Organization.id, Organization.code, Organization.name, Organization.is_sme)
            .order_by(sa.desc("fen"), Organization.code)
        )
    )


def spend_by_unit(period: Period) -> list[sa.Row]:
    """(code, name, is_sme, orders, fen) per purchasing unit."""
    return _spend_by_org(period, Order.unit_id)


def spend_by_supplier(period: Period) -> list[sa.Row]:
    """(code, name, is_sme, orders, fen) per supplier."""
    return _spend_by_org(period, Order.supplier_id)


def spend_by_month(period: Period) -> list[sa.Row]:
    """(month 'YYYY-MM', orders, fen) for the months that have spend, in order."""
    month = local_month(Order.confirmed_at).label("month")
    return list(
        db.session.execute(
            sa.select(month, sa.func.count(Order.id).label("orders"), fen_sum(Order.total).label("fen"))
            .where(counted(period))
            .group_by(month)
            .order_by(month)
        )
    )


def sme_split(period: Period) -> list[sa.Row]:
    """(is_sme, orders, fen): spend with suppliers that are SMEs (中小企业) and with the others."""
    return list(
        db.session.execute(
            sa.select(
                Organization.is_sme,
                sa.func.count(Order.id).label("orders"),
                fen_sum(Order.total).label("fen"),
            )
            .select_from(Order)
            .join(Organization, Organization.id == Order.supplier_id)
            .where(counted(period))
            .group_by(Organization.is_sme)
        )
    )


def green_split(period: Period) -> sa.Row:
    """One row: (total_fen, energy_fen, environmental_fen, either_fen) over the order lines, by the
    products' policy flags (节能产品, 环境标志产品)."""
    return db.session.execute(
        sa.select(
            fen_sum(OrderLine.amount).label("total_fen"),
            fen_sum(OrderLine.amount, Product.energy_saving.is_(True)).label("energy_fen"),
            fen_sum(OrderLine.amount, Product.environmental.is_(True)).label("environmental_fen"),
            fen_sum(
                OrderLine.amount, sa.or_(Product.energy_saving.is_(True), Product.environmental.is_(True))
            ).label("either_fen"),
        )
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(counted(period))
    ).one()


def orders_by_route(period: Period) -> list[sa.Row]:
    """(route, orders, fen) per buying route."""
    routed = (
        sa.select(route_expression().label("route"), Order.id, Order.total).where(counted(period)).subquery()
    )
    return list(
        db.session.execute(
            sa.select(
                routed.c.route,
                sa.func.count(routed.c.id).label("orders"),
                fen_sum(routed.c.total).label("fen"),
            )
            .group_by(routed.c.route)
            .order_by(routed.c.route)
        )
    )


def alerts_by_kind(period: Period) -> list[sa.Row]:
    """(kind, status, count) of the alerts raised in the period."""
    return list(
        db.session.execute(
            sa.select(Alert.kind, Alert.status, sa.func.count(Alert.id))
            .where(Alert.raised_at >= period.utc_start, Alert.raised_at < period.utc_end)
            .group_by(Alert.kind, Alert.status)
        )
    )


def alert_counts() -> list[sa.Row]:
    """(kind, status, count) of every alert (the alert list's summary)."""
    return list(
        db.session.execute(
            sa.select(Alert.kind, Alert.status, sa.func.count(Alert.id)).group_by(Alert.kind, Alert.status)
        )
    )


# --------------------------------------------------------------------------------------------
# Tables: what the chart, the table view and the CSV show


@dataclass(frozen=True)
class Column:
    label: Any  # a (lazy) translated string
    kind: str = "text"  # text | count | money | percent | flag
    numeric: bool = False


@dataclass
class Table:
    key: str
    title: Any
    columns: list[Column]
    rows: list[list[Any]]
    total: list[Any] | None = None
    chart: str = "bars"  # bars | columns | share
    # What the chart draws: (label, value) pairs, value in the table's main unit.
    points: list[tuple[str, Decimal | int]] = field(default_factory=list)
    value_kind: str = "money"  # money | count | percent
    hidden: int = 0  # groups folded into the "其他" row

    @property
    def is_empty(self) -> bool:
        return not self.rows


def share(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part`` as a percentage of ``whole``, one decimal place; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _fold(rows: Sequence[Sequence[Any]], limit: int, other: Callable[[list], list]) -> tuple[list, int]:
    """The first ``limit`` rows and, when there are more, one row for the rest."""
    rows = [list(r) for r in rows]
    if len(rows) <= limit:
        return rows, 0
    rest = rows[limit:]
    return [*rows[:limit], other(rest)], len(rest)


OTHER = _l("其他")


def _other_label(count: int) -> str:
    return str(_l("其他 %(num)s 个", num=count))


def category_table(period: Period, limit: int) -> Table:
    rows = spend_by_category(period)
    whole = money(sum((r.fen for r in rows), 0))
    data = [[r.code, r.name, r.orders, money(r.fen), share(money(r.fen), whole)] for r in rows]

    def other(rest):
        amount = sum((r[3] for r in rest), Decimal(0))
        # Orders are counted per category, so an order with lines in two categories counts in both.
        return ["", _other_label(len(rest)), sum(r[2] for r in rest), amount, share(amount, whole)]

    shown, hidden = _fold(data, limit, other)
    return Table(
        key="category",
        title=_l("按品目统计成交金额"),
        columns=[
            Column(_l("品目编码")),
            Column(_l("品目名称")),
            Column(_l("订单数"), "count", True),
            Column(_l("成交金额（元）"), "money", True),
            Column(_l("占比（%）"), "percent", True),
        ],
        rows=shown,
        total=[str(_l("合计")), "", None, whole, share(whole, whole)] if rows else None,
        points=[(r[1], r[3]) for r in shown],
        hidden=hidden,
    )


def _org_table(key: str, title, name_label, rows: list[sa.Row], limit: int, *, with_sme: bool) -> Table:
    whole = money(sum((r.fen for r in rows), 0))
    orders = sum(r.orders for r in rows)
    data = []
    for r in rows:
        row = [r.code, r.name]
        if with_sme:
            row.append(bool(r.is_sme))
        data.append([*row, r.orders, money(r.fen), share(money(r.fen), whole)])
    amount_at = 3 if with_sme else 2

    def other(rest):
        amount = sum((r[amount_at + 1] for r in rest), Decimal(0))
        head = ["", _other_label(len(rest))] + ([None] if with_sme else [])
        return [*head, sum(r[amount_at] for r in rest), amount, share(amount, whole)]

    shown, hidden = _fold(data, limit, other)
    columns = [Column(_l("编码")), Column(name_label)]
    if with_sme:
        columns.append(Column(_l("中小企业"), "flag"))
    columns += [
        Column(_l("订单数"), "count", True),
        Column(_l("成交金额（元）"), "money", True),
        Column(_l("占比（%）"), "percent", True),
    ]
    total = None
    if rows:
        total = [str(_l("合计")), ""] + ([None] if with_sme else []) + [orders, whole, share(whole, whole)]
    return Table(
        key=key,
        title=title,
        columns=columns,
        rows=shown,
        total=total,
        points=[(r[1], r[amount_at + 1]) for r in shown],
        hidden=hidden,
    )


def unit_table(period: Period, limit: int) -> Table:
    return _org_table(
        "unit", _l("按采购单位统计成交金额"), _l("采购单位"), spend_by_unit(period), limit, with_sme=False
    )


def supplier_table(period: Period, limit: int) -> Table:
    return _org_table(
        "supplier", _l("按供应商统计成交金额"), _l("供应商"), spend_by_supplier(period), limit, with_sme=True
    )


def month_table(period: Period, limit: int = 0) -> Table:
    found = {r.month: r for r in spend_by_month(period)}
    data = []
    for month in period.months():
        row = found.get(month)
        data.append([month, row.orders if row else 0, money(row.fen if row else 0)])
    whole = sum((r.fen for r in found.values()), 0)
    return Table(
        key="month",
        title=_l("按月统计成交金额"),
        columns=[
            Column(_l("月份")),
            Column(_l("订单数"), "count", True),
            Column(_l("成交金额（元）"), "money", True),
        ],
        rows=data if found else [],
        total=[str(_l("合计")), sum(r.orders for r in found.values()), money(whole)] if found else None,
        chart="columns",
        points=[(r[0], r[2]) for r in data] if found else [],
    )


def sme_table(period: Period, limit: int = 0) -> Table:
    found = {bool(r.is_sme): r for r in sme_split(period)}
    whole = sum((r.fen for r in found.values()), 0)
    data = []
    for flag, label in ((True, _l("中小企业")), (False, _l("非中小企业"))):
        row = found.get(flag)
        amount = row.fen if row else 0
        data.append([str(label), row.orders if row else 0, money(amount), share(amount, whole)])
    return Table(
        key="sme",
        title=_l("中小企业获得的份额"),
        columns=[
            Column(_l("供应商类型")),
            Column(_l("订单数"), "count", True),
            Column(_l("成交金额（元）"), "money", True),
            Column(_l("占比（%）"), "percent", True),
        ],
        rows=data if found else [],
        total=[str(_l("合计")), sum(r.orders for r in found.values()), money(whole), share(whole, whole)]
        if found
        else None,
        chart="share",
        points=[(r[0], r[2]) for r in data] if found else [],
    )


def green_table(period: Period, limit: int = 0) -> Table:
    row = green_split(period)
    whole = row.total_fen or 0
    parts = [
        (_l("节能产品"), row.energy_fen),
        (_l("环境标志产品"), row.environmental_fen),
        (_l("节能或环境标志产品（不重复计算）"), row.either_fen),
        (_l("其他产品"), whole - (row.either_fen or 0)),
    ]
    data = [[str(label), money(amount), share(amount or 0, whole)] for label, amount in parts]
    return Table(
        key="green",
        title=_l("节能、环境标志产品的份额"),
        columns=[
            Column(_l("产品类别")),
            Column(_l("成交金额（元）"), "money", True),
            Column(_l("占比（%）"), "percent", True),
        ],
        rows=data if whole else [],
        total=[str(_l("全部产品")), money(whole), share(whole, whole)] if whole else None,
        chart="share",
        # The bar shows the part that is either (without counting twice) and the rest.
        points=[(data[2][0], data[2][1]), (data[3][0], data[3][1])] if whole else [],
    )


def route_table(period: Period, limit: int = 0) -> Table:
    rows = orders_by_route(period)
    whole_orders = sum(r.orders for r in rows)
    data = [
        [str(ROUTE_LABELS.get(r.route, r.route)), r.orders, money(r.fen), share(r.orders, whole_orders)]
        for r in rows
    ]
    return Table(
        key="route",
        title=_l("按采购方式统计订单"),
        columns=[
            Column(_l("采购方式")),
            Column(_l("订单数"), "count", True),
            Column(_l("成交金额（元）"), "money", True),
            Column(_l("订单数占比（%）"), "percent", True),
        ],
        rows=data,
        total=[
            str(_l("合计")),
            whole_orders,
            money(sum((r[2] for r in rows), 0)),
            share(whole_orders, whole_orders),
        ]
        if rows
        else None,
        points=[(r[0], r[1]) for r in data],
        value_kind="count",
    )


def alert_table(period: Period, labels: dict, limit: int = 0) -> Table:
    counts: dict[tuple[AlertKind, AlertStatus], int] = {(k, s): n for k, s, n in alerts_by_kind(period)}
    statuses = list(AlertStatus)
    data = []
    for kind in AlertKind:
        per_status = [counts.get((kind, status), 0) for status in statuses]
        data.append([str(labels.get(kind, kind.value)), *per_status, sum(per_status)])
    totals = [sum(r[i + 1] for r in data) for i in range(len(statuses) + 1)]
    return Table(
        key="alerts",
        title=_l("按类型统计预警"),
        columns=[Column(_l("预警类型"))]
        + [Column(STATUS_LABELS[s], "count", True) for s in statuses]
        + [Column(_l("合计"), "count", True)],
        rows=data if counts else [],
        total=[str(_l("合计")), *totals] if counts else None,
        points=[(r[0], r[-1]) for r in data] if counts else [],
        value_kind="count",
    )


# --------------------------------------------------------------------------------------------
# The public late-payment page (采购人付款情况公示)


@dataclass(frozen=True)
class PaymentRecord:
    unit_code: str
    unit_name: str
    late_alerts: int  # LATE_PAYMENT alerts raised in the window
    paid: int  # orders paid in the window
    paid_late: int  # … of which after their payment deadline
    overdue_now: int  # accepted orders past their deadline and still unpaid today
    median_days: Decimal | None  # from acceptance to payment, orders paid in the window


def payment_window_start(now: datetime) -> datetime:
    """Twelve months back from today (local), at local midnight."""
    today = local_today(now)
    try:
        start = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - 1, day=28)
    return local_midnight(start)


def payment_records_query(now: datetime):
    """One row per purchasing unit with any payment activity in the last twelve months:
    (unit_id, late_alerts, paid, paid_late, overdue_now, median_days)."""
    since = payment_window_start(now)
    alerts = (
        sa.select(Alert.unit_id.label("unit_id"), sa.func.count(Alert.id).label("late_alerts"))
        .where(Alert.kind == AlertKind.LATE_PAYMENT, Alert.raised_at >= since, Alert.unit_id.is_not(None))
        .group_by(Alert.unit_id)
        .cte("late_alerts")
    )
    paid = (
        sa.select(
            Order.unit_id.label("unit_id"),
            sa.func.count(Order.id).label("paid"),
            sa.func.sum(sa.case((Order.paid_at > Order.pay_due_at, 1), else_=0)).label("paid_late"),
        )
        .where(Order.paid_at.is_not(None), Order.paid_at >= since)
        .group_by(Order.unit_id)
        .cte("paid")
    )
    overdue = (
        sa.select(Order.unit_id.label("unit_id"), sa.func.count(Order.id).label("overdue_now"))
        .where(Order.status.in_(UNPAID), Order.pay_due_at.is_not(None), Order.pay_due_at < now)
        .group_by(Order.unit_id)
        .cte("overdue")
    )
    durations = (
        sa.select(
            Order.unit_id.label("unit_id"), days_between(Order.accepted_at, Order.paid_at).label("days")
        )
        .where(Order.paid_at.is_not(None), Order.paid_at >= since, Order.accepted_at.is_not(None))
        .cte("durations")
    )
    ranked = sa.select(
        durations.c.unit_id,
        durations.c.days,
        sa.func.row_number().over(partition_by=durations.c.unit_id, order_by=durations.c.days).label("rn"),
        sa.func.count().over(partition_by=durations.c.unit_id).label("n"),
    ).cte("ranked")
    # The median: the middle value, or the mean of the two middle values.
    median = (
        sa.select(ranked.c.unit_id, sa.func.avg(ranked.c.days).label("median_days"))
        .where(ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
        .group_by(ranked.c.unit_id)
        .cte("median")
    )
    units = sa.union(
        sa.select(alerts.c.unit_id), sa.select(paid.c.unit_id), sa.select(overdue.c.unit_id)
    ).cte("units")
    late_alerts = sa.func.coalesce(alerts.c.late_alerts, 0).label("late_alerts")
    paid_late = sa.func.coalesce(paid.c.paid_late, 0).label("paid_late")
    overdue_now = sa.func.coalesce(overdue.c.overdue_now, 0).label("overdue_now")
    return (
        sa.select(
            Organization.code,
            Organization.name,
            late_alerts,
            sa.func.coalesce(paid.c.paid, 0).label("paid"),
            paid_late,
            overdue_now,
            median.c.median_days,
        )
        .select_from(units)
        .join(Organization, Organization.id == units.c.unit_id)
        .outerjoin(alerts, alerts.c.unit_id == units.c.unit_id)
        .outerjoin(paid, paid.c.unit_id == units.c.unit_id)
        .outerjoin(overdue, overdue.c.unit_id == units.c.unit_id)
        .outerjoin(median, median.c.unit_id == units.c.unit_id)
        .where(Organization.kind == OrgKind.PURCHASING_UNIT)
        .order_by(late_alerts.desc(), paid_late.desc(), overdue_now.desc(), Organization.code)
    )


def _days(value) -> Decimal:
    """Days to one decimal place, half up. SQLite's julianday differences carry float noise
    (33.25 may come back as 33.2499999998), so the value is first cut to the microsecond."""
    return Decimal(str(value)).quantize(Decimal("0.000001")).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def payment_records(now: datetime, page: int, per_page: int) -> tuple[list[PaymentRecord], int]:
    query = payment_records_query(now)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
    records = [
        PaymentRecord(
            unit_code=r.code,
            unit_name=r.name,
            late_alerts=int(r.late_alerts),
            paid=int(r.paid),
            paid_late=int(r.paid_late),
            overdue_now=int(r.overdue_now),
            median_days=None if r.median_days is None else _days(r.median_days),
        )
        for r in rows
    ]
    return records, total
