"""The alert workflow: open → acknowledged → resolved with notes, for regulators and operators.

Every edge (allowed or not) is tried; resolving needs a note; an illegal move (resolving twice,
acknowledging a resolved alert) is a 409 that changes nothing and keeps what was typed; two people
moving the same alert at once cannot both win; each move and note is a log row (who, when, text)
and an audit event; the page shows the evidence (the order, the orders that add up for splitting,
the substituted lines); other roles get 403 on every alert URL; and alerts raised by the deadline
job from scenario orders show up with their order.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from itertools import product

import pytest
import sqlalchemy as sa

from app.auth.models import OrgKind, Role
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.extensions import db
from app.orders import deadlines
from app.orders.models import OrderStatus as S
from app.oversight import workflow
from app.oversight.models import Alert, AlertAction, AlertKind, AlertNote, AlertStatus
from app.oversight.services import raise_alert
from app.oversight.workflow import AlertMoveError
from tests import factories
from tests.conftest import csrf_from, login
from tests.oversight.test_dashboards import bj, make_order
from tests.ui.pages import parse

A = AlertStatus


def overseer(client, role: Role = Role.REGULATOR, name: str = "李监管"):
    kind = OrgKind.REGULATOR if role is Role.REGULATOR else OrgKind.OPERATOR
    org_name = "市财政局监督检查处" if role is Role.REGULATOR else "卖场运营中心"
    user = factories.user(factories.org(kind, name=org_name), role, display_name=name)
    login(client, user.username)
    return user


@pytest.fixture
def scene(db_session):
    """A splitting alert with the three orders that add up, and a substitution alert."""
    unit = factories.org(OrgKind.PURCHASING_UNIT, code="U100", name="朝阳区文旅局")
    supplier = factories.org(OrgKind.SUPPLIER, code="S100", name="丁电脑有限公司")
    category = factories.category("A02010105", "台式计算机")
    item = factories.product(category)
    orders = [
        make_order(unit, supplier, [(item, price, 10)], status=S.CONFIRMED, confirmed_at=bj(2026, 3, day, 9))
        for day, price in ((2, "7000.00"), (9, "6500.00"), (16, "7200.00"))
    ]
    splitting = raise_alert(
        AlertKind.ORDER_SPLITTING,
        "朝阳区文旅局 近 2 笔「台式计算机」订单与本次合计 ¥207,000.00，超过直购限额 ¥200,000.00",
        unit_id=unit.id,
        order_id=orders[-1].id,
        detail={
            "category_code": "A02010105",
            "orders": [o.number for o in orders] + ["DD-GONE"],
            "total": "207000.00",
            "ceiling": "200000.00",
            "reason": "三个校区分别采购",
        },
        raised_at=utcnow() - timedelta(hours=2),
    )
    substitution = raise_alert(
        AlertKind.SUBSTITUTION,
        "验收发现型号不符",
        unit_id=unit.id,
        supplier_id=supplier.id,
        order_id=orders[0].id,
        detail={
            "order_no": orders[0].number,
            "accepted": False,
            "note": "型号与合同不符",
            "lines": [
                {"line_id": 1, "supplier_sku": "SKU-X", "ordered_model": "M900", "delivered_model": "M700"}
            ],
        },
        raised_at=utcnow() - timedelta(hours=1),
    )
    db.session.flush()
    return {
        "unit": unit,
        "supplier": supplier,
        "orders": orders,
        "splitting": splitting,
        "substitution": substitution,
    }


def url(alert: Alert, action: str = "") -> str:
    return f"/oversight/alerts/{alert.id}" + (f"/{action}" if action else "")


def post(client, alert: Alert, action: str, **data):
    token = csrf_from(client, url(alert))
    return client.post(url(alert, action), data={"csrf_token": token, **data})


def status_of(alert: Alert) -> AlertStatus:
    return db.session.scalar(sa.select(Alert.status).where(Alert.id == alert.id))


def notes_of(alert: Alert) -> list[tuple]:
    return [
        (n.action, n.from_status, n.to_status, n.author_label, n.text)
        for n in db.session.scalars(
            sa.select(AlertNote).where(AlertNote.alert_id == alert.id).order_by(AlertNote.id)
        )
    ]


def audits(alert: Alert) -> list[tuple]:
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action.like("alert.%")).order_by(AuditEvent.id)
    )
    return [
        (e.action, e.detail.get("from_status"), e.detail.get("to_status"))
        for e in events
        if e.detail.get("alert_id") == alert.id
    ]


def log_entries(html: str) -> list[str]:
    page = parse(html)
    return [li.text for li in page.inside(page.one("ol", class_="timeline alert-log"), "li")]


# --------------------------------------------------------------------------------------------
# The workflow through the pages


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.OPERATOR])
def test_acknowledge_then_resolve_with_notes(client, scene, role):
    user = overseer(client, role, name="李处理")
    alert = scene["splitting"]
    org = user.organization.name

    response = post(client, alert, "status", to="acknowledged", note="  已电话联系单位核实  ")
    assert response.status_code == 302
    assert response.headers["Location"] == url(alert)
    assert status_of(alert) is A.ACKNOWLEDGED
    page = client.get(url(alert)).get_data(as_text=True)
    assert f"预警 #{alert.id} 已标记为已知悉。" in page

    response = post(client, alert, "status", to="resolved", note="单位补充了分校区采购说明，不属于拆单。")
    assert response.status_code == 302
    assert status_of(alert) is A.RESOLVED
    assert notes_of(alert) == [
        (AlertAction.ACKNOWLEDGE, "open", "acknowledged", f"李处理（{org}）", "已电话联系单位核实"),
        (
            AlertAction.RESOLVE,
            "acknowledged",
            "resolved",
            f"李处理（{org}）",
            "单位补充了分校区采购说明，不属于拆单。",
        ),
    ]
    assert audits(alert) == [
        ("alert.acknowledge", "open", "acknowledged"),
        ("alert.resolve", "acknowledged", "resolved"),
    ]

    html = client.get(url(alert)).get_data(as_text=True)
    assert f"预警 #{alert.id} 已办结。" in html
    entries = log_entries(html)
    assert len(entries) == 3
    assert entries[0].endswith("系统 发现预警")
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\d \d\d:\d\d · 李处理（{org}） 知悉（待处理 → 已知悉） 已电话联系单位核实",
        entries[1],
    )
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d"
    assert re.fullmatch(
        f"{when} · 李处理（{org}） 办结（已知悉 → 已办结） 单位补充了分校区采购说明，不属于拆单。", entries[2]
    )
    page = parse(html)
    assert page.one("span", class_="badge badge-alert badge-alert-resolved").text == "已办结"
    # No more moves are offered once resolved; notes still are.
    assert not page.find_all("form", action=url(alert, "status"))
    assert page.find_all("form", action=url(alert, "notes"))


def test_an_open_alert_can_be_resolved_directly(client, scene):
    overseer(client)
    alert = scene["substitution"]
    assert post(client, alert, "status", to="resolved", note="供应商已换货。").status_code == 302
    assert status_of(alert) is A.RESOLVED
    assert [n[:3] for n in notes_of(alert)] == [(AlertAction.RESOLVE, "open", "resolved")]


@pytest.mark.parametrize("note", ["", "   "])
def test_resolving_needs_a_note(client, scene, note):
    overseer(client)
    alert = scene["splitting"]
    response = post(client, alert, "status", to="resolved", note=note)
    assert response.status_code == 422
    page = parse(response.get_data(as_text=True))
    assert page.one("div", class_="error-summary").text.endswith("说明：办结预警须填写处理意见。")
    assert page.one("textarea", id="note-move-resolved").get("aria-invalid") == "true"
    assert status_of(alert) is A.OPEN
    assert notes_of(alert) == []
    assert audits(alert) == []


def test_resolving_twice_is_a_409_that_changes_nothing(client, scene):
    overseer(client)
    alert = scene["splitting"]
    assert post(client, alert, "status", to="resolved", note="第一次办结").status_code == 302
    # A second tab still shows the form; its post comes too late.
    token = csrf_from(client, url(alert))
    response = client.post(
        url(alert, "status"), data={"csrf_token": token, "to": "resolved", "note": "第二次办结的意见"}
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    page = parse(html)
    conflict = page.one("div", class_="notice notice-conflict")
    assert conflict.text.startswith(f"操作未完成：预警 #{alert.id} 已经是「已办结」状态，不能重复操作。")
    assert "第二次办结的意见" in conflict.text  # what was typed is not lost
    assert status_of(alert) is A.RESOLVED
    assert [n[4] for n in notes_of(alert)] == ["第一次办结"]
    assert audits(alert) == [("alert.resolve", "open", "resolved")]

    response = post(client, alert, "status", to="acknowledged", note="")
    assert response.status_code == 409
    assert f"预警 #{alert.id} 当前为「已办结」，不能变为「已知悉」。" in response.get_data(as_text=True)
    assert len(notes_of(alert)) == 1


@pytest.mark.parametrize(("start", "to"), list(product(list(A), [A.ACKNOWLEDGED, A.RESOLVED])))
def test_every_edge(db_session, scene, start, to):
    """The moves as data: allowed exactly when listed in workflow.MOVES."""
    user = factories.user(factories.org(OrgKind.REGULATOR), Role.REGULATOR)
    alert = scene["splitting"]
    alert.status = start
    db.session.flush()
    if (start, to) in workflow.MOVES:
        entry = workflow.move(alert, to, user, "说明")
        assert status_of(alert) is to
        assert (entry.from_status, entry.to_status) == (start.value, to.value)
    else:
        with pytest.raises(AlertMoveError) as refused:
            workflow.move(alert, to, user, "说明")
        assert refused.value.conflict is True
        assert status_of(alert) is start
        assert notes_of(alert) == []


def test_two_people_resolving_at_once_cannot_both_win(db_session, scene):
    """The second read the alert as open; by the time it writes, the first has resolved it."""
    first = factories.user(factories.org(OrgKind.REGULATOR), Role.REGULATOR)
    second = factories.user(factories.org(OrgKind.OPERATOR), Role.OPERATOR)
    alert = scene["splitting"]
    assert alert.status is A.OPEN  # what the second person's request loaded
    db.session.execute(
        sa.update(Alert)
        .where(Alert.id == alert.id)
        .values(status=A.RESOLVED)
        .execution_options(synchronize_session=False)
    )
    workflow.add_note(alert, first, "第一位已办结")  # (the first person's log row)
    with pytest.raises(AlertMoveError, match=rf"预警 #{alert.id} 的状态刚刚已被他人更改，请查看最新状态。"):
        workflow.move(alert, A.RESOLVED, second, "第二位的意见")
    assert [n[4] for n in notes_of(alert)] == ["第一位已办结"]


def test_notes_at_any_status(client, scene):
    overseer(client, name="王备注")
    alert = scene["substitution"]
    response = post(client, alert, "notes", note="已要求供应商说明原因")
    assert response.status_code == 302
    assert response.headers["Location"] == url(alert) + "#log"
    post(client, alert, "status", to="resolved", note="已换货")
    assert post(client, alert, "notes", note="办结后补充：换货单号 HX-01").status_code == 302
    assert [(n[0], n[4]) for n in notes_of(alert)] == [
        (AlertAction.NOTE, "已要求供应商说明原因"),
        (AlertAction.RESOLVE, "已换货"),
        (AlertAction.NOTE, "办结后补充：换货单号 HX-01"),
    ]
    assert status_of(alert) is A.RESOLVED  # a note moves nothing
    assert [a[0] for a in audits(alert)] == ["alert.note", "alert.resolve", "alert.note"]
    entries = log_entries(client.get(url(alert)).get_data(as_text=True))
    assert entries[1].endswith("王备注（市财政局监督检查处） 添加备注 已要求供应商说明原因")


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("notes", {"note": ""}, "说明：请填写备注内容"),
        ("notes", {"note": "  "}, "说明：请填写备注内容"),
        ("notes", {}, "说明：请填写备注内容"),
        ("notes", {"note": "长" * 2001}, "说明：备注不能超过 2000 个字"),
        ("status", {"to": "resolved", "note": "长" * 2001}, "说明：说明不能超过 2000 个字"),
        ("status", {"to": "closed"}, "操作：操作取值无效"),
        ("status", {"to": "open"}, "操作：操作取值无效"),
        ("status", {}, "操作：请选择操作"),
        ("status", {"to": "nonsense", "note": "长" * 2001}, "说明：说明不能超过 2000 个字"),
    ],
)
def test_bad_forms_are_422_and_change_nothing(client, scene, action, data, message):
    overseer(client)
    alert = scene["splitting"]
    response = post(client, alert, action, **data)
    assert response.status_code == 422
    page = parse(response.get_data(as_text=True))
    assert message in page.one("div", class_="error-summary").text
    for link in page.inside(page.one("div", class_="error-summary"), "a"):
        assert page.by_id(link.get("href")[1:]) is not None  # each message leads to its field
    assert status_of(alert) is A.OPEN
    assert notes_of(alert) == []
    assert audits(alert) == []


def test_a_post_without_its_csrf_token_is_refused(client, scene):
    overseer(client)
    alert = scene["splitting"]
    response = client.post(url(alert, "status"), data={"to": "resolved", "note": "无令牌"})
    assert response.status_code == 400
    assert status_of(alert) is A.OPEN
    assert notes_of(alert) == []


def test_an_unknown_alert_is_404(client, scene):
    overseer(client)
    assert client.get("/oversight/alerts/999999").status_code == 404
    token = csrf_from(client, url(scene["splitting"]))
    assert (
        client.post(
            "/oversight/alerts/999999/status", data={"csrf_token": token, "to": "resolved", "note": "x"}
        ).status_code
        == 404
    )


# --------------------------------------------------------------------------------------------
# Evidence


def test_the_splitting_alert_shows_the_orders_that_add_up(client, scene):
    overseer(client)
    alert = scene["splitting"]
    orders = scene["orders"]
    html = client.get(url(alert)).get_data(as_text=True)
    page = parse(html)
    assert page.one("h1").text == f"疑似拆单 #{alert.id}"
    table = page.one("table", class_="data-table evidence-table")
    rows = []
    for tr in page.inside(table, "tr"):
        cells = [c for c in page.inside(tr) if c.tag in ("td", "th") and c.parent is tr]
        if cells and cells[0].get("scope") != "col":
            rows.append([c.text for c in cells])
    assert [r[0] for r in rows] == [o.number for o in orders] + ["DD-GONE", "合计（现有订单）"]
    assert [r[4] for r in rows[:3]] == ["¥70,000.00", "¥65,000.00", "¥72,000.00"]
    assert rows[3][1] == "未找到该订单"
    assert rows[4][1] == "¥207,000.00"
    links = [a.get("href") for a in page.inside(table, "a")]
    assert links == [f"/orders/{o.id}" for o in orders]
    assert "品目：A02010105 台式计算机" in [p.text for p in page.find_all("p")]
    details = {dt.text: dd.text for dt, dd in zip(page.find_all("dt"), page.find_all("dd"), strict=True)}
    assert details["采购人说明"] == "三个校区分别采购"
    assert details["直购限额"] == "¥200,000.00"
    assert details["记录的金额"] == "¥207,000.00"
    assert details["订单编号"] == orders[-1].number  # the order that triggered it
    # The order it names is reachable from the alert: an oversight role may open it.
    assert client.get(f"/orders/{orders[-1].id}").status_code == 200


def test_the_substitution_alert_shows_the_lines(client, scene):
    overseer(client, Role.OPERATOR)
    html = client.get(url(scene["substitution"])).get_data(as_text=True)
    page = parse(html)
    table = page.one("table", class_="data-table evidence-table")
    assert page.inside(table, "caption")[0].text == "型号不符的商品"
    body = [c.text for c in page.inside(table, "td")]
    assert body == ["M900", "M700"]
    assert "验收结论" in html and "退货" in html and "型号与合同不符" in html


def test_the_list_counts_alerts_by_kind_and_status_and_links_to_each(client, scene):
    workflow.move(
        scene["substitution"], A.ACKNOWLEDGED, factories.user(factories.org(OrgKind.OPERATOR), Role.OPERATOR)
    )
    overseer(client)
    html = client.get("/oversight/alerts").get_data(as_text=True)
    page = parse(html)
    table = page.one("table", class_="count-table")
    rows = {}
    for tr in page.inside(table, "tr"):
        cells = [c for c in page.inside(tr) if c.tag in ("td", "th") and c.parent is tr]
        if cells[0].get("scope") == "row":
            rows[cells[0].text] = [c.text for c in cells[1:]]
    assert rows == {
        "疑似拆单": ["1", "0", "0", "1"],
        "供应商超时未确认": ["0", "0", "0", "0"],
        "采购人超时未验收": ["0", "0", "0", "0"],
        "采购人超时未付款": ["0", "0", "0", "0"],
        "验收发现型号不符": ["0", "1", "0", "1"],
        "价格高于市场参考价": ["0", "0", "0", "0"],
        "短期涨价幅度过大": ["0", "0", "0", "0"],
        "合计": ["1", "1", "0", "2"],
    }
    assert page.one("a", href="/oversight/alerts?kind=substitution&status=acknowledged").text == "1"
    # Each alert of the list opens its page.
    for alert in (scene["splitting"], scene["substitution"]):
        assert page.find_all("a", href=url(alert))


# --------------------------------------------------------------------------------------------
# Access


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        (Role.PURCHASER, OrgKind.PURCHASING_UNIT),
        (Role.APPROVER, OrgKind.PURCHASING_UNIT),
        (Role.SUPPLIER, OrgKind.SUPPLIER),
        (Role.FINANCE, OrgKind.FINANCE),
    ],
)
def test_other_roles_get_403_on_every_alert_url(client, scene, role, kind):
    # Even the unit and the supplier the alert is about.
    organization = {OrgKind.PURCHASING_UNIT: scene["unit"], OrgKind.SUPPLIER: scene["supplier"]}.get(kind)
    login(client, factories.user(organization or factories.org(kind), role).username)
    alert = scene["splitting"]
    token = csrf_from(client, "/")
    assert client.get(url(alert)).status_code == 403
    for action, data in (("status", {"to": "resolved", "note": "越权"}), ("notes", {"note": "越权"})):
        response = client.post(url(alert, action), data={"csrf_token": token, **data})
        assert response.status_code == 403
    assert status_of(alert) is A.OPEN
    assert notes_of(alert) == []
    assert audits(alert) == []


def test_the_service_refuses_other_roles_too(db_session, scene):
    purchaser = factories.user(scene["unit"], Role.PURCHASER)
    with pytest.raises(AlertMoveError, match="只有卖场运营和财政监管人员可以处理预警。"):
        workflow.move(scene["splitting"], A.RESOLVED, purchaser, "越权")
    with pytest.raises(AlertMoveError):
        workflow.add_note(scene["splitting"], purchaser, "越权")
    assert notes_of(scene["splitting"]) == []


def test_anonymous_visitors_are_sent_to_log_in(client, scene):
    response = client.get(url(scene["splitting"]))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_alert_page_is_accessible(client, scene):
    overseer(client)
    alert = scene["splitting"]
    for response in (client.get(url(alert)), post(client, alert, "status", to="resolved", note="")):
        page = parse(response.get_data(as_text=True))
        assert len(page.find_all("h1")) == 1
        labels = {label.get("for") for label in page.find_all("label")}
        for control in page.elements:
            if control.tag in ("input", "select", "textarea") and control.get("type") != "hidden":
                assert control.get("id") in labels, control.get("name")
        ids = page.ids()
        assert len(ids) == len(set(ids))
        for element in page.elements:
            for attribute in ("aria-labelledby", "aria-describedby"):
                for ref in (element.get(attribute) or "").split():
                    assert ref in ids, ref
            href = element.get("href") or ""
            if element.tag == "a" and href.startswith("#") and len(href) > 1:
                assert href[1:] in ids, href
        for table in page.find_all("table"):
            assert page.inside(table, "caption")
            for th in page.inside(table, "th"):
                assert th.get("scope") in ("col", "row")
        nav = page.one("nav", class_="main-nav")
        assert [a.text for a in page.inside(nav, "a", aria_current="true")] == ["预警"]


# --------------------------------------------------------------------------------------------
# Alerts raised from scenario data


def test_the_deadline_job_raises_a_late_payment_alert_that_is_worked_through(client, db_session):
    unit = factories.org(OrgKind.PURCHASING_UNIT, code="U200", name="通州区水务局")
    supplier = factories.org(OrgKind.SUPPLIER, code="S200", name="戊设备有限公司", is_sme=True)
    now = utcnow()
    order = make_order(
        unit,
        supplier,
        [(factories.product(), "3000.00", 2)],
        status=S.ACCEPTED,
        confirmed_at=now - timedelta(days=45),
        accepted_at=now - timedelta(days=40),
        pay_due_at=now - timedelta(days=10),
    )
    assert deadlines.enforce_deadlines(now) == {"cancelled": 0, "late_acceptance": 0, "late_payment": 1}
    assert deadlines.enforce_deadlines(now) == {"cancelled": 0, "late_acceptance": 0, "late_payment": 0}
    alert = db.session.scalar(sa.select(Alert).where(Alert.order_id == order.id))
    assert (alert.kind, alert.status, alert.unit_id) == (AlertKind.LATE_PAYMENT, A.OPEN, unit.id)

    overseer(client)
    html = client.get(url(alert)).get_data(as_text=True)
    page = parse(html)
    assert page.one("a", href=f"/orders/{order.id}", class_="code").text == order.number
    assert "¥6,000.00" in html
    # The public page counts it (and shows no order number).
    public = client.get("/late-payments/").get_data(as_text=True)
    listing = parse(public)
    row = next(
        [c.text for c in listing.inside(tr) if c.tag in ("td", "th")]
        for tr in listing.find_all("tr")
        if "通州区水务局" in tr.text
    )
    assert row == ["通州区水务局", "U200", "1", "0", "0", "1", "—"]
    assert order.number not in public

    assert post(client, alert, "status", to="acknowledged", note="已督促付款").status_code == 302
    assert post(client, alert, "status", to="resolved", note="单位已付款").status_code == 302
    assert status_of(alert) is A.RESOLVED


def test_a_price_alert_shows_its_evidence_and_odd_details_never_break_the_page(client, db_session):
    product = factories.product(name="联想 启天M450")
    offer = factories.offer(product, supplier_sku="SKU-PRICE-1", price=Decimal("5999.00"))
    alert = raise_alert(
        AlertKind.PRICE_ABOVE_REFERENCE,
        "报价高于市场参考价",
        supplier_id=offer.supplier_id,
        detail={
            "offer_id": offer.id,
            "product_id": product.id,
            "supplier_sku": "SKU-PRICE-1",
            "rule_id": 3,
            "rule": "高于参考价 10% 冻结",
            "price": "5999.00",
            "reference": "5299.00",
            "percent": "13.2",
            "action": "freeze",
        },
    )
    odd = raise_alert(
        AlertKind.PRICE_RISE,
        "格式异常的证据",
        detail={"price": "abc", "product_id": "7", "orders": "DD1", "lines": "x", "extra": {"a": 1}},
    )
    db.session.flush()
    overseer(client, Role.OPERATOR)
    page = parse(client.get(url(alert)).get_data(as_text=True))
    details = {dt.text: dd.text for dt, dd in zip(page.find_all("dt"), page.find_all("dd"), strict=True)}
    assert details == {
        "说明": "报价高于市场参考价",
        "采购单位": "—",
        "供应商": offer.supplier.name,
        "报价编号": str(offer.id),
        "商品": "查看商品",
        "货号": "SKU-PRICE-1",
        "触发的价格规则": "高于参考价 10% 冻结",
        "报价单价": "¥5,999.00",
        "比较的价格": "¥5,299.00",
        "高出比例（%）": "13.2",
        "处置方式": "冻结报价",
    }
    assert page.one("a", href=f"/products/{product.id}").text == "查看商品"
    response = client.get(url(odd))
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    details = {dt.text: dd.text for dt, dd in zip(page.find_all("dt"), page.find_all("dd"), strict=True)}
    assert details["报价单价"] == "abc"
    assert details["extra"] == '{"a": 1}'
    assert "商品" not in details
    assert not page.find_all("table", class_="data-table evidence-table")
