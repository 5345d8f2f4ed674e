"""The alert list for regulators and operators: newest first, filters by kind, status and unit,
pagination, bad filters answered with a Chinese message, and nobody else may open it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.auth.models import OrgKind, Role
from app.core.db import utcnow
from app.extensions import db
from app.oversight.models import AlertKind, AlertStatus
from app.oversight.services import raise_alert
from tests import factories
from tests.conftest import login
from tests.ui.pages import parse

ALERTS = "/oversight/alerts"


@pytest.fixture
def alerts(db_session):
    """Three alerts of two units, raised a minute apart (the oldest first)."""
    first_unit = factories.org(OrgKind.PURCHASING_UNIT, name="甲单位")
    second_unit = factories.org(OrgKind.PURCHASING_UNIT, name="乙单位")
    supplier = factories.org(OrgKind.SUPPLIER, name="丙供应商")
    start = utcnow() - timedelta(hours=1)
    made = [
        raise_alert(
            AlertKind.ORDER_SPLITTING,
            "甲单位 近 2 笔「台式计算机」订单与本次合计 ¥210,000.00，超过直购限额 ¥200,000.00",
            unit_id=first_unit.id,
            detail={"orders": ["DD1", "DD2", "DD3"], "reason": "分批到货"},
            raised_at=start,
        ),
        raise_alert(
            AlertKind.LATE_CONFIRMATION,
            "丙供应商 未按时确认订单",
            unit_id=first_unit.id,
            supplier_id=supplier.id,
            raised_at=start + timedelta(minutes=1),
        ),
        raise_alert(
            AlertKind.LATE_PAYMENT,
            "乙单位 未按时付款",
            unit_id=second_unit.id,
            supplier_id=supplier.id,
            status=AlertStatus.RESOLVED,
            raised_at=start + timedelta(minutes=2),
        ),
    ]
    db.session.flush()
    return {"units": (first_unit, second_unit), "alerts": made}


def overseer(client, role: Role):
    kind = OrgKind.REGULATOR if role is Role.REGULATOR else OrgKind.OPERATOR
    user = factories.user(factories.org(kind), role)
    login(client, user.username)
    return user


def rows(html: str) -> list[list[str]]:
    page = parse(html)
    table = page.one("table", class_="data-table")
    found = []
    for tr in page.inside(table, "tr"):
        cells = [c for c in page.inside(tr) if c.tag in ("td", "th") and c.parent is tr]
        if cells and cells[0].tag == "td":
            found.append([c.text for c in cells])
    return found


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.OPERATOR])
def test_regulators_and_operators_see_every_alert_newest_first(client, alerts, role):
    overseer(client, role)
    response = client.get(ALERTS)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    found = rows(html)
    assert [row[1:5] for row in found] == [
        ["采购人超时未付款", "已办结", "乙单位", "丙供应商"],
        ["供应商超时未确认", "待处理", "甲单位", "丙供应商"],
        ["疑似拆单", "待处理", "甲单位", "—"],
    ]
    assert found[2][6] == (
        "甲单位 近 2 笔「台式计算机」订单与本次合计 ¥210,000.00，超过直购限额 ¥200,000.00"
        "相关订单：DD1、DD2、DD3采购人说明：分批到货"  # on lines of their own (<br>)
    )
    page = parse(html)
    assert page.one("p", class_="result-count").text == "共 3 条预警"
    nav = page.one("nav", class_="main-nav")
    assert [a.text for a in page.inside(nav, "a", aria_current="page")] == ["预警"]
    # The unit filter offers the units that have alerts.
    options = page.inside(page.one("select", id="unit"), "option")
    assert [o.text for o in options] == ["全部单位", "甲单位", "乙单位"]


def test_filters_narrow_the_list(client, alerts):
    overseer(client, Role.REGULATOR)
    first_unit, second_unit = alerts["units"]
    assert [r[1] for r in rows(client.get(f"{ALERTS}?kind=late_confirmation").get_data(as_text=True))] == [
        "供应商超时未确认"
    ]
    assert [r[1] for r in rows(client.get(f"{ALERTS}?status=open").get_data(as_text=True))] == [
        "供应商超时未确认",
        "疑似拆单",
    ]
    assert [r[3] for r in rows(client.get(f"{ALERTS}?unit={second_unit.id}").get_data(as_text=True))] == [
        "乙单位"
    ]
    url = f"{ALERTS}?unit={first_unit.id}&status=open&kind=order_splitting"
    both = client.get(url).get_data(as_text=True)
    assert [r[1] for r in rows(both)] == ["疑似拆单"]
    page = parse(both)
    assert page.one("option", value="order_splitting").has("selected")
    assert page.one("option", value=str(first_unit.id)).has("selected")
    nothing = client.get(f"{ALERTS}?kind=substitution").get_data(as_text=True)
    assert "没有符合条件的预警。" in nothing
    assert parse(nothing).one("p", class_="result-count").text == "共 0 条预警"


def test_pages_keep_the_filters(client, alerts):
    overseer(client, Role.OPERATOR)
    first = client.get(f"{ALERTS}?per_page=2").get_data(as_text=True)
    assert [r[1] for r in rows(first)] == ["采购人超时未付款", "供应商超时未确认"]
    page = parse(first)
    assert page.one("a", rel="next").get("href") == f"{ALERTS}?page=2&per_page=2"
    second = client.get(f"{ALERTS}?page=2&per_page=2").get_data(as_text=True)
    assert [r[1] for r in rows(second)] == ["疑似拆单"]
    open_only = client.get(f"{ALERTS}?status=open&per_page=1").get_data(as_text=True)
    assert parse(open_only).one("a", rel="next").get("href") == f"{ALERTS}?page=2&status=open&per_page=1"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kind=nonsense", "类型：预警类型取值无效"),
        ("status=closed", "状态：状态取值无效"),
        ("unit=abc", "采购单位：应为整数"),
        ("unit=0", "采购单位：单位编号无效"),
        ("page=0", "页码：页码超出范围"),
        ("per_page=1000", "每页数量：每页数量应在 1–200 之间"),
    ],
)
def test_bad_filters_are_422_with_a_chinese_message(client, alerts, query, message):
    overseer(client, Role.REGULATOR)
    response = client.get(f"{ALERTS}?{query}")
    assert response.status_code == 422
    page = parse(response.get_data(as_text=True))
    assert message in page.one("div", class_="error-summary").text
    # The rest of the page still works, unfiltered by the bad value.
    assert len(rows(response.get_data(as_text=True))) == 3


def test_the_page_is_accessible(client, alerts):
    overseer(client, Role.REGULATOR)
    for url in (ALERTS, f"{ALERTS}?kind=nonsense"):
        page = parse(client.get(url).get_data(as_text=True))
        assert len(page.find_all("h1")) == 1
        labels = {label.get("for") for label in page.find_all("label")}
        for control in page.elements:
            if control.tag in ("input", "select") and control.get("type") != "hidden":
                assert control.get("id") in labels, control.get("name")
        ids = page.ids()
        assert len(ids) == len(set(ids))
        for table in page.find_all("table"):
            assert page.inside(table, "caption")
            for th in page.inside(table, "th"):
                assert th.get("scope") in ("col", "row")
        for link in page.find_all("a"):
            href = link.get("href") or ""
            if href.startswith("#") and len(href) > 1:
                assert href[1:] in ids, href


@pytest.mark.parametrize("role", [Role.PURCHASER, Role.APPROVER, Role.SUPPLIER, Role.FINANCE])
def test_other_roles_may_not_see_alerts(client, alerts, role):
    kind = {
        Role.PURCHASER: OrgKind.PURCHASING_UNIT,
        Role.APPROVER: OrgKind.PURCHASING_UNIT,
        Role.SUPPLIER: OrgKind.SUPPLIER,
        Role.FINANCE: OrgKind.FINANCE,
    }[role]
    # Even the unit an alert is about: alerts are for oversight.
    organization = alerts["units"][0] if kind is OrgKind.PURCHASING_UNIT else factories.org(kind)
    login(client, factories.user(organization, role).username)
    response = client.get(ALERTS)
    assert response.status_code == 403
    assert "未按时确认订单" not in response.get_data(as_text=True)
    assert "预警" not in [a.text for a in parse(client.get("/").get_data(as_text=True)).find_all("a")]


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(ALERTS)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
