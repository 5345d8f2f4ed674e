"""成交公告: public pages and downloads of every confirmed order, and only of those.

The orders are placed through the real checkout and confirmed through the lifecycle; where a test
needs a transaction on a given day it moves ``confirmed_at`` afterwards.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.auth.models import OrgKind
from app.extensions import db
from app.orders.checkout import submit
from app.orders.lifecycle import Actor, transition
from app.orders.models import Order
from app.orders.models import OrderStatus as S
from app.oversight import notices
from tests import factories
from tests.conftest import login
from tests.orders.helpers import Shop, fill_cart, request_for, shop
from tests.ui.pages import parse

NUMBER_RE = re.compile(r"DD\d{8}[A-Z2-7]{10}")


# --------------------------------------------------------------------------------------------
# Helpers (also used by test_ocds.py and test_privacy.py)


def place(s: Shop, offer_index: int = 0, quantity: int = 1, **request) -> Order:
    """A submitted order of ``s.purchaser`` for one offer, through the real checkout."""
    fill_cart(s.purchaser, (s.offers[offer_index], quantity))
    orders, replayed = submit(s.purchaser, request_for(s.purchaser, s.plan, **request))
    assert not replayed and len(orders) == 1
    return orders[0]


def supplier_user(s: Shop, order: Order):
    return s.supplier_users[s.suppliers.index(order.supplier)]


def confirm(s: Shop, order: Order, at: datetime | None = None) -> Order:
    transition(order, S.CONFIRMED, Actor.of_user(supplier_user(s, order)))
    if at is not None:
        order.confirmed_at = at
    db.session.flush()
    return order


def advance(s: Shop, order: Order, *statuses: S) -> Order:
    """Walk a confirmed order on: shipped, delivered (the supplier's moves)."""
    for to in statuses:
        details = {"tracking_number": "SF1234567890"} if to is S.SHIPPED else {}
        transition(order, to, Actor.of_user(supplier_user(s, order)), **details)
    db.session.flush()
    return order


def published_order(s: Shop, offer_index: int = 0, quantity: int = 1, at: datetime | None = None) -> Order:
    return confirm(s, place(s, offer_index, quantity), at)


def body(response) -> str:
    return response.get_data(as_text=True)


def listed_numbers(response) -> list[str]:
    """The order numbers the list shows, in page order."""
    return re.findall(r'href="/notices/(DD[0-9A-Z]+)"', body(response))


# --------------------------------------------------------------------------------------------
# Which orders are notices


def test_only_orders_the_supplier_confirmed_are_published(client, db_session):
    s = shop()
    confirmed = published_order(s)
    shipped = advance(s, published_order(s, 1), S.SHIPPED)
    submitted = place(s)
    rejected = place(s, 1)
    transition(rejected, S.REJECTED, Actor.of_user(s.supplier_users[1]), note="缺货")
    cancelled = place(s)
    transition(cancelled, S.CANCELLED, Actor.of_user(s.purchaser), note="不再需要")
    db.session.flush()

    response = client.get("/notices/")
    assert response.status_code == 200
    assert sorted(listed_numbers(response)) == sorted([confirmed.number, shipped.number])
    assert "共 2 条成交公告" in body(response)
    for hidden in (submitted, rejected, cancelled):
        assert hidden.number not in body(response)
        assert client.get(f"/notices/{hidden.number}").status_code == 404
    assert client.get(f"/notices/{confirmed.number}").status_code == 200
    assert client.get(f"/notices/{shipped.number}").status_code == 200


def test_a_returned_order_stays_published_with_its_status(client, db_session):
    s = shop()
    order = advance(s, published_order(s), S.SHIPPED, S.DELIVERED)
    transition(order, S.RETURNED, Actor.of_user(s.purchaser), note="型号不符")
    db.session.flush()
    page = body(client.get(f"/notices/{order.number}"))
    assert "已退货" in page


def test_the_notice_page_shows_the_transaction_and_its_price_evidence(client, db_session):
    s = shop(prices=("3000.00", "2000.00"))
    s.unit.credit_code = "11110000MB0000001X"
    s.suppliers[0].is_sme = True
    s.offers[0].market_price = Decimal("3300.00")
    product = s.offers[0].product
    factories.offer(product, price=Decimal("2950.50"))  # the lowest other offer for the same product
    db.session.flush()
    order = published_order(s, quantity=2)

    response = client.get(f"/notices/{order.number}")
    assert response.status_code == 200
    page = body(response)
    line = order.lines[0]
    for expected in (
        order.number,
        s.unit.name,
        "11110000MB0000001X",
        s.suppliers[0].name,
        "中小企业",
        "电子卖场直购",
        line.name,
        line.model,
        f"{s.category.code}</span> {s.category.name}",
        "¥3,000.00",  # unit price
        "¥6,000.00",  # amount and total
        "¥3,300.00",  # market reference price frozen at submit
        "低于市场参考价 ¥300.00（9.1%）",
        "¥2,950.50",  # lowest other offer frozen at submit
        "高于其他供应商最低价 ¥49.50（1.7%）",
        "已确认",
    ):
        assert expected in page, expected
    assert (line.market_price, line.lowest_other_price) == (Decimal("3300.00"), Decimal("2950.50"))


def test_prices_changed_after_submit_do_not_change_the_notice(client, db_session):
    s = shop()
    order = published_order(s)
    s.offers[0].price = Decimal("9999.00")
    s.offers[0].market_price = Decimal("8888.00")
    db.session.flush()
    page = body(client.get(f"/notices/{order.number}"))
    assert "¥3,000.00" in page and "¥5,299.00" in page
    assert "¥9,999.00" not in page and "¥8,888.00" not in page


@pytest.mark.parametrize("number", ["dd20260101abcdefghij", "DD2026-01", "x" * 40, "DD20990101AAAAAAAAAA"])
def test_unknown_or_malformed_numbers_are_404(client, db_session, number):
    response = client.get(f"/notices/{number}")
    assert response.status_code == 404
    assert "没有这条成交公告。" in body(response)


def test_notices_are_public_and_in_the_navigation(app, client, db_session):
    s = shop()
    order = published_order(s)
    anonymous = client.get("/notices/")
    assert anonymous.status_code == 200
    assert '<a href="/notices/" aria-current="page">成交公告</a>' in body(anonymous)
    assert client.get(f"/notices/{order.number}").status_code == 200
    home = body(client.get("/"))
    assert '<a href="/notices/">成交公告</a>' in home
    # The same page for a logged-in user of another organization (nothing more, nothing less).
    other = app.test_client()
    login(other, factories.user(factories.org(OrgKind.SUPPLIER)).username)
    assert listed_numbers(other.get("/notices/")) == [order.number]
    assert '<a href="/notices/" aria-current="page">成交公告</a>' in body(other.get("/notices/"))


def test_empty_state(client, db_session):
    response = client.get("/notices/")
    assert response.status_code == 200
    page = body(response)
    assert "共 0 条成交公告" in page
    assert "没有符合条件的成交公告。" in page
    assert "/notices/export.csv" not in page


# --------------------------------------------------------------------------------------------
# Filters and paging


def day(y: int, m: int, d: int, hour: int = 4) -> datetime:
    """A moment on that day in China (04:00 UTC is 12:00 in Beijing)."""
    return datetime(y, m, d, hour, tzinfo=UTC)


@pytest.fixture
def market(db_session):
    """Two units, three suppliers, two categories; five notices on known days."""
    a = shop(prices=("3000.00", "2000.00"))
    b = shop(prices=("500.00", "8000.00"))
    b.category.code = "A02021001"  # a printer-like code under another branch
    db.session.flush()
    orders = {
        "a1": published_order(a, 0, 1, at=day(2026, 3, 1)),  # 3000, supplier a0, A99… category
        "a2": published_order(a, 1, 2, at=day(2026, 3, 15)),  # 4000, supplier a1
        "a3": published_order(a, 0, 3, at=day(2026, 4, 2)),  # 9000, supplier a0
        "b1": published_order(b, 0, 1, at=day(2026, 3, 31, hour=15)),  # 500 (23:00 in Beijing)
        "b2": published_order(b, 1, 1, at=day(2026, 4, 1, hour=16)),  # 8000 (00:00 on 2 April)
    }
    return a, b, orders


def numbers(orders: dict, *keys: str) -> list[str]:
    return [orders[key].number for key in keys]


def test_filters_each_narrow_the_list(client, market):
    a, b, o = market
    cases = {
        "": ["a3", "b2", "b1", "a2", "a1"],  # newest transaction first
        f"unit={a.unit.id}": ["a3", "a2", "a1"],
        f"unit={b.unit.id}": ["b2", "b1"],
        f"supplier={a.suppliers[0].id}": ["a3", "a1"],
        f"category={a.category.code}": ["a3", "a2", "a1"],
        "category=A0202": ["b2", "b1"],  # the start of a code: the whole branch
        "category=a02021001": ["b2", "b1"],  # case does not matter
        "date_from=2026-03-15&date_to=2026-03-31": ["b1", "a2"],  # days in China, both included
        "date_from=2026-04-02": ["a3", "b2"],
        "date_to=2026-03-01": ["a1"],
        "amount_min=4000": ["a3", "b2", "a2"],
        "amount_max=3000.00": ["b1", "a1"],
        "amount_min=500&amount_max=500": ["b1"],
        f"unit={a.unit.id}&amount_min=3500&date_to=2026-03-31": ["a2"],
        "unit=999999": [],
    }
    for query, expected in cases.items():
        response = client.get(f"/notices/?{query}")
        assert response.status_code == 200, query
        assert listed_numbers(response) == numbers(o, *expected), query
        assert f"共 {len(expected)} 条成交公告" in body(response), query


def test_unknown_parameters_are_ignored(client, market):
    _a, _b, o = market
    response = client.get("/notices/?status=rejected&q=x&sort=price&contact_name=张三")
    assert response.status_code == 200
    assert listed_numbers(response) == numbers(o, "a3", "b2", "b1", "a2", "a1")


def test_pages_are_bounded_and_keep_the_filters(client, market):
    a, _b, o = market
    first = client.get(f"/notices/?unit={a.unit.id}&per_page=2")
    assert listed_numbers(first) == numbers(o, "a3", "a2")
    assert f'href="/notices/?page=2&amp;unit={a.unit.id}&amp;per_page=2" rel="next"' in body(first)
    second = client.get(f"/notices/?unit={a.unit.id}&per_page=2&page=2")
    assert listed_numbers(second) == numbers(o, "a1")
    beyond = client.get(f"/notices/?unit={a.unit.id}&per_page=2&page=9")
    assert beyond.status_code == 200 and listed_numbers(beyond) == []
    assert listed_numbers(client.get("/notices/?per_page=100")) == numbers(o, "a3", "b2", "b1", "a2", "a1")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("per_page=1000", "每页数量应在 1–100 之间"),
        ("per_page=0", "每页数量应在 1–100 之间"),
        ("page=0", "页码应在 1–10000 之间"),
        ("page=abc", "应为整数"),
        ("unit=abc", "应为整数"),
        ("supplier=-3", "编号无效"),
        ("category=ZZZ", "品目编码应为 A、B 或 C 加最多 8 位数字"),
        ("date_from=2026-13-01", "日期格式不正确"),
        ("date_to=yesterday", "日期格式不正确"),
        ("date_from=1900-01-01", "日期应在 2000-01-01 至 2099-12-31 之间"),
        ("date_to=2150-01-01", "日期应在 2000-01-01 至 2099-12-31 之间"),
        ("date_from=2026-05-01&date_to=2026-04-01", "起始日期不能晚于截止日期"),
        ("date_from=2020-01-01&date_to=2023-01-02", "日期范围最长 3 年"),
        ("amount_min=-1", "最低金额：金额不能为负数"),
        ("amount_max=-0.01", "最高金额：金额不能为负数"),
        ("amount_min=abc", "最低金额：应为金额，如 5000 或 4999.50"),
        ("amount_min=NaN", "最低金额：应为金额，如 5000 或 4999.50"),
        ("amount_max=1e30", "最高金额：金额过大"),
        ("amount_min=500&amount_max=100", "最高金额：最低金额不能高于最高金额"),
    ],
)
def test_absurd_input_is_a_clear_400_and_lists_nothing(client, market, query, message):
    response = client.get(f"/notices/?{query}")
    assert response.status_code == 400
    page = body(response)
    assert "请修改以下问题" in page
    assert message in page
    assert listed_numbers(response) == []
    assert "条成交公告" not in page  # no count, no download links: nothing was searched


def test_a_three_year_range_is_allowed(client, market):
    response = client.get("/notices/?date_from=2024-01-01&date_to=2027-01-01")
    assert response.status_code == 200
    assert len(listed_numbers(response)) == 5


# --------------------------------------------------------------------------------------------
# Downloads


def csv_rows(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens it as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).worksheets[0]
    return [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]


def test_csv_download_has_one_row_per_line_with_the_list_filters(client, market):
    a, _b, o = market
    response = client.get(f"/notices/export.csv?unit={a.unit.id}&date_from=2026-03-02")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == [
        "订单编号",
        "成交时间",
        "采购单位",
        "采购单位统一社会信用代码",
        "供应商",
        "供应商统一社会信用代码",
        "中小企业",
        "品目编码",
        "品目名称",
        "商品名称",
        "品牌",
        "型号",
        "数量",
        "成交单价",
        "金额",
        "市场参考价",
        "同款其他供应商最低价",
        "订单金额",
        "订单状态",
    ]
    a3, a2 = o["a3"], o["a2"]
    assert [row[0] for row in rows[1:]] == [a3.number, a2.number]
    line = a3.lines[0]
    assert rows[1] == [
        a3.number,
        "2026-04-02 12:00",
        a.unit.name,
        "",
        a.suppliers[0].name,
        "",
        "否",
        a.category.code,
        a.category.name,
        line.name,
        line.brand,
        line.model,
        "3",
        "3000.00",
        "9000.00",
        "5299.00",
        "",  # no other offer of the same product (the shop's other offer is another product)
        "9000.00",
        "已确认",
    ]


def test_xlsx_download_matches_and_has_real_numbers(client, market):
    a, _b, o = market
    response = client.get(f"/notices/export.xlsx?supplier={a.suppliers[1].id}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = xlsx_rows(response)
    assert rows[0][:3] == ["订单编号", "成交时间", "采购单位"]
    (row,) = rows[1:]
    assert row[0] == o["a2"].number
    assert row[12:19] == [2, 2000, 4000, 5299, None, 4000, "已确认"]
    assert all(isinstance(value, int | float) for value in row[12:16])  # numbers, not text


def test_downloads_neutralise_formulas(client, db_session):
    s = shop()
    s.suppliers[0].name = '=HYPERLINK("http://evil.example","点我")'
    s.offers[0].product.name = "+SUM(A1:A9)"
    s.offers[0].product.model = "@cmd"
    db.session.flush()
    order = published_order(s)
    csv_row = csv_rows(client.get("/notices/export.csv"))[1]
    assert csv_row[0] == order.number
    assert csv_row[4] == '\'=HYPERLINK("http://evil.example","点我")'
    assert csv_row[9] == "'+SUM(A1:A9)" and csv_row[11] == "'@cmd"
    xlsx_row = xlsx_rows(client.get("/notices/export.xlsx"))[1]
    assert xlsx_row[4] == '\'=HYPERLINK("http://evil.example","点我")'
    assert xlsx_row[9] == "'+SUM(A1:A9)" and xlsx_row[11] == "'@cmd"


def test_download_of_bad_filters_is_400(client, market):
    response = client.get("/notices/export.csv?amount_min=-5")
    assert response.status_code == 400
    assert "筛选条件有误" in body(response)
    assert "<strong>最低金额</strong>：金额不能为负数" in body(response)
    assert client.get("/notices/export.xlsx?date_from=2026-02-30").status_code == 400


def test_downloads_are_bounded(client, market, monkeypatch):
    monkeypatch.setattr(notices, "EXPORT_MAX", 4)
    response = client.get("/notices/export.csv")
    assert response.status_code == 400
    assert "符合条件的成交公告有 5 条，超过单次下载上限 4 条" in body(response)
    listing = body(client.get("/notices/"))
    assert "/notices/export.csv" not in listing and "结果超过 4 条" in listing
    narrowed = client.get("/notices/export.csv?date_from=2026-04-01")
    assert narrowed.status_code == 200 and len(csv_rows(narrowed)) == 3


# --------------------------------------------------------------------------------------------
# Rate limits


@pytest.fixture
def small_limits(app):
    saved = app.config["PUBLIC_RATE_LIMIT"], app.config["PUBLIC_EXPORT_RATE_LIMIT"]
    app.config["PUBLIC_RATE_LIMIT"], app.config["PUBLIC_EXPORT_RATE_LIMIT"] = "4 per minute", "2 per minute"
    yield
    app.config["PUBLIC_RATE_LIMIT"], app.config["PUBLIC_EXPORT_RATE_LIMIT"] = saved


def test_public_pages_share_one_rate_limit(client, db_session, small_limits):
    order = published_order(shop())
    pages = ("/notices/", f"/notices/{order.number}", "/notices/?per_page=5", "/open-data/ocds/releases.json")
    for url in pages:
        assert client.get(url).status_code == 200, url
    for url in ("/notices/", f"/notices/{order.number}", "/notices/export.csv"):
        response = client.get(url)
        assert response.status_code == 429, url
        assert "请求过于频繁" in body(response)
        assert response.headers.get("Retry-After")
    # Another address has its own budget.
    assert client.get("/notices/", environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 200


def test_downloads_have_a_smaller_limit_of_their_own(client, db_session, small_limits):
    published_order(shop())
    assert client.get("/notices/export.csv").status_code == 200
    assert client.get("/notices/export.xlsx").status_code == 200
    assert client.get("/notices/export.csv").status_code == 200  # per route: xlsx counted apart
    assert client.get("/notices/export.csv").status_code == 429


def test_other_pages_are_not_limited_by_the_notices(client, db_session, small_limits):
    for _ in range(5):
        client.get("/notices/")
    assert client.get("/notices/").status_code == 429
    assert client.get("/").status_code == 200


def test_notice_urls_accept_every_order_number(db_session):
    order = published_order(shop())
    assert NUMBER_RE.fullmatch(order.number)
    assert notices.ORDER_NUMBER.match(order.number)


# --------------------------------------------------------------------------------------------
# The pages' HTML (the checks of tests/ui/test_accessibility.py, on these pages)


def test_notice_pages_are_well_formed_and_labelled(client, market):
    _a, _b, o = market
    urls = ["/notices/", f"/notices/{o['a1'].number}", "/notices/?amount_min=-1&date_from=2026-13-01&page=0"]
    for url in urls:
        page = parse(body(client.get(url)))
        assert page.one("html").get("lang") == "zh-CN", url
        assert len(page.find_all("h1")) == 1, url
        ids = page.ids()
        assert len(ids) == len(set(ids)), url
        labels = {label.get("for") for label in page.find_all("label")}
        for control in page.elements:
            if control.tag in ("input", "select") and control.get("type") not in ("hidden", "submit"):
                assert control.get("id") in labels, (url, control.get("name"))
        for link in page.find_all("a"):
            href = link.get("href") or ""
            if href.startswith("#") and len(href) > 1:
                assert href[1:] in ids, (url, href)
    errors = parse(body(client.get(urls[2])))
    summary = [a.get("href") for a in errors.inside(errors.one("div", class_="error-summary"), "a")]
    assert summary == ["#date_from", "#amount_min"]
    assert errors.by_id("amount_min").get("aria-invalid") == "true"
    assert errors.by_id("amount_min").get("value") == "-1"  # what was typed is kept
