"""The dashboards (统计分析) and the public late-payment page (采购人付款情况公示).

A scenario of three units, three suppliers (two SMEs), three categories and products with and
without the energy-saving / environmental flags, with orders over several months of 2025 — and
orders that must not count: returned after confirmation, cancelled, rejected, never confirmed, and
confirmed just outside the year in China time (a UTC date inside it). Every figure is checked twice:
against hand-computed values and against a recomputation in raw SQL written here, independently of
app/oversight/dashboards.py. Then: the charts (SVG), the table views, the CSV exports (exact,
formula-safe), bad input (422, never 500), access (403 for other roles), and the public page
(figures, no personal data, rate limit).
"""

from __future__ import annotations

import csv
import io
import statistics
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import Organization, OrgKind, Role
from app.catalog.charts import LOCAL_TZ
from app.catalog.models import Category, Product
from app.core.db import UTCDateTime, utcnow
from app.core.money import to_money
from app.extensions import db
from app.orders.models import Order
from app.orders.models import OrderStatus as S
from app.oversight.models import AlertKind, AlertStatus
from app.oversight.services import raise_alert
from tests import factories
from tests.conftest import login
from tests.ui.pages import parse

DASHBOARD = "/oversight/dashboard"
PUBLIC = "/late-payments/"


def bj(*args) -> datetime:
    """A moment given in China time, as the aware datetime the app stores (UTC)."""
    return datetime(*args, tzinfo=LOCAL_TZ).astimezone(UTC)


# --------------------------------------------------------------------------------------------
# The scenario


@dataclass
class World:
    units: list[Organization]
    suppliers: list[Organization]
    categories: list[Category]
    products: list[Product]
    orders: dict[str, Order]


def make_order(unit, supplier, lines, *, status: S, confirmed_at=None, **times) -> Order:
    """An order written directly (the dashboards read what the lifecycle leaves behind)."""
    buyer = factories.user(unit, Role.PURCHASER, display_name="王小明")
    plan = factories.plan(unit, amount=Decimal("900000.00"))
    order = Order(
        number=f"DD{uuid.uuid4().hex[:12].upper()}",
        checkout_key=uuid.uuid4().hex,
        unit_id=unit.id,
        buyer_id=buyer.id,
        supplier_id=supplier.id,
        plan_id=plan.id,
        status=status,
        total=sum((to_money(price) * qty for _p, price, qty in lines), Decimal(0)),
        region_code="110000",
        delivery_address="北京市东城区保密路 8 号",
        contact_name="王小明",
        contact_phone="13800138000",
        submitted_at=(confirmed_at or bj(2025, 6, 1, 9)) - timedelta(hours=5),
        confirmed_at=confirmed_at,
        **times,
    )
    for product, price, qty in lines:
        offer = factories.offer(product, supplier, price=to_money(price))
        order.lines.append(factories.order_line(offer, to_money(price), qty))
    db.session.add(order)
    db.session.flush()
    return order


@pytest.fixture
def world(db_session) -> World:
    units = [
        factories.org(
            OrgKind.PURCHASING_UNIT, code="U001", name="东城区教育局", contact_phone="010-11112222"
        ),
        factories.org(OrgKind.PURCHASING_UNIT, code="U002", name="西城区卫健委"),
        factories.org(OrgKind.PURCHASING_UNIT, code="U003", name="海淀区财政局"),
    ]
    suppliers = [
        factories.org(OrgKind.SUPPLIER, code="S001", name="甲科技有限公司", is_sme=True),
        factories.org(OrgKind.SUPPLIER, code="S002", name="乙集团股份公司", is_sme=False),
        factories.org(OrgKind.SUPPLIER, code="S003", name="丙商贸有限公司", is_sme=True),
    ]
    categories = [
        factories.category("A02010105", "台式计算机"),
        factories.category("A02010108", "便携式计算机"),
        factories.category("A02021001", "复印机"),
    ]
    c1, c2, c3 = categories
    products = [
        factories.product(c1, energy_saving=True),  # P1
        factories.product(c2, environmental=True),  # P2
        factories.product(c1, energy_saving=True, environmental=True),  # P3
        factories.product(c3),  # P4
    ]
    p1, p2, p3, p4 = products
    u1, u2, u3 = units
    s1, s2, s3 = suppliers
    orders = {
        # Counted in 2025 (confirmed, not cancelled/rejected/returned).
        "O1": make_order(
            u1, s1, [(p1, "5000.00", 2)], status=S.COMPLETED, confirmed_at=bj(2025, 1, 1, 0, 30)
        ),
        "O2": make_order(
            u1, s2, [(p2, "6999.50", 1), (p4, "1200.10", 3)], status=S.PAID, confirmed_at=bj(2025, 1, 15, 10)
        ),
        "O3": make_order(u2, s1, [(p3, "4500.25", 4)], status=S.SHIPPED, confirmed_at=bj(2025, 3, 10, 9)),
        "O4": make_order(
            u2, s3, [(p4, "980.00", 10)], status=S.ACCEPTED, confirmed_at=bj(2025, 3, 31, 23, 59)
        ),
        "O5": make_order(u3, s2, [(p2, "7100.00", 2)], status=S.CONFIRMED, confirmed_at=bj(2025, 7, 1, 8)),
        "O6": make_order(u3, s3, [(p1, "5100.00", 1)], status=S.DELIVERED, confirmed_at=bj(2025, 12, 31, 23)),
        # Not counted.
        "X1": make_order(u1, s2, [(p2, "7000.00", 1)], status=S.RETURNED, confirmed_at=bj(2025, 5, 5, 10)),
        "X2": make_order(u2, s1, [(p1, "5000.00", 1)], status=S.CANCELLED),
        "X3": make_order(u3, s3, [(p4, "990.00", 2)], status=S.REJECTED),
        "X4": make_order(u1, s1, [(p3, "4400.00", 1)], status=S.SUBMITTED),
        "X5": make_order(
            u1, s1, [(p1, "5000.00", 1)], status=S.COMPLETED, confirmed_at=bj(2024, 12, 31, 23, 30)
        ),
        "X6": make_order(
            u2, s2, [(p2, "7000.00", 1)], status=S.CONFIRMED, confirmed_at=bj(2026, 1, 1, 0, 10)
        ),
    }
    # Alerts: three in 2025 (one resolved), one in 2024.
    raise_alert(AlertKind.ORDER_SPLITTING, "拆单", unit_id=u1.id, raised_at=bj(2025, 2, 1, 9))
    raise_alert(
        AlertKind.LATE_PAYMENT,
        "付款超时",
        unit_id=u2.id,
        raised_at=bj(2025, 4, 1, 9),
        status=AlertStatus.RESOLVED,
    )
    raise_alert(AlertKind.LATE_PAYMENT, "付款超时", unit_id=u2.id, raised_at=bj(2025, 12, 31, 23, 59))
    raise_alert(AlertKind.LATE_CONFIRMATION, "未确认", supplier_id=s2.id, raised_at=bj(2024, 12, 31, 23, 59))
    db.session.flush()
    return World(units, suppliers, categories, products, orders)


# --------------------------------------------------------------------------------------------
# Helpers


def overseer(client, role: Role = Role.REGULATOR):
    kind = OrgKind.REGULATOR if role is Role.REGULATOR else OrgKind.OPERATOR
    user = factories.user(factories.org(kind), role)
    login(client, user.username)
    return user


def table_rows(html: str, figure: str) -> list[list[str]]:
    """A figure's table view as texts: body rows, then the total row."""
    page = parse(html)
    table = page.one("table", data_figure=figure)
    found = []
    for tr in page.inside(table, "tr"):
        cells = [c for c in page.inside(tr) if c.tag in ("td", "th") and c.parent is tr]
        if cells and not all(c.tag == "th" and c.get("scope") == "col" for c in cells):
            found.append([c.text for c in cells])
    return found


def money_of(value) -> Decimal:
    """A raw SQL sum as exact money (SQLite hands back floats, PostgreSQL Decimals)."""
    return to_money(Decimal(repr(value)) if isinstance(value, float) else value)


def raw(sql: str, **params):
    """Raw SQL with the bounds bound as the app stores moments (UTC), on either database."""
    statement = sa.text(sql).bindparams(
        *[sa.bindparam(name, type_=UTCDateTime()) for name, v in params.items() if isinstance(v, datetime)]
    )
    return db.session.execute(statement, params).all()


YEAR = {"start": bj(2025, 1, 1), "end": bj(2026, 1, 1)}
COUNTED = """
    o.confirmed_at IS NOT NULL
    AND o.status NOT IN ('cancelled', 'rejected', 'returned')
    AND o.confirmed_at >= :start AND o.confirmed_at < :end
"""


def share(part: Decimal, whole: Decimal) -> str:
    return f"{(part * 100 / whole).quantize(Decimal('0.1'), rounding='ROUND_HALF_UP')}%"


def cny(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


# --------------------------------------------------------------------------------------------
# Figures


def test_spend_by_unit_supplier_and_category_match_hand_and_sql(client, world):
    overseer(client)
    response = client.get(f"{DASHBOARD}?year=2025")
    assert response.status_code == 200
    html = response.get_data(as_text=True)

    assert table_rows(html, "unit") == [
        ["U002", "西城区卫健委", "2", "¥27,801.00", "41.1%"],
        ["U001", "东城区教育局", "2", "¥20,599.80", "30.4%"],
        ["U003", "海淀区财政局", "2", "¥19,300.00", "28.5%"],
        ["合计", "", "6", "¥67,700.80", "100.0%"],
    ]
    assert table_rows(html, "supplier") == [
        ["S001", "甲科技有限公司", "是", "2", "¥28,001.00", "41.4%"],
        ["S002", "乙集团股份公司", "否", "2", "¥24,799.80", "36.6%"],
        ["S003", "丙商贸有限公司", "是", "2", "¥14,900.00", "22.0%"],
        ["合计", "", "", "6", "¥67,700.80", "100.0%"],
    ]
    assert table_rows(html, "category") == [
        ["A02010105", "台式计算机", "3", "¥33,101.00", "48.9%"],
        ["A02010108", "便携式计算机", "2", "¥21,199.50", "31.3%"],
        ["A02021001", "复印机", "2", "¥13,400.30", "19.8%"],
        ["合计", "", "", "¥67,700.80", "100.0%"],
    ]

    # The same figures, recomputed in raw SQL.
    by_unit = raw(
        f"SELECT u.code, count(*), sum(o.total) FROM orders o JOIN organizations u ON u.id = o.unit_id "  # noqa: S608 -- fixed text, the values are bound
        f"WHERE {COUNTED} GROUP BY u.code",
        **YEAR,
    )
    expected = {code: (n, money_of(amount)) for code, n, amount in by_unit}
    shown = {
        row[0]: (int(row[2]), Decimal(row[3][1:].replace(",", ""))) for row in table_rows(html, "unit")[:-1]
    }
    assert shown == expected
    by_supplier = raw(
        f"SELECT s.code, s.is_sme, count(*), sum(o.total) FROM orders o "  # noqa: S608 -- fixed text, the values are bound
        f"JOIN organizations s ON s.id = o.supplier_id WHERE {COUNTED} GROUP BY s.code, s.is_sme",
        **YEAR,
    )
    expected = {code: ("是" if sme else "否", n, money_of(amount)) for code, sme, n, amount in by_supplier}
    shown = {
        row[0]: (row[2], int(row[3]), Decimal(row[4][1:].replace(",", "")))
        for row in table_rows(html, "supplier")[:-1]
    }
    assert shown == expected
    by_category = raw(
        f"SELECT c.code, count(DISTINCT o.id), sum(l.amount) FROM order_lines l "  # noqa: S608 -- fixed text, the values are bound
        f"JOIN orders o ON o.id = l.order_id JOIN categories c ON c.id = l.category_id "
        f"WHERE {COUNTED} GROUP BY c.code",
        **YEAR,
    )
    expected = {code: (n, money_of(amount)) for code, n, amount in by_category}
    shown = {
        row[0]: (int(row[2]), Decimal(row[3][1:].replace(",", "")))
        for row in table_rows(html, "category")[:-1]
    }
    assert shown == expected


def test_spend_by_month_in_china_time(client, world):
    overseer(client)
    html = client.get(f"{DASHBOARD}?year=2025").get_data(as_text=True)
    rows = table_rows(html, "month")
    assert [r[0] for r in rows] == [f"2025-{m:02d}" for m in range(1, 13)] + ["合计"]
    nonzero = {r[0]: (r[1], r[2]) for r in rows if r[1] != "0"}
    assert nonzero == {
        "2025-01": ("2", "¥20,599.80"),  # O1 at 00:30 on 1 January China time (31 December UTC)
        "2025-03": ("2", "¥27,801.00"),  # O4 at 23:59 on 31 March China time
        "2025-07": ("1", "¥14,200.00"),
        "2025-12": ("1", "¥5,100.00"),  # O6 at 23:00 on 31 December; X6 (00:10 on 1 January 2026) not
        "合计": ("6", "¥67,700.80"),
    }
    # Recomputed: the orders from raw SQL, their months taken in China time here.
    found: dict[str, list] = {}
    for confirmed_at, total in raw(f"SELECT o.confirmed_at, o.total FROM orders o WHERE {COUNTED}", **YEAR):  # noqa: S608 -- fixed text, the values are bound
        moment = confirmed_at if isinstance(confirmed_at, datetime) else datetime.fromisoformat(confirmed_at)
        month = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(LOCAL_TZ).strftime("%Y-%m")
        found.setdefault(month, []).append(money_of(total))
    assert {m: (str(len(v)), cny(sum(v))) for m, v in found.items()} == {
        k: v for k, v in nonzero.items() if k != "合计"
    }


def test_sme_and_green_shares_and_routes(client, world):
    overseer(client)
    html = client.get(f"{DASHBOARD}?year=2025").get_data(as_text=True)
    assert table_rows(html, "sme") == [
        ["中小企业", "4", "¥42,901.00", "63.4%"],
        ["非中小企业", "2", "¥24,799.80", "36.6%"],
        ["合计", "6", "¥67,700.80", "100.0%"],
    ]
    assert table_rows(html, "green") == [
        ["节能产品", "¥33,101.00", "48.9%"],
        ["环境标志产品", "¥39,200.50", "57.9%"],
        ["节能或环境标志产品（不重复计算）", "¥54,300.50", "80.2%"],
        ["其他产品", "¥13,400.30", "19.8%"],
        ["全部产品", "¥67,700.80", "100.0%"],
    ]
    assert table_rows(html, "route") == [
        ["电子卖场直购", "6", "¥67,700.80", "100.0%"],
        ["合计", "6", "¥67,700.80", "100.0%"],
    ]
    page = parse(html)
    figures = {
        page.inside(f, "p", class_="figure-label")[0].text: page.inside(f, "p", class_="figure-value")[0].text
        for f in page.find_all("div", class_="figure") + page.find_all("div", class_="figure figure-key")
    }
    assert figures == {
        "成交金额": "¥67,700.80",
        "成交订单数": "6",
        "中小企业份额": "63.4%",
        "节能或环境标志产品份额": "80.2%",
    }

    # Recomputed in raw SQL.
    sme = raw(
        f"SELECT s.is_sme, sum(o.total) FROM orders o JOIN organizations s ON s.id = o.supplier_id "  # noqa: S608 -- fixed text, the values are bound
        f"WHERE {COUNTED} GROUP BY s.is_sme",
        **YEAR,
    )
    amounts = {bool(flag): money_of(amount) for flag, amount in sme}
    whole = amounts[True] + amounts[False]
    assert [share(amounts[True], whole), share(amounts[False], whole)] == [
        table_rows(html, "sme")[0][3],
        table_rows(html, "sme")[1][3],
    ]
    lines = raw(
        f"SELECT p.energy_saving, p.environmental, l.amount FROM order_lines l "  # noqa: S608 -- fixed text, the values are bound
        f"JOIN orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id WHERE {COUNTED}",
        **YEAR,
    )
    energy = sum((money_of(a) for e, _v, a in lines if e), Decimal(0))
    environmental = sum((money_of(a) for _e, v, a in lines if v), Decimal(0))
    either = sum((money_of(a) for e, v, a in lines if e or v), Decimal(0))
    total = sum((money_of(a) for *_f, a in lines), Decimal(0))
    assert [r[1:] for r in table_rows(html, "green")] == [
        [cny(energy), share(energy, total)],
        [cny(environmental), share(environmental, total)],
        [cny(either), share(either, total)],
        [cny(total - either), share(total - either, total)],
        [cny(total), "100.0%"],
    ]


def test_alerts_by_type(client, world):
    overseer(client)
    html = client.get(f"{DASHBOARD}?year=2025").get_data(as_text=True)
    rows = table_rows(html, "alerts")
    assert rows == [
        ["疑似拆单", "1", "0", "0", "1"],
        ["供应商超时未确认", "0", "0", "0", "0"],  # raised on 31 December 2024 China time
        ["采购人超时未验收", "0", "0", "0", "0"],
        ["采购人超时未付款", "1", "0", "1", "2"],
        ["验收发现型号不符", "0", "0", "0", "0"],
        ["价格高于市场参考价", "0", "0", "0", "0"],
        ["短期涨价幅度过大", "0", "0", "0", "0"],
        ["合计", "2", "0", "1", "3"],
    ]
    counted = raw(
        "SELECT kind, status, count(*) FROM alerts WHERE raised_at >= :start AND raised_at < :end "
        "GROUP BY kind, status",
        **YEAR,
    )
    assert sorted((k, s, n) for k, s, n in counted) == [
        ("late_payment", "open", 1),
        ("late_payment", "resolved", 1),
        ("order_splitting", "open", 1),
    ]


def test_a_date_range_and_top_n(client, world):
    overseer(client)
    html = client.get(f"{DASHBOARD}?date_from=2025-03-01&date_to=2025-03-31&top=1").get_data(as_text=True)
    assert table_rows(html, "month") == [["2025-03", "2", "¥27,801.00"], ["合计", "2", "¥27,801.00"]]
    # Only the largest supplier is shown by itself; the rest is one row.
    assert table_rows(html, "supplier") == [
        ["S001", "甲科技有限公司", "是", "1", "¥18,001.00", "64.7%"],
        ["", "其他 1 个", "—", "1", "¥9,800.00", "35.3%"],
        ["合计", "", "", "2", "¥27,801.00", "100.0%"],
    ]
    page = parse(html)
    assert page.one("p", class_="page-meta").text == "统计期间：2025-03-01 至 2025-03-31（北京时间）"
    # The CSV links keep the period and the size.
    link = page.one("a", href="/oversight/dashboard/unit.csv?date_from=2025-03-01&date_to=2025-03-31&top=1")
    assert link.text == "下载 CSV（按采购单位统计成交金额）"
    # A range without a start begins on 1 January of its end's year; one without an end runs to today.
    html = client.get(f"{DASHBOARD}?date_to=2025-01-31").get_data(as_text=True)
    assert table_rows(html, "month") == [["2025-01", "2", "¥20,599.80"], ["合计", "2", "¥20,599.80"]]
    html = client.get(f"{DASHBOARD}?date_from=2025-12-01").get_data(as_text=True)
    today = datetime.now(LOCAL_TZ).date()
    assert parse(html).one("p", class_="page-meta").text == f"统计期间：2025-12-01 至 {today}（北京时间）"
    rows = table_rows(html, "month")
    assert rows[-1] == ["合计", "2", "¥12,100.00"]  # O6 in December 2025 and X6 in January 2026
    # A period without spend says so.
    empty = client.get(f"{DASHBOARD}?year=2023").get_data(as_text=True)
    assert "该期间没有数据。" in empty
    assert not parse(empty).find_all("table", data_figure="unit")


def test_charts_are_svg_with_title_description_and_one_bar_per_row(client, world):
    overseer(client)
    html = client.get(f"{DASHBOARD}?year=2025").get_data(as_text=True)
    page = parse(html)
    svgs = page.find_all("svg", role="img")
    assert len(svgs) == 8
    start = html.index('<svg xmlns="http://www.w3.org/2000/svg" class="dash-chart dash-bars"')
    svg = ET.fromstring(html[start : html.index("</svg>", start) + len("</svg>")])  # noqa: S314 -- our own page
    ns = {"svg": "http://www.w3.org/2000/svg"}
    assert svg.find("svg:title", ns).text == "按品目统计成交金额"
    assert svg.find("svg:desc", ns).text == "横向条形图，共 3 项，最大的是「台式计算机」（¥33,101.00）。"
    assert len(svg.findall(".//svg:rect", ns)) == 3
    assert [t.text for t in svg.findall(".//svg:text[@class='dash-value']", ns)] == [
        "¥33,101.00",
        "¥21,199.50",
        "¥13,400.30",
    ]
    assert "<script" not in html and "style=" not in html


# --------------------------------------------------------------------------------------------
# CSV exports


def read_csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_exports_the_figures_exactly(client, world):
    overseer(client)
    response = client.get("/oversight/dashboard/supplier.csv?year=2025")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="dashboard-supplier-2025.csv"'
    assert read_csv(response) == [
        ["编码", "供应商", "中小企业", "订单数", "成交金额（元）", "占比（%）"],
        ["S001", "甲科技有限公司", "是", "2", "28001.00", "41.4"],
        ["S002", "乙集团股份公司", "否", "2", "24799.80", "36.6"],
        ["S003", "丙商贸有限公司", "是", "2", "14900.00", "22.0"],
        ["合计", "", "", "6", "67700.80", "100.0"],
    ]
    month = read_csv(client.get("/oversight/dashboard/month.csv?date_from=2025-01-01&date_to=2025-03-31"))
    assert month == [
        ["月份", "订单数", "成交金额（元）"],
        ["2025-01", "2", "20599.80"],
        ["2025-02", "0", "0.00"],
        ["2025-03", "2", "27801.00"],
        ["合计", "4", "48400.80"],
    ]
    response = client.get("/oversight/dashboard/alerts.csv?year=2025")
    assert response.headers["Content-Disposition"] == 'attachment; filename="dashboard-alerts-2025.csv"'
    assert read_csv(response)[0] == ["预警类型", "待处理", "已知悉", "已办结", "合计"]
    # The export is not cut to the page's top N.
    assert len(read_csv(client.get("/oversight/dashboard/unit.csv?year=2025&top=1"))) == 5


def test_csv_cells_are_formula_safe(client, world):
    evil = factories.org(OrgKind.SUPPLIER, code="S666", name='=HYPERLINK("http://evil.example","点我")')
    unit = world.units[0]
    make_order(
        unit, evil, [(world.products[3], "100.00", 1)], status=S.CONFIRMED, confirmed_at=bj(2025, 8, 1, 9)
    )
    overseer(client)
    rows = read_csv(client.get("/oversight/dashboard/supplier.csv?year=2025"))
    assert ["S666", '\'=HYPERLINK("http://evil.example","点我")', "否", "1", "100.00", "0.1"] in rows
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)


# --------------------------------------------------------------------------------------------
# Bad input and access


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("year=1800", "年度：年度应在 2000–2099 之间"),
        ("year=99999999999999999999", "年度：年度应在 2000–2099 之间"),
        ("year=abc", "年度：应为整数"),
        ("date_from=2025-05-01&date_to=2025-01-01", "结束日期：结束日期不能早于开始日期"),
        ("date_from=2000-01-01&date_to=2099-12-31", "结束日期：统计期间不能超过 5 年，请缩小日期范围"),
        ("date_from=0001-01-01", "开始日期：日期应在 2000-01-01 至 2099-12-31 之间"),
        ("date_from=2001-01-01", "开始日期：统计期间不能超过 5 年，请缩小日期范围"),  # … to today
        ("date_to=2025-13-45", "结束日期：日期格式不正确"),
        ("top=100000", "显示数量：显示数量应在 1–50 之间"),
        ("top=0", "显示数量：显示数量应在 1–50 之间"),
        ("unit=3", "参数“unit”：不支持的参数"),
        ("per_page=100000", "参数“per_page”：不支持的参数"),
    ],
)
def test_bad_dashboard_input_is_422_with_a_chinese_message(client, world, query, message):
    overseer(client)
    response = client.get(f"{DASHBOARD}?{query}")
    assert response.status_code == 422
    page = parse(response.get_data(as_text=True))
    assert message in page.one("div", class_="error-summary").text
    # The page still shows, for the default period (this year).
    this_year = datetime.now(LOCAL_TZ).year
    assert page.one("p", class_="page-meta").text.startswith(
        f"统计期间：{this_year}-01-01 至 {this_year}-12-31"
    )

    export = client.get(f"/oversight/dashboard/unit.csv?{query}")
    assert export.status_code == 422
    assert export.mimetype == "text/html"
    assert message.split("：", 1)[1] in export.get_data(as_text=True)


def test_unknown_figure_is_404(client, world):
    overseer(client)
    assert client.get("/oversight/dashboard/secrets.csv").status_code == 404


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.OPERATOR])
def test_regulators_and_operators_open_the_dashboard_from_the_navigation(client, world, role):
    overseer(client, role)
    page = parse(client.get("/").get_data(as_text=True))
    nav = page.one("nav", class_="main-nav")
    link = next(a for a in page.inside(nav, "a") if a.text == "统计分析")
    assert link.get("href") == DASHBOARD
    dashboard = parse(client.get(DASHBOARD).get_data(as_text=True))
    assert [
        a.text for a in dashboard.inside(dashboard.one("nav", class_="main-nav"), "a", aria_current="page")
    ] == ["统计分析"]


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        (Role.PURCHASER, OrgKind.PURCHASING_UNIT),
        (Role.APPROVER, OrgKind.PURCHASING_UNIT),
        (Role.SUPPLIER, OrgKind.SUPPLIER),
        (Role.FINANCE, OrgKind.FINANCE),
    ],
)
def test_other_roles_may_not_see_the_dashboard(client, world, role, kind):
    login(client, factories.user(factories.org(kind), role).username)
    for url in (f"{DASHBOARD}?year=2025", "/oversight/dashboard/unit.csv?year=2025"):
        response = client.get(url)
        assert response.status_code == 403
        assert "东城区教育局" not in response.get_data(as_text=True)
    nav = parse(client.get("/").get_data(as_text=True)).one("nav", class_="main-nav")
    assert "统计分析" not in nav.text


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in (DASHBOARD, "/oversight/dashboard/unit.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_the_dashboard_is_accessible(client, world):
    overseer(client)
    for url in (f"{DASHBOARD}?year=2025", f"{DASHBOARD}?year=1800"):
        page = parse(client.get(url).get_data(as_text=True))
        assert len(page.find_all("h1")) == 1
        labels = {label.get("for") for label in page.find_all("label")}
        for control in page.elements:
            if control.tag in ("input", "select") and control.get("type") != "hidden":
                assert control.get("id") in labels, control.get("name")
        ids = page.ids()
        assert len(ids) == len(set(ids))
        for element in page.elements:
            for ref in (element.get("aria-labelledby") or "").split():
                assert ref in ids, ref
        for table in page.find_all("table"):
            assert page.inside(table, "caption")
            for th in page.inside(table, "th"):
                assert th.get("scope") in ("col", "row")


# --------------------------------------------------------------------------------------------
# The public late-payment page


@pytest.fixture
def payments(world):
    """Payment histories of the units over the last twelve months (relative to now)."""
    now = utcnow()
    u1, u2, u3 = world.units
    s1, s2, s3 = world.suppliers
    p4 = world.products[3]

    def paid(unit, supplier, accepted_days_ago: float, days_to_pay: float, pay_days: int = 30) -> Order:
        accepted = now - timedelta(days=accepted_days_ago)
        return make_order(
            unit,
            supplier,
            [(p4, "100.00", 1)],
            status=S.PAID,
            confirmed_at=accepted - timedelta(days=3),
            accepted_at=accepted,
            pay_due_at=accepted + timedelta(days=pay_days),
            paid_at=accepted + timedelta(days=days_to_pay),
        )

    # U1: three orders paid in 10, 40 (late) and 20 days → median 20.0; one paid 400 days ago (outside).
    paid(u1, s1, 100, 10)
    paid(u1, s2, 200, 40)
    paid(u1, s3, 60, 20)
    paid(u1, s1, 420, 45)
    # U2: two paid in 31 (late) and 35.5 (late) days → median 33.3 (33.25 rounded half up).
    paid(u2, s1, 90, 31)
    paid(u2, s2, 150, 35.5)
    # U3: nothing paid; one accepted order overdue right now, with its alert.
    overdue = make_order(
        u3,
        s3,
        [(p4, "100.00", 1)],
        status=S.ACCEPTED,
        confirmed_at=now - timedelta(days=50),
        accepted_at=now - timedelta(days=45),
        pay_due_at=now - timedelta(days=15),
    )
    raise_alert(
        AlertKind.LATE_PAYMENT,
        "付款超时",
        unit_id=u3.id,
        order_id=overdue.id,
        raised_at=now - timedelta(days=14),
    )
    # U2: two late-payment alerts this year, one from two years ago (not counted).
    raise_alert(AlertKind.LATE_PAYMENT, "付款超时", unit_id=u2.id, raised_at=now - timedelta(days=500))
    db.session.flush()
    return now


def public_rows(html: str) -> list[list[str]]:
    page = parse(html)
    table = page.one("table", class_="data-table payment-table")
    found = []
    for tr in page.inside(table, "tr"):
        cells = [c for c in page.inside(tr) if c.tag in ("td", "th") and c.parent is tr]
        if cells and cells[-1].tag == "td":
            found.append([c.text for c in cells])
    return found


def test_the_public_page_lists_late_payments_per_unit(client, payments):
    response = client.get(PUBLIC)  # no login
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # 2025 alerts of the world: U2 has two LATE_PAYMENT alerts in 2025 — older than twelve months
    # only if today is past 2026; count them from the database the way the page defines it.
    since = datetime.combine(
        (payments.astimezone(LOCAL_TZ).date().replace(year=payments.astimezone(LOCAL_TZ).year - 1)),
        datetime.min.time(),
        tzinfo=LOCAL_TZ,
    ).astimezone(UTC)
    alerts = dict(
        raw(
            "SELECT u.code, count(*) FROM alerts a JOIN organizations u ON u.id = a.unit_id "
            "WHERE a.kind = 'late_payment' AND a.raised_at >= :since GROUP BY u.code",
            since=since,
        )
    )
    paid = raw(
        "SELECT u.code, o.accepted_at, o.paid_at, o.pay_due_at FROM orders o JOIN organizations u "
        "ON u.id = o.unit_id WHERE o.paid_at IS NOT NULL AND o.paid_at >= :since",
        since=since,
    )

    def moment(value):
        value = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return value.replace(tzinfo=value.tzinfo or UTC)

    expected = {}
    for code in ("U001", "U002", "U003"):
        mine = [(moment(a), moment(p), moment(d)) for c, a, p, d in paid if c == code]
        days = [Decimal(str((p - a).total_seconds() / 86400)) for a, p, _d in mine]
        median = statistics.median(days).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP") if days else None
        expected[code] = [
            str(alerts.get(code, 0)),
            str(len(mine)),
            str(sum(1 for _a, p, d in mine if p > d)),
            "1" if code == "U003" else "0",
            str(median) if median is not None else "—",
        ]
    shown = {row[1]: row[2:] for row in public_rows(html)}
    assert shown == expected
    assert expected["U001"][1:] == ["3", "1", "0", "20.0"]
    assert expected["U002"][1:] == ["2", "2", "0", "33.3"]
    assert expected["U003"] == ["1", "0", "0", "1", "—"]
    # Sorted by late-payment alerts, then orders paid late, then overdue now.
    order = [row[1] for row in public_rows(html)]
    assert order == sorted(
        order,
        key=lambda code: (-int(expected[code][0]), -int(expected[code][2]), -int(expected[code][3]), code),
    )
    assert parse(html).one("p", class_="result-count").text == "共 3 个采购单位"


def test_the_public_page_shows_no_personal_data(client, payments, world):
    html = client.get(PUBLIC).get_data(as_text=True)
    for secret in ("王小明", "13800138000", "北京市东城区保密路", "010-11112222", "DD"):
        assert secret not in html
    assert "东城区教育局" in html


def test_the_public_page_is_rate_limited(app, client, payments, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_RATE_LIMIT", "3 per minute")
    for _ in range(3):
        assert client.get(PUBLIC).status_code == 200
    response = client.get(PUBLIC)
    assert response.status_code == 429
    assert "请求过于频繁" in response.get_data(as_text=True)
    assert response.headers.get("Retry-After")
    # Another address is not affected.
    assert client.get(PUBLIC, environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("per_page=100000", "每页数量：每页数量应在 1–100 之间"),
        ("page=0", "页码：页码应在 1–1000 之间"),
        ("page=abc", "页码：应为整数"),
        ("unit=1", "参数“unit”：不支持的参数"),
    ],
)
def test_bad_public_input_is_422(client, payments, query, message):
    response = client.get(f"{PUBLIC}?{query}")
    assert response.status_code == 422
    assert message in parse(response.get_data(as_text=True)).one("div", class_="error-summary").text


def test_the_public_page_pages(client, payments):
    first = client.get(f"{PUBLIC}?per_page=2").get_data(as_text=True)
    assert len(public_rows(first)) == 2
    assert parse(first).one("a", rel="next").get("href") == f"{PUBLIC}?page=2&per_page=2"
    second = client.get(f"{PUBLIC}?page=2&per_page=2").get_data(as_text=True)
    assert len(public_rows(second)) == 1
    # The footer links to the page from everywhere.
    assert parse(client.get("/").get_data(as_text=True)).find_all("a", href=PUBLIC)
