"""Direct-order rules: how they resolve (most specific wins field by field, the strictest across an
order's categories), the operator's page (create, edit, refuse bad input, delete after a
confirmation, nobody else may touch it), and that a rule really changes what checkout does."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import OrgKind, Role
from app.core.audit import AuditEvent
from app.extensions import db
from app.orders import rule_views
from app.orders.checkout import CheckoutError, submit
from app.orders.models import Order, OrderRule, OrderStatus
from app.orders.rules import DEFAULTS, RuleSet, rules_for, strictest
from app.procurement.models import LedgerEntry
from tests import factories
from tests.conftest import csrf_from, login
from tests.orders.helpers import fill_cart, request_for, shop
from tests.ui.pages import parse

RULES = "/order-rules/"
BEIJING, SHANGHAI = "110000", "310000"


def rule(region_code=None, category=None, **values) -> OrderRule:
    record = OrderRule(region_code=region_code, category_id=category.id if category else None, **values)
    db.session.add(record)
    db.session.flush()
    return record


def rule_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OrderRule))


def audit_actions() -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like("order_rule.%")).order_by(AuditEvent.id)
        )
    )


# --------------------------------------------------------------------------------------------
# Resolution


def test_without_rules_the_defaults_of_the_design_apply(db_session):
    category = factories.category()
    resolved = rules_for(BEIJING, category.id)
    assert resolved == DEFAULTS
    assert dataclasses.asdict(resolved) == {
        "direct_ceiling": Decimal("200000.00"),
        "approval_threshold": Decimal("50000.00"),
        "comparison_required_above": Decimal("10000.00"),
        "confirm_hours": 48,
        "accept_days": 7,
        "pay_days": 30,
        "split_window_days": 30,
    }


def test_the_most_specific_rule_wins_field_by_field(db_session):
    category, other_category = factories.category(), factories.category()
    rule(direct_ceiling=Decimal("150000.00"), pay_days=20)  # mall-wide
    rule(BEIJING, approval_threshold=Decimal("30000.00"), direct_ceiling=Decimal("120000.00"))
    rule(None, category, direct_ceiling=Decimal("100000.00"), accept_days=5)
    rule(BEIJING, category, confirm_hours=24)

    assert rules_for(BEIJING, category.id) == RuleSet(
        direct_ceiling=Decimal("100000.00"),  # the category's rule beats the region's
        approval_threshold=Decimal("30000.00"),  # only the region sets it
        comparison_required_above=Decimal("10000.00"),  # nobody sets it: the default
        confirm_hours=24,  # region + category
        accept_days=5,
        pay_days=20,  # mall-wide
        split_window_days=30,
    )
    # Another region: the Beijing rules do not apply, the category and mall-wide ones do.
    assert rules_for(SHANGHAI, category.id) == RuleSet(
        direct_ceiling=Decimal("100000.00"),
        approval_threshold=Decimal("50000.00"),
        comparison_required_above=Decimal("10000.00"),
        confirm_hours=48,
        accept_days=5,
        pay_days=20,
        split_window_days=30,
    )
    # Another category in Beijing: the region's ceiling, not the category's.
    assert rules_for(BEIJING, other_category.id).direct_ceiling == Decimal("120000.00")
    assert rules_for(SHANGHAI, other_category.id).direct_ceiling == Decimal("150000.00")


def test_an_order_of_several_categories_follows_the_strictest_of_them(db_session):
    desktops, printers = factories.category(), factories.category(name="打印机")
    rule(None, desktops, direct_ceiling=Decimal("100000.00"), confirm_hours=72, pay_days=15)
    rule(None, printers, direct_ceiling=Decimal("150000.00"), confirm_hours=24, approval_threshold=Decimal(0))

    assert strictest(BEIJING, [desktops.id, printers.id, desktops.id]) == RuleSet(
        direct_ceiling=Decimal("100000.00"),
        approval_threshold=Decimal("0.00"),
        comparison_required_above=Decimal("10000.00"),
        confirm_hours=24,
        accept_days=7,
        pay_days=15,
        split_window_days=30,
    )
    assert strictest(BEIJING, [printers.id]).direct_ceiling == Decimal("150000.00")


def test_explain_names_where_each_value_comes_from_and_agrees_with_rules_for(db_session):
    category = factories.category()
    everywhere = rule(pay_days=20)
    beijing = rule(BEIJING, approval_threshold=Decimal("30000.00"))
    both = rule(BEIJING, category, confirm_hours=24)
    found = {item.name: item for item in rule_views.explain(BEIJING, category.id)}
    resolved = rules_for(BEIJING, category.id)
    assert {name: item.value for name, item in found.items()} == {
        name: getattr(resolved, name) for name in found
    }
    assert (found["confirm_hours"].source, found["confirm_hours"].rule_id) == (3, both.id)
    assert (found["approval_threshold"].source, found["approval_threshold"].rule_id) == (1, beijing.id)
    assert (found["pay_days"].source, found["pay_days"].rule_id) == (0, everywhere.id)
    assert (found["direct_ceiling"].source, found["direct_ceiling"].rule_id) == (None, None)


# --------------------------------------------------------------------------------------------
# The page


@pytest.fixture
def operator(client):
    user = factories.user(factories.org(OrgKind.OPERATOR), Role.OPERATOR)
    login(client, user.username)
    return user


def form(**values) -> dict:
    data = {"region_code": "", "category_code": ""}
    data.update({name: "" for name in rule_views.FIELDS})
    data.update(values)
    return data


def post(client, url: str, data: dict):
    return client.post(url, data={**data, "csrf_token": csrf_from(client, RULES)})


def test_the_list_shows_the_defaults_and_the_rules(client, operator):
    category = factories.category(name="台式计算机")
    rule(BEIJING, category, direct_ceiling=Decimal("80000.00"), confirm_hours=24)
    response = client.get(RULES)
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    defaults = {dt.text: dd.text for dt, dd in zip(page.find_all("dt"), page.find_all("dd"), strict=True)}
    assert defaults == {
        "直购限额（每单）": "¥200,000.00",
        "审批阈值": "¥50,000.00",
        "须附比价记录的金额": "¥10,000.00",
        "供应商确认时限（小时）": "48",
        "验收时限（天）": "7",
        "付款时限（天）": "30",
        "拆单监测窗口（天）": "30",
    }
    row = next(tr for tr in page.find_all("tr") if page.inside(tr, "th", scope="row"))
    cells = [cell.text for cell in page.inside(row, "th") + page.inside(row, "td")]
    assert cells[:9] == [
        "北京市",
        f"{category.code} 台式计算机",
        "¥80,000.00",
        "沿用",
        "沿用",
        "24",
        "沿用",
        "沿用",
        "沿用",
    ]
    assert page.one("p", class_="result-count").text == "共 1 条规则"
    nav = page.one("nav", class_="main-nav")
    assert [a.text for a in page.inside(nav, "a", aria_current="page")] == ["下单规则"]


def test_an_operator_creates_a_rule(client, operator):
    category = factories.category()
    response = post(
        client,
        "/order-rules/new",
        form(
            region_code=BEIJING,
            category_code=category.code.lower(),
            direct_ceiling="¥80,000",
            approval_threshold="0",
            confirm_hours="24",
            pay_days=" 15 ",
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == RULES
    created = db.session.scalars(sa.select(OrderRule)).one()
    assert (created.region_code, created.category_id) == (BEIJING, category.id)
    assert created.direct_ceiling == Decimal("80000.00")
    assert created.approval_threshold == Decimal("0.00")
    assert created.comparison_required_above is None
    assert (created.confirm_hours, created.accept_days, created.pay_days, created.split_window_days) == (
        24,
        None,
        15,
        None,
    )
    assert created.updated_by_id == operator.id
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "order_rule.created")).one()
    assert event.user_id == operator.id
    assert event.detail["values"]["direct_ceiling"] == "80000.00"
    assert event.detail["values"]["category_code"] == category.code
    follow = client.get(RULES).get_data(as_text=True)
    assert "已新建规则：北京市" in follow


def test_a_mall_wide_rule_has_neither_region_nor_category(client, operator):
    response = post(client, "/order-rules/new", form(split_window_days="60"))
    assert response.status_code == 302
    created = db.session.scalars(sa.select(OrderRule)).one()
    assert (created.region_code, created.category_id, created.split_window_days) == (None, None, 60)
    assert rules_for(SHANGHAI, None).split_window_days == 60


def test_an_operator_edits_a_rule_and_the_change_is_audited(client, operator):
    category = factories.category()
    existing = rule(BEIJING, category, direct_ceiling=Decimal("80000.00"), confirm_hours=24)
    url = f"/order-rules/{existing.id}/edit"
    page = parse(client.get(url).get_data(as_text=True))
    assert page.one("h1").text == "修改下单规则"
    assert page.one("title").text == "修改下单规则 · 政府采购电子卖场"
    assert page.one("input", name="direct_ceiling").get("value") == "80000.00"
    assert page.one("input", name="category_code").get("value") == category.code
    assert page.one("option", value=BEIJING).has("selected")

    response = post(
        client,
        url,
        form(region_code=BEIJING, category_code=category.code, direct_ceiling="90000.50", accept_days="3"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(OrderRule, existing.id)
    assert changed.direct_ceiling == Decimal("90000.50")
    assert (changed.confirm_hours, changed.accept_days) == (None, 3)
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "order_rule.updated")).one()
    assert event.detail["changes"] == {
        "direct_ceiling": ["80000.00", "90000.50"],
        "confirm_hours": [24, None],
        "accept_days": [None, 3],
    }


BAD_INPUT = [
    ({"direct_ceiling": "-1"}, "direct_ceiling", "直购限额应大于 0 元"),
    ({"direct_ceiling": "0"}, "direct_ceiling", "直购限额应大于 0 元"),
    ({"direct_ceiling": "100.005"}, "direct_ceiling", "金额最多保留两位小数"),
    ({"direct_ceiling": "二十万"}, "direct_ceiling", "应为数字"),
    ({"direct_ceiling": "NaN"}, "direct_ceiling", "不是有效的数字"),
    ({"direct_ceiling": "1e13"}, "direct_ceiling", "金额不能超过 999,999,999,999.99 元"),
    ({"approval_threshold": "-0.01"}, "approval_threshold", "审批阈值不能为负数"),
    ({"comparison_required_above": "-5"}, "comparison_required_above", "金额不能为负数"),
    ({"confirm_hours": "0"}, "confirm_hours", "应为 1–720 之间的整数（小时）"),
    ({"confirm_hours": "1.5"}, "confirm_hours", "应为正整数（小时）"),
    ({"accept_days": "-3"}, "accept_days", "应为 1–365 之间的整数（天）"),
    ({"pay_days": "366"}, "pay_days", "应为 1–365 之间的整数（天）"),
    ({"split_window_days": "abc"}, "split_window_days", "应为正整数（天）"),
    ({"pay_days": "30", "region_code": "999999"}, "region_code", "请选择有效的省级地区"),
    ({"pay_days": "30", "category_code": "台式机"}, "category_code", "品目编码格式不正确，例如 A02010105"),
    ({}, "_schema", "请至少填写一项规则值（留空的项沿用上级规则或默认值）"),
    (
        {"direct_ceiling": "50000", "approval_threshold": "60000"},
        "approval_threshold",
        "审批阈值不能高于直购限额",
    ),
]


@pytest.mark.parametrize(("values", "field", "message"), BAD_INPUT, ids=[str(case[0]) for case in BAD_INPUT])
def test_bad_input_is_refused_with_a_chinese_message_and_nothing_saved(
    client, operator, values, field, message
):
    response = post(client, "/order-rules/new", form(**values))
    assert response.status_code == 422
    page = parse(response.get_data(as_text=True))
    summary = page.one("div", class_="error-summary")
    assert message in summary.text
    if field != "_schema":
        assert page.one("p", id=f"{field}-error").text == f"错误：{message}"
        control = page.by_id(field)
        assert control.get("aria-invalid") == "true"
    # What was typed is kept for correcting it.
    for name, value in values.items():
        if name != "region_code":
            assert page.one(None, name=name).get("value") == value
    assert rule_count() == 0
    assert audit_actions() == []


def test_an_unknown_or_non_leaf_category_is_refused(client, operator):
    parent = factories.category(is_leaf=False)
    for code, expected in [
        ("A99999999", "品目编码 A99999999 不存在或不是 2022 版目录的末级品目"),
        (parent.code, f"品目编码 {parent.code} 不存在或不是 2022 版目录的末级品目"),
    ]:
        response = post(client, "/order-rules/new", form(category_code=code, pay_days="20"))
        assert response.status_code == 422
        error = parse(response.get_data(as_text=True)).one("p", id="category_code-error")
        assert error.text == f"错误：{expected}"
    assert rule_count() == 0


def test_a_second_rule_for_the_same_scope_is_refused(client, operator):
    category = factories.category()
    rule(BEIJING, category, pay_days=20)
    rule(None, None, pay_days=25)
    for values in ({"region_code": BEIJING, "category_code": category.code}, {}):
        response = post(client, "/order-rules/new", form(accept_days="3", **values))
        assert response.status_code == 422
        assert "已有一条规则，请修改那一条，不要重复创建" in response.get_data(as_text=True)
    assert rule_count() == 2
    # Moving another rule onto an existing scope is refused the same way.
    other = rule(SHANGHAI, category, pay_days=10)
    moved = form(region_code=BEIJING, category_code=category.code, pay_days="9")
    response = post(client, f"/order-rules/{other.id}/edit", moved)
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(OrderRule, other.id).region_code == SHANGHAI


def test_editing_with_bad_input_changes_nothing(client, operator):
    existing = rule(BEIJING, pay_days=20)
    response = post(client, f"/order-rules/{existing.id}/edit", form(region_code=BEIJING, pay_days="0"))
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(OrderRule, existing.id).pay_days == 20
    assert audit_actions() == []


def test_delete_asks_for_confirmation_first(client, operator):
    existing = rule(BEIJING, direct_ceiling=Decimal("80000.00"))
    url = f"/order-rules/{existing.id}/delete"
    response = client.get(url)
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    assert page.one("h1").text == "删除下单规则"
    assert "北京市 · 全部品目" in page.one("section", class_="card").text
    assert page.one("form", action=url).get("method") == "post"
    assert rule_count() == 1  # looking is not deleting

    response = post(client, url, {})
    assert response.status_code == 302
    assert rule_count() == 0
    assert audit_actions() == ["order_rule.deleted"]
    assert "已删除规则：北京市 · 全部品目" in client.get(RULES).get_data(as_text=True)
    assert client.get(url).status_code == 404
    assert post(client, url, {}).status_code == 404


def test_a_missing_rule_is_404(client, operator):
    assert client.get("/order-rules/999999/edit").status_code == 404
    assert post(client, "/order-rules/999999/edit", form(pay_days="3")).status_code == 404
    assert rule_count() == 0


def test_the_lookup_shows_the_effective_value_and_its_source(client, operator):
    category = factories.category()
    rule(BEIJING, approval_threshold=Decimal("30000.00"))
    rule(BEIJING, category, confirm_hours=24)
    response = client.get(f"{RULES}?region={BEIJING}&category={category.code}")
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    table = next(t for t in page.find_all("table") if "生效规则" in page.inside(t, "caption")[0].text)
    rows = {
        page.inside(tr, "th")[0].text: [td.text for td in page.inside(tr, "td")]
        for tr in page.inside(table, "tr")
        if page.inside(tr, "th", scope="row")
    }
    assert rows["供应商确认时限（小时）"] == ["24", "地区+品目规则（查看）"]
    assert rows["审批阈值"] == ["¥30,000.00", "地区规则（查看）"]
    assert rows["直购限额（每单）"] == ["¥200,000.00", "默认值"]


def test_a_bad_lookup_is_422_with_a_message(client, operator):
    response = client.get(f"{RULES}?region=123&category=A99999999")
    assert response.status_code == 422
    text = parse(response.get_data(as_text=True)).one("div", class_="error-summary").text
    assert "地区：请选择有效的省级地区" in text
    response = client.get(f"{RULES}?category=A99999999")
    assert response.status_code == 422
    assert "品目编码：品目编码不存在或不是末级品目" in response.get_data(as_text=True)


def test_the_pages_are_accessible(client, operator):
    existing = rule(BEIJING, pay_days=20)
    pages = {
        "list": client.get(f"{RULES}?region={BEIJING}").get_data(as_text=True),
        "new": client.get("/order-rules/new").get_data(as_text=True),
        "edit": client.get(f"/order-rules/{existing.id}/edit").get_data(as_text=True),
        "invalid": post(client, "/order-rules/new", form(pay_days="0")).get_data(as_text=True),
        "delete": client.get(f"/order-rules/{existing.id}/delete").get_data(as_text=True),
    }
    for name, html in pages.items():
        page = parse(html)
        assert len(page.find_all("h1")) == 1, name
        labels = {label.get("for") for label in page.find_all("label")}
        for control in page.elements:
            if control.tag in ("input", "select", "textarea") and control.get("type") != "hidden":
                assert control.get("id") in labels, (name, control.get("name"))
        ids = page.ids()
        assert len(ids) == len(set(ids)), name
        for element in page.elements:
            for ref in (element.get("aria-describedby") or "").split():
                assert ref in ids, (name, ref)
        for table in page.find_all("table"):
            assert page.inside(table, "caption"), name


@pytest.mark.parametrize("role", [Role.PURCHASER, Role.APPROVER, Role.SUPPLIER, Role.REGULATOR, Role.FINANCE])
def test_nobody_but_operators_may_open_or_change_the_rules(client, role):
    kind = {
        Role.PURCHASER: OrgKind.PURCHASING_UNIT,
        Role.APPROVER: OrgKind.PURCHASING_UNIT,
        Role.SUPPLIER: OrgKind.SUPPLIER,
        Role.REGULATOR: OrgKind.REGULATOR,
        Role.FINANCE: OrgKind.FINANCE,
    }[role]
    user = factories.user(factories.org(kind), role)
    existing = rule(BEIJING, pay_days=20)
    login(client, user.username)
    token = csrf_from(client, "/")
    changing = ("/order-rules/new", f"/order-rules/{existing.id}/edit", f"/order-rules/{existing.id}/delete")
    for url in (RULES, *changing):
        assert client.get(url).status_code == 403, url
    for url in changing:
        response = client.post(url, data=form(pay_days="1", csrf_token=token))
        assert response.status_code == 403, url
    assert "下单规则" not in client.get("/").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OrderRule, existing.id).pay_days == 20
    assert rule_count() == 1
    assert audit_actions() == []


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(RULES)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --------------------------------------------------------------------------------------------
# Rules change what checkout does


def test_a_lower_ceiling_set_on_the_page_refuses_an_order_at_checkout(client, operator):
    world = shop()
    fill_cart(world.purchaser, (world.offers[0], 2))  # ¥6,000
    request = request_for(world.purchaser, world.plan)
    response = post(
        client,
        "/order-rules/new",
        form(region_code=world.unit.region_code, category_code=world.category.code, direct_ceiling="5000"),
    )
    assert response.status_code == 302

    with pytest.raises(CheckoutError, match="订单金额超过直购限额") as refused:
        submit(world.purchaser, request)
    assert refused.value.details == [f"{world.suppliers[0].name}：¥6,000.00，直购限额 ¥5,000.00"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 0
    db.session.refresh(world.plan)
    assert world.plan.reserved == Decimal("0.00")

    # The same cart in another region is not bound by the Beijing rule.
    other = db.session.scalars(sa.select(OrderRule)).one()
    other.region_code = SHANGHAI
    db.session.flush()
    orders, _ = submit(world.purchaser, request)
    assert [o.total for o in orders] == [Decimal("6000.00")]


def test_rules_set_the_approval_threshold_and_the_confirm_deadline_of_new_orders(db_session):
    world = shop()
    rule(world.unit.region_code, world.category, approval_threshold=Decimal("2500.00"))
    rule(None, world.category, confirm_hours=12)
    fill_cart(world.purchaser, (world.offers[0], 1), (world.offers[1], 1))  # ¥3,000 and ¥2,000
    orders, _ = submit(world.purchaser, request_for(world.purchaser, world.plan))
    by_total = {o.total: o for o in orders}
    over, under = by_total[Decimal("3000.00")], by_total[Decimal("2000.00")]
    assert over.status is OrderStatus.PENDING_APPROVAL
    assert (over.needs_approval, over.confirm_due_at) == (True, None)
    assert under.status is OrderStatus.SUBMITTED
    assert under.confirm_due_at - under.submitted_at == timedelta(hours=12)
