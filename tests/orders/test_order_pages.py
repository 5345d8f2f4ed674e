"""The order pages through the client, on both databases: the lists, the approver's queue, the
order page with its timeline and buttons, the acceptance form (验收单) and the evaluation; 409 on
an illegal move with the page shown again and what was typed kept; other organizations get 404."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import current_app

from app.auth.models import OrgKind, Role
from app.compare import services as compare_services
from app.core.db import utcnow
from app.extensions import db
from app.orders.lifecycle import transition
from app.orders.models import Acceptance, Evaluation, Order, OrderEvent
from app.orders.models import OrderStatus as S
from app.oversight.models import Alert, AlertKind
from app.procurement.models import LedgerEntry
from app.procurement.services import ledger_sums
from tests import factories
from tests.conftest import csrf_from, login
from tests.orders.test_lifecycle import FINANCE, TOTAL, World, actor, reach, world
from tests.ui.pages import Page, assert_accessible, parse


@pytest.fixture
def w(db_session) -> World:
    return world()


def client_of(app, user):
    client = app.test_client()
    login(client, user.username)
    return client


def page_of(response) -> Page:
    return parse(response.get_data(as_text=True))


def post(client, url: str, data: dict | None = None):
    return client.post(url, data={"csrf_token": csrf_from(client, "/"), **(data or {})})


def refreshed(order: Order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


def history_count(order: Order) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(OrderEvent.order_id == order.id))


def ledger_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry))


def conflict_text(response) -> str:
    return page_of(response).one("div", class_="notice notice-conflict").text


def summary_text(response) -> str:
    return page_of(response).one("div", class_="error-summary").text


def move_url(order: Order) -> str:
    return f"/orders/{order.id}/status"


def acceptance_url(order: Order) -> str:
    return f"/orders/{order.id}/acceptance"


def acceptance_form(order: Order, **overrides) -> dict:
    (line,) = order.lines
    data = {
        f"received_{line.id}": str(line.quantity),
        f"model_{line.id}": line.model,
        f"serials_{line.id}": "",
        "note": "",
        "decision": "accept",
    }
    data.update(overrides)
    return data


# --------------------------------------------------------------------------------------------
# Lists


def test_the_unit_sees_its_orders_with_filters_and_paging(app, w):
    first = reach(w, S.SUBMITTED)
    second = reach(w, S.CANCELLED)
    stranger = world()
    theirs = reach(stranger, S.SUBMITTED)
    for user in (w.shop.purchaser, w.shop.approver):
        client = client_of(app, user)
        response = client.get("/orders/")
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert first.number in body and second.number in body
        assert theirs.number not in body
        page = page_of(response)
        assert page.one("p", class_="result-count").text == "共 2 个订单"
        assert page.one("h1").text == "我的订单"

    client = client_of(app, w.shop.purchaser)
    body = client.get("/orders/?status=cancelled").get_data(as_text=True)
    assert second.number in body and first.number not in body
    body = client.get(f"/orders/?q={first.number[-6:].lower()}").get_data(as_text=True)
    assert first.number in body and second.number not in body
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    body = client.get(f"/orders/?date_from={tomorrow}").get_data(as_text=True)
    assert "没有符合条件的订单。" in body and first.number not in body
    today = utcnow().date().isoformat()
    assert first.number in client.get(f"/orders/?date_from={today}&date_to={tomorrow}").get_data(as_text=True)

    one = page_of(client.get("/orders/?per_page=1"))
    assert one.one("p", class_="pager-status").text == "第 1 页，共 2 页"
    two = client.get("/orders/?per_page=1&page=2").get_data(as_text=True)
    assert first.number in two  # newest first: the cancelled one was placed last

    bad = client.get("/orders/?status=lost&date_from=2026-02-30")
    assert bad.status_code == 422
    assert "订单状态取值无效" in summary_text(bad)
    assert "日期格式不正确" in summary_text(bad)
    reversed_dates = client.get(f"/orders/?date_from={tomorrow}&date_to={today}")
    assert reversed_dates.status_code == 422
    assert "起始日期不能晚于截止日期" in summary_text(reversed_dates)


def test_a_supplier_sees_only_the_orders_sent_to_it(app, w):
    mine = reach(w, S.SUBMITTED)
    other_supplier = factories.user(w.shop.suppliers[1])
    client = client_of(app, w.shop.supplier_users[0])
    response = client.get("/orders/")
    page = page_of(response)
    assert page.one("h1").text == "订单管理"
    assert mine.number in response.get_data(as_text=True)
    assert w.shop.unit.name in response.get_data(as_text=True)  # the supplier sees who ordered
    body = client_of(app, other_supplier).get("/orders/").get_data(as_text=True)
    assert mine.number not in body


def test_oversight_and_finance_read_every_order_and_act_on_none(app, w):
    order = reach(w, S.SUBMITTED)
    for role, kind in (
        (Role.OPERATOR, OrgKind.OPERATOR),
        (Role.REGULATOR, OrgKind.REGULATOR),
        (Role.FINANCE, OrgKind.FINANCE),
    ):
        client = client_of(app, factories.user(factories.org(kind), role))
        listed = client.get("/orders/")
        assert page_of(listed).one("h1").text == "全部订单"
        assert order.number in listed.get_data(as_text=True)
        detail = client.get(f"/orders/{order.id}")
        assert detail.status_code == 200
        assert not page_of(detail).find_all("form", action=move_url(order))
        assert client.get(acceptance_url(order)).status_code == 200
        assert post(client, move_url(order), {"to": "cancelled", "note": "x"}).status_code == 403
        assert post(client, acceptance_url(order), acceptance_form(order)).status_code == 403
    assert refreshed(order).status is S.SUBMITTED
    assert history_count(order) == 1


def test_navigation_links_per_role(app, w):
    def nav(user) -> dict[str, str]:
        page = page_of(client_of(app, user).get("/"))
        return {a.text: a.get("href") for a in page.inside(page.one("nav", class_="main-nav"), "a")}

    assert nav(w.shop.purchaser)["我的订单"] == "/orders/"
    assert "待审批" not in nav(w.shop.purchaser)
    approver = nav(w.shop.approver)
    assert (approver["我的订单"], approver["待审批"]) == ("/orders/", "/orders/approvals")
    supplier = nav(w.shop.supplier_users[0])
    assert supplier["订单管理"] == "/orders/"
    assert "我的订单" not in supplier


# --------------------------------------------------------------------------------------------
# The order page


def test_the_order_page_shows_the_frozen_lines_plan_record_budget_check_and_timeline(app, w):
    other = factories.product(w.shop.category)
    factories.offer(other, w.shop.suppliers[1], price=Decimal("2500.00"))
    with current_app.test_request_context():
        record = compare_services.save_record(
            w.shop.purchaser, [w.shop.offers[0].product_id, other.id], title="电脑比价"
        )
    order = reach(w, S.SUBMITTED)
    order.comparison_record_id = record.id
    w.shop.offers[0].price = Decimal("3500.00")  # a later price change does not touch the order
    db.session.flush()

    response = client_of(app, w.shop.purchaser).get(f"/orders/{order.id}")
    assert response.status_code == 200
    page = page_of(response)
    assert page.one("h1").text == f"订单 {order.number}"
    (row,) = page.inside(page.one("table", class_="data-table"), "tr")[1:2]
    cells = [td.text for td in page.inside(row, "td")]
    assert cells[2:5] == ["¥3,000.00", "2", "¥6,000.00"]
    assert cells[5] == "¥5,299.00"  # the market reference price frozen with the line
    assert page.one("a", href=f"/plans/{w.shop.plan.id}").text == w.shop.plan.plan_no
    assert page.one("a", href=f"/compare/records/{record.id}").text == record.number
    body = response.get_data(as_text=True)
    assert "本地预算台账校验通过（未接入财政预算系统）" in body
    events = page.inside(page.one("ol", class_="timeline"), "li")
    assert len(events) == 1
    assert "待供应商确认" in events[0].text and w.shop.purchaser.display_name in events[0].text
    assert "提交订单" in events[0].text
    assert page.one("button", class_="danger").text == "取消订单…"

    # The supplier sees the record's number but no link to a page it may not open.
    supplier_page = page_of(client_of(app, w.shop.supplier_users[0]).get(f"/orders/{order.id}"))
    assert not supplier_page.find_all("a", href=f"/compare/records/{record.id}")
    assert not supplier_page.find_all("a", href=f"/plans/{w.shop.plan.id}")
    buttons = [b.text for b in supplier_page.find_all("button") if b.text not in ("退出", "搜索")]
    assert buttons == ["确认接单", "拒绝接单…"]


def test_the_timeline_lists_every_move_with_who_and_why(app, w):
    order = reach(w, S.DELIVERED)
    page = page_of(client_of(app, w.shop.purchaser).get(f"/orders/{order.id}"))
    texts = [li.text for li in page.inside(page.one("ol", class_="timeline"), "li")]
    assert len(texts) == 4
    assert "待供应商确认 → 已确认" in texts[1]
    assert "已确认 → 已发货" in texts[2]
    assert "已发货 → 已送达" in texts[3]
    assert all(w.shop.supplier_users[0].display_name in text for text in texts[1:])
    assert page.one("a", href=acceptance_url(order)).text == "填写验收单"


# --------------------------------------------------------------------------------------------
# The approver


def test_the_approver_approves_from_the_queue(app, w):
    order = reach(w, S.PENDING_APPROVAL)
    approver = client_of(app, w.shop.approver)
    queue = approver.get("/orders/approvals")
    assert queue.status_code == 200
    assert order.number in queue.get_data(as_text=True)
    assert client_of(app, w.shop.purchaser).get("/orders/approvals").status_code == 403

    response = post(approver, move_url(order), {"to": "submitted", "next": "/orders/approvals"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/orders/approvals"
    order = refreshed(order)
    assert order.status is S.SUBMITTED
    assert order.confirm_due_at is not None
    assert order.history[-1].actor_id == w.shop.approver.id
    after = approver.get("/orders/approvals").get_data(as_text=True)
    assert f"已批准订单 {order.number}，已发送给供应商确认。" in after
    assert "没有待审批的订单。" in after


def test_the_approver_rejects_with_a_reason_after_confirming(app, w):
    order = reach(w, S.PENDING_APPROVAL)
    approver = client_of(app, w.shop.approver)
    ledger = ledger_count()

    missing = post(approver, move_url(order), {"to": "rejected", "note": "  "})
    assert missing.status_code == 422
    assert "请填写原因（对方会看到）" in summary_text(missing)

    asked = post(approver, move_url(order), {"to": "rejected", "note": "预算另有安排"})
    assert asked.status_code == 200
    page = page_of(asked)
    assert page.one("h1").text == f"确认驳回订单 {order.number}？"
    assert page.one("input", name="confirm").get("value") == "1"
    assert page.one("input", name="note").get("value") == "预算另有安排"
    assert refreshed(order).status is S.PENDING_APPROVAL
    assert ledger_count() == ledger

    done = post(approver, move_url(order), {"to": "rejected", "note": "预算另有安排", "confirm": "1"})
    assert done.status_code == 302
    order = refreshed(order)
    assert order.status is S.REJECTED
    assert order.history[-1].note == "预算另有安排"
    plan = order.plan
    assert (plan.reserved, plan.released) == (Decimal("0.00"), TOTAL)
    assert ledger_sums(plan.id)["released"] == TOTAL


# --------------------------------------------------------------------------------------------
# The supplier


def test_confirming_twice_answers_409_and_changes_nothing(app, w):
    order = reach(w, S.SUBMITTED)
    supplier = client_of(app, w.shop.supplier_users[0])
    assert post(supplier, move_url(order), {"to": "confirmed"}).status_code == 302
    assert refreshed(order).status is S.CONFIRMED
    events = history_count(order)

    again = post(supplier, move_url(order), {"to": "confirmed"})
    assert again.status_code == 409
    assert f"订单 {order.number} 当前为「已确认」，不能变为「已确认」。" in conflict_text(again)
    assert page_of(again).one("h1").text == f"订单 {order.number}"  # the order page, shown again
    assert history_count(order) == events
    assert refreshed(order).status is S.CONFIRMED


def test_the_supplier_rejects_with_a_reason(app, w):
    order = reach(w, S.SUBMITTED)
    supplier = client_of(app, w.shop.supplier_users[0])
    asked = post(supplier, move_url(order), {"to": "rejected", "note": "缺货"})
    assert page_of(asked).one("h1").text == f"确认拒绝订单 {order.number}？"
    assert refreshed(order).status is S.SUBMITTED
    done = post(supplier, move_url(order), {"to": "rejected", "note": "缺货", "confirm": "1"})
    assert done.status_code == 302
    order = refreshed(order)
    assert order.status is S.REJECTED
    assert order.plan.released == TOTAL
    body = client_of(app, w.shop.purchaser).get(f"/orders/{order.id}").get_data(as_text=True)
    assert "缺货" in body


def test_a_cancel_that_arrives_after_the_confirmation_is_409_and_keeps_the_reason(app, w):
    order = reach(w, S.SUBMITTED)
    buyer = client_of(app, w.shop.purchaser)
    asked = post(buyer, move_url(order), {"to": "cancelled", "note": "需求取消了"})
    assert page_of(asked).one("h1").text == f"确认取消订单 {order.number}？"
    # Meanwhile the supplier confirms.
    assert (
        post(client_of(app, w.shop.supplier_users[0]), move_url(order), {"to": "confirmed"}).status_code
        == 302
    )

    late = post(buyer, move_url(order), {"to": "cancelled", "note": "需求取消了", "confirm": "1"})
    assert late.status_code == 409
    notice = conflict_text(late)
    assert f"订单 {order.number} 当前为「已确认」，不能变为「已取消」。" in notice
    assert "需求取消了" in notice  # what was typed is shown back
    order = refreshed(order)
    assert order.status is S.CONFIRMED
    assert (order.plan.reserved, order.plan.released) == (TOTAL, Decimal("0.00"))


def test_shipping_needs_a_tracking_number_then_delivery(app, w):
    order = reach(w, S.CONFIRMED)
    supplier = client_of(app, w.shop.supplier_users[0])
    missing = post(supplier, move_url(order), {"to": "shipped", "tracking_number": " "})
    assert missing.status_code == 422
    assert "发货须填写物流单号" in summary_text(missing)
    bad = post(supplier, move_url(order), {"to": "shipped", "tracking_number": "SF 123 456"})
    assert bad.status_code == 422
    assert "物流单号应为 4–64 位字母、数字或 - _ /" in summary_text(bad)
    assert page_of(bad).one("input", name="tracking_number").get("value") == "SF 123 456"
    assert refreshed(order).status is S.CONFIRMED

    assert (
        post(supplier, move_url(order), {"to": "shipped", "tracking_number": "SF1234567890"}).status_code
        == 302
    )
    order = refreshed(order)
    assert (order.status, order.tracking_number) == (S.SHIPPED, "SF1234567890")
    assert post(supplier, move_url(order), {"to": "delivered"}).status_code == 302
    order = refreshed(order)
    assert order.status is S.DELIVERED
    assert order.accept_due_at == order.delivered_at + timedelta(days=7)
    body = client_of(app, w.shop.purchaser).get(f"/orders/{order.id}").get_data(as_text=True)
    assert "SF1234567890" in body


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"to": "paid"}, "to", "不支持的操作"),
        ({"to": "accepted"}, "to", "不支持的操作"),
        ({}, "to", "请选择操作"),
        ({"to": "cancelled", "note": "长" * 1001}, "note", "说明不能超过 1000 个字符"),
    ],
)
def test_bad_move_input_is_a_422_with_a_message(app, w, data, field, message):
    order = reach(w, S.SUBMITTED)
    response = post(client_of(app, w.shop.purchaser), move_url(order), data)
    assert response.status_code == 422
    assert message in summary_text(response)
    assert refreshed(order).status is S.SUBMITTED


def test_a_post_without_csrf_is_refused(app, w):
    order = reach(w, S.SUBMITTED)
    response = client_of(app, w.shop.supplier_users[0]).post(move_url(order), data={"to": "confirmed"})
    assert response.status_code == 400
    assert refreshed(order).status is S.SUBMITTED


# --------------------------------------------------------------------------------------------
# Acceptance


def test_the_acceptance_page_before_delivery_explains_when(app, w):
    order = reach(w, S.SHIPPED)
    page = page_of(client_of(app, w.shop.purchaser).get(acceptance_url(order)))
    assert page.one("p", class_="empty-title").text == "订单尚未送达。"
    assert not page.find_all("form", action=acceptance_url(order))


def test_accepting_in_full_keeps_the_record_for_both_sides(app, w):
    order = reach(w, S.DELIVERED)
    buyer = client_of(app, w.shop.purchaser)
    form_page = page_of(buyer.get(acceptance_url(order)))
    (line,) = order.lines
    assert form_page.one("input", name=f"received_{line.id}").get("value") == "2"
    assert form_page.one("input", name=f"model_{line.id}").get("value") == ""  # typed from the label

    response = post(
        buyer, acceptance_url(order), acceptance_form(order, **{f"serials_{line.id}": "SN-A1\r\nSN-A2\r\n"})
    )
    assert response.status_code == 302
    assert response.headers["Location"] == acceptance_url(order)
    order = refreshed(order)
    assert order.status is S.ACCEPTED
    assert order.acceptance.lines[0]["serial_numbers"] == ["SN-A1", "SN-A2"]
    assert order.pay_due_at == order.accepted_at + timedelta(days=30)

    for user in (w.shop.purchaser, w.shop.supplier_users[0]):
        record = client_of(app, user).get(acceptance_url(order))
        assert record.status_code == 200
        text = page_of(record).one("dl", class_="summary-list").text
        assert "验收通过" in text and "与订单一致" in text
        assert "SN-A2" in record.get_data(as_text=True)


def test_a_different_model_is_flagged_as_a_substitution(app, w):
    order = reach(w, S.DELIVERED)
    (line,) = order.lines
    buyer = client_of(app, w.shop.purchaser)
    refused = post(buyer, acceptance_url(order), acceptance_form(order, **{f"model_{line.id}": "OTHER-9"}))
    assert refused.status_code == 422
    assert "实收型号与订单不符" in summary_text(refused)
    assert page_of(refused).one("input", name=f"model_{line.id}").get("value") == "OTHER-9"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 0

    done = post(
        buyer,
        acceptance_url(order),
        acceptance_form(order, **{f"model_{line.id}": "OTHER-9", "note": "同价高配，单位同意接收"}),
    )
    assert done.status_code == 302
    order = refreshed(order)
    assert order.status is S.ACCEPTED
    assert order.acceptance.substitution is True
    alert = db.session.scalars(sa.select(Alert)).one()
    assert (alert.kind, alert.order_id, alert.supplier_id) == (
        AlertKind.SUBSTITUTION,
        order.id,
        order.supplier_id,
    )
    assert f"订购型号 {line.model}，实收 OTHER-9" in alert.message

    record = page_of(client_of(app, w.shop.supplier_users[0]).get(acceptance_url(order)))
    assert [s.text for s in record.find_all("strong", class_="substituted")] == [
        "实收型号与订单不符（已通知监管部门）",
        "型号不符",
    ]
    regulator = factories.user(factories.org(OrgKind.REGULATOR), Role.REGULATOR)
    detail = client_of(app, regulator).get(f"/orders/{order.id}").get_data(as_text=True)
    assert "实收型号与订单不符（已通知监管部门）" in detail


def test_a_short_delivery_cannot_be_accepted_and_the_form_is_kept(app, w):
    order = reach(w, S.DELIVERED)
    (line,) = order.lines
    response = post(
        client_of(app, w.shop.purchaser),
        acceptance_url(order),
        acceptance_form(order, **{f"received_{line.id}": "1", f"serials_{line.id}": "SN-1"}),
    )
    assert response.status_code == 422
    page = page_of(response)
    assert "实收 1 件，少于订购的 2 件，不能验收" in page.one("p", id=f"received_{line.id}-error").text
    assert page.one("input", name=f"received_{line.id}").get("value") == "1"
    assert page.one("textarea", name=f"serials_{line.id}").text == "SN-1"
    assert refreshed(order).status is S.DELIVERED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Acceptance)) == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"received": "abc"}, "received", "实收数量应为 0–9999 之间的整数"),
        ({"received": "-1"}, "received", "实收数量应为 0–9999 之间的整数"),
        ({"received": None}, "received", "请填写实收数量"),
        ({"model": " "}, "model", "请按铭牌填写实收型号"),
        ({"serials": "SN 1\nSN2"}, "serials", "序列号「SN 1」无效"),
    ],
)
def test_bad_acceptance_input_is_a_422_on_its_field(app, w, overrides, field, message):
    order = reach(w, S.DELIVERED)
    (line,) = order.lines
    data = acceptance_form(order)
    for prefix, value in overrides.items():
        if value is None:
            data.pop(f"{prefix}_{line.id}")
        else:
            data[f"{prefix}_{line.id}"] = value
    response = post(client_of(app, w.shop.purchaser), acceptance_url(order), data)
    assert response.status_code == 422
    assert message in page_of(response).one("p", id=f"{field}_{line.id}-error").text
    assert refreshed(order).status is S.DELIVERED


def test_returning_asks_for_a_reason_and_a_confirmation(app, w):
    order = reach(w, S.DELIVERED)
    (line,) = order.lines
    buyer = client_of(app, w.shop.purchaser)
    data = acceptance_form(order, decision="return", **{f"received_{line.id}": "1"})

    missing = post(buyer, acceptance_url(order), data)
    assert missing.status_code == 422
    assert "退货须写明原因（供应商会看到）" in summary_text(missing)

    data["note"] = "只到货 1 台，且外包装破损"
    asked = post(buyer, acceptance_url(order), data)
    assert asked.status_code == 200
    page = page_of(asked)
    assert page.one("h2", id="confirm-title").text == "确认退货？"
    assert page.one("input", name=f"received_{line.id}").get("type") == "hidden"
    assert refreshed(order).status is S.DELIVERED

    edit = post(buyer, acceptance_url(order), {**data, "edit": "1"})
    assert edit.status_code == 200
    assert page_of(edit).one("input", name=f"received_{line.id}").get("value") == "1"
    assert page_of(edit).one("textarea", name="note").text == "只到货 1 台，且外包装破损"

    done = post(buyer, acceptance_url(order), {**data, "confirm": "1"})
    assert done.status_code == 302
    order = refreshed(order)
    assert order.status is S.RETURNED
    assert order.acceptance.accepted is False
    assert order.history[-1].note == "只到货 1 台，且外包装破损"
    assert (order.plan.reserved, order.plan.released) == (Decimal("0.00"), TOTAL)


def test_a_second_acceptance_is_409(app, w):
    order = reach(w, S.DELIVERED)
    buyer = client_of(app, w.shop.purchaser)
    assert post(buyer, acceptance_url(order), acceptance_form(order)).status_code == 302
    again = post(buyer, acceptance_url(order), acceptance_form(order, note="再次提交"))
    assert again.status_code == 409
    notice = conflict_text(again)
    assert f"订单 {order.number} 当前为「已验收」，不能变为「已验收」。" in notice
    assert "再次提交" in notice
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Acceptance)) == 1


def test_only_the_purchaser_posts_an_acceptance(app, w):
    order = reach(w, S.DELIVERED)
    for user in (w.shop.approver, w.shop.supplier_users[0]):
        assert post(client_of(app, user), acceptance_url(order), acceptance_form(order)).status_code == 403
    assert refreshed(order).status is S.DELIVERED


# --------------------------------------------------------------------------------------------
# Evaluation


def test_evaluation_is_saved_once(app, w):
    order = reach(w, S.ACCEPTED)
    buyer = client_of(app, w.shop.purchaser)
    form = page_of(buyer.get(f"/orders/{order.id}")).one("form", action=f"/orders/{order.id}/evaluation")
    assert form is not None

    bad = post(buyer, f"/orders/{order.id}/evaluation", {"quality": "6", "delivery": "", "service": "3"})
    assert bad.status_code == 422
    text = summary_text(bad)
    assert "商品质量：请选择 1–5 星" in text and "交付时效：请为交付时效打分" in text
    assert page_of(bad).one("input", id="service-3").has("checked")  # the choice is kept

    good = post(
        buyer,
        f"/orders/{order.id}/evaluation",
        {"quality": "5", "delivery": "4", "service": "3", "comment": "按时送达"},
    )
    assert good.status_code == 302
    evaluation = db.session.scalars(sa.select(Evaluation)).one()
    assert (evaluation.quality, evaluation.delivery, evaluation.service) == (5, 4, 3)
    assert evaluation.comment == "按时送达"
    assert refreshed(order).status is S.ACCEPTED
    page = page_of(buyer.get(f"/orders/{order.id}"))
    assert not page.find_all("form", action=f"/orders/{order.id}/evaluation")
    assert "按时送达" in page.one("section", id="evaluation").text

    again = post(buyer, f"/orders/{order.id}/evaluation", {"quality": "1", "delivery": "1", "service": "1"})
    assert again.status_code == 409
    assert f"订单 {order.number} 已评价，评价只能提交一次。" in conflict_text(again)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) == 1


def test_evaluating_a_paid_order_completes_it(app, w):
    order = reach(w, S.PAID)
    buyer = client_of(app, w.shop.purchaser)
    response = post(
        buyer, f"/orders/{order.id}/evaluation", {"quality": "4", "delivery": "5", "service": "5"}
    )
    assert response.status_code == 302
    assert refreshed(order).status is S.COMPLETED
    assert f"感谢评价。订单 {order.number} 已完成。" in buyer.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_no_evaluation_before_acceptance(app, w):
    order = reach(w, S.DELIVERED)
    buyer = client_of(app, w.shop.purchaser)
    assert not page_of(buyer.get(f"/orders/{order.id}")).find_all("section", id="evaluation")
    response = post(
        buyer, f"/orders/{order.id}/evaluation", {"quality": "5", "delivery": "5", "service": "5"}
    )
    assert response.status_code == 409
    assert "验收通过后才能评价" in conflict_text(response)


# --------------------------------------------------------------------------------------------
# Other organizations


def test_other_organizations_get_404_on_every_order_page(app, w):
    order = reach(w, S.DELIVERED)
    strangers = [
        w.other_unit_users["purchaser"],
        w.other_unit_users["approver"],
        w.shop.supplier_users[1],  # another supplier
    ]
    for user in strangers:
        client = client_of(app, user)
        for url in (f"/orders/{order.id}", acceptance_url(order)):
            assert client.get(url).status_code == 404, (user.role, url)
        assert post(client, move_url(order), {"to": "delivered"}).status_code == 404
        if user.role is Role.PURCHASER:
            assert post(client, acceptance_url(order), acceptance_form(order)).status_code == 404
            assert (
                post(
                    client,
                    f"/orders/{order.id}/evaluation",
                    {"quality": "1", "delivery": "1", "service": "1"},
                ).status_code
                == 404
            )
    assert refreshed(order).status is S.DELIVERED
    assert client_of(app, w.shop.purchaser).get("/orders/999999").status_code == 404


def test_moves_by_the_wrong_side_are_409_not_silent(app, w):
    """The buyer cannot confirm for the supplier and the supplier cannot cancel for the buyer."""
    order = reach(w, S.SUBMITTED)
    buyer = post(client_of(app, w.shop.purchaser), move_url(order), {"to": "confirmed"})
    assert buyer.status_code == 409
    assert f"您无权将订单 {order.number} 从「待供应商确认」变为「已确认」。" in conflict_text(buyer)
    supplier = post(
        client_of(app, w.shop.supplier_users[0]),
        move_url(order),
        {"to": "cancelled", "note": "x", "confirm": "1"},
    )
    assert supplier.status_code == 409
    assert refreshed(order).status is S.SUBMITTED


# --------------------------------------------------------------------------------------------
# Accessibility of the new pages


def test_order_pages_are_labelled_and_structured(app, w):
    delivered = reach(w, S.DELIVERED)
    accepted = reach(w, S.ACCEPTED)
    pending = reach(w, S.PENDING_APPROVAL)  # last: it adds a low approval threshold for the unit
    pages = {
        "list": (w.shop.purchaser, "/orders/"),
        "approvals": (w.shop.approver, "/orders/approvals"),
        "detail approver": (w.shop.approver, f"/orders/{pending.id}"),
        "detail buyer": (w.shop.purchaser, f"/orders/{accepted.id}"),
        "acceptance form": (delivered.buyer, acceptance_url(delivered)),
    }
    for name, (user, url) in pages.items():
        response = client_of(app, user).get(url)
        assert response.status_code == 200, name
        page = page_of(response)
        assert_accessible(name, page)
        for table in page.find_all("table"):
            assert page.inside(table, "caption"), name
            assert all(th.get("scope") in ("col", "row") for th in page.inside(table, "th")), name


def test_deadline_passed_shows_overdue_and_refuses_confirmation(app, w):
    order = reach(w, S.SUBMITTED)
    order.confirm_due_at = utcnow() - timedelta(hours=1)
    db.session.flush()
    supplier = client_of(app, w.shop.supplier_users[0])
    page = page_of(supplier.get(f"/orders/{order.id}"))
    assert page.find_all("strong", class_="overdue")
    response = post(supplier, move_url(order), {"to": "confirmed"})
    assert response.status_code == 409
    assert f"订单 {order.number} 已超过确认时限，不能再确认。" in conflict_text(response)
    assert refreshed(order).status is S.SUBMITTED


def test_payment_moves_are_not_buttons_here(app, w):
    order = reach(w, S.ACCEPTED)
    transition(order, S.PAYMENT_PENDING, actor(w, FINANCE))
    db.session.flush()
    page = page_of(client_of(app, w.shop.purchaser).get(f"/orders/{order.id}"))
    assert not page.find_all("form", action=move_url(order))
    assert not page.find_all("form", action=acceptance_url(order))
