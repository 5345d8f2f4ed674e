"""The plan pages: the operator registers a plan (same validation as the API, idempotent by plan
number), everyone else may not; the detail page shows the ledger with links to the orders the
reader may open."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import OrgKind, Role
from app.core.audit import AuditEvent
from app.extensions import db
from app.orders.checkout import submit
from app.orders.models import Order
from app.procurement.models import ProcurementPlan
from tests import factories
from tests.conftest import csrf_from, login
from tests.orders.helpers import fill_cart, request_for, shop

NEW = "/plans/new"


@pytest.fixture
def catalogue(db_session):
    branch = factories.category(code="A02010100", name="计算机", is_leaf=False)
    return {
        "branch": branch,
        "desktop": factories.category(code="A02010105", name="台式计算机", parent=branch),
        "laptop": factories.category(code="A02010108", name="便携式计算机", parent=branch),
        "unit": factories.org(OrgKind.PURCHASING_UNIT, code="UNIT-110101", name="北京市某局"),
        "operator": factories.user(factories.org(OrgKind.OPERATOR), Role.OPERATOR),
    }


def logged_in(app, user):
    client = app.test_client()
    login(client, user.username)
    return client


def form(client, **overrides) -> dict:
    data = {
        "unit_code": "UNIT-110101",
        "plan_no": "JCJ-2026-0009",
        "name": "2026 年计算机购置",
        "fiscal_year": "2026",
        "budget_line_code": "2010301",
        "fund_source": "一般公共预算",
        "amount": "300,000.00",
        "category_codes": ["A02010105", "A02010108"],
        "csrf_token": csrf_from(client, NEW),
    }
    data.update(overrides)
    return data


def plans() -> list[ProcurementPlan]:
    return db.session.scalars(sa.select(ProcurementPlan).order_by(ProcurementPlan.id)).all()


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_form_offers_purchasing_units_and_catalogue_leaves(app, catalogue):
    factories.org(OrgKind.SUPPLIER, code="SUP-1", name="某供应商")
    client = logged_in(app, catalogue["operator"])
    response = client.get(NEW)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.findall(r'<option value="(UNIT-[^"]*|SUP-[^"]*)"', page) == ["UNIT-110101"]
    assert re.findall(r'<option value="(A\d{8})"', page) == ["A02010105", "A02010108"]
    assert '<optgroup label="A02010100 计算机">' in page
    assert 'name="fiscal_year" type="number"' in page
    assert "<script" not in page.split("</head>")[1]  # no inline scripts (CSP)


def test_the_operator_registers_a_plan(app, catalogue):
    client = logged_in(app, catalogue["operator"])
    response = client.post(NEW, data=form(client))
    [plan] = plans()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/plans/{plan.id}"
    assert (plan.plan_no, plan.unit_id, plan.amount, plan.fiscal_year) == (
        "JCJ-2026-0009",
        catalogue["unit"].id,
        Decimal("300000.00"),
        2026,
    )
    assert [c.code for c in plan.categories] == ["A02010105", "A02010108"]
    assert plan.ledger == []
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "plans.create")).all()
    assert event.user_id == catalogue["operator"].id
    assert event.detail == {"plan_no": "JCJ-2026-0009", "unit_code": "UNIT-110101", "amount": "300000.00"}
    page = text(client.get(response.headers["Location"]))
    assert "采购计划 JCJ-2026-0009 已登记。" in page
    assert "¥300,000.00" in page


def test_submitting_the_same_plan_twice_keeps_one(app, catalogue):
    client = logged_in(app, catalogue["operator"])
    client.post(NEW, data=form(client))
    response = client.post(NEW, data=form(client))
    [plan] = plans()
    assert response.headers["Location"] == f"/plans/{plan.id}"
    assert "采购计划 JCJ-2026-0009 已经登记过，内容相同，未作改动。" in text(client.get(f"/plans/{plan.id}"))


def test_the_same_number_with_other_content_is_409_and_the_form_is_kept(app, catalogue):
    client = logged_in(app, catalogue["operator"])
    client.post(NEW, data=form(client))
    response = client.post(NEW, data=form(client, amount="300000.01", name="改过的名称"))
    assert response.status_code == 409
    page = text(response)
    assert "计划编号 JCJ-2026-0009 已存在，且内容不同（计划名称、批复金额）" in page
    assert 'value="改过的名称"' in page
    assert 'value="300000.01"' in page
    [plan] = plans()
    assert (plan.name, plan.amount) == ("2026 年计算机购置", Decimal("300000.00"))


def test_missing_and_bad_fields_are_all_reported_and_nothing_is_created(app, catalogue):
    client = logged_in(app, catalogue["operator"])
    bad = form(client, unit_code="", name="  ", fiscal_year="明年", amount="12.345", category_codes=[])
    response = client.post(NEW, data=bad)
    assert response.status_code == 400
    page = text(response)
    for message in (
        "预算单位：请填写预算单位编码",
        "计划名称：请填写计划名称",
        "预算年度：预算年度应为整数",
        "批复金额（元）：金额格式不正确：应为最多两位小数的数字，例如 500000.00，收到「12.345」",
        "适用品目：请至少选择一个品目",
    ):
        assert message in page, message
    assert 'value="JCJ-2026-0009"' in page  # what was typed is kept
    assert 'aria-invalid="true"' in page
    assert plans() == []


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (["A02010100"], "品目 A02010100 不是末级品目，请选择其下的末级品目"),
        (["A02019999"], "品目 A02019999 不在 2022 版政府采购品目分类目录中"),
        (["电脑"], "品目编码格式不正确，例如 A02010105"),
    ],
)
def test_a_tampered_category_is_refused(app, catalogue, codes, message):
    client = logged_in(app, catalogue["operator"])
    response = client.post(NEW, data=form(client, category_codes=codes))
    assert response.status_code == 400
    assert f"适用品目：{message}" in text(response)
    assert plans() == []


def test_an_unknown_unit_is_refused(app, catalogue):
    client = logged_in(app, catalogue["operator"])
    response = client.post(NEW, data=form(client, unit_code="UNIT-X"))
    assert response.status_code == 400
    assert "预算单位：预算单位 UNIT-X 不存在" in text(response)
    assert plans() == []


def test_without_csrf_nothing_is_created(app, catalogue):
    client = logged_in(app, catalogue["operator"])
    response = client.post(NEW, data={**form(client), "csrf_token": "forged"})
    assert response.status_code == 400
    assert plans() == []


@pytest.mark.parametrize("role", [Role.PURCHASER, Role.APPROVER, Role.SUPPLIER, Role.REGULATOR, Role.FINANCE])
def test_only_operators_register_plans_on_pages(app, catalogue, role):
    kind = {
        Role.PURCHASER: OrgKind.PURCHASING_UNIT,
        Role.APPROVER: OrgKind.PURCHASING_UNIT,
        Role.SUPPLIER: OrgKind.SUPPLIER,
        Role.REGULATOR: OrgKind.REGULATOR,
        Role.FINANCE: OrgKind.FINANCE,
    }[role]
    user = factories.user(catalogue["unit"] if kind is OrgKind.PURCHASING_UNIT else factories.org(kind), role)
    client = logged_in(app, user)
    assert client.get(NEW).status_code == 403
    token = csrf_from(client, "/")
    response = client.post(NEW, data={**form(logged_in(app, catalogue["operator"])), "csrf_token": token})
    assert response.status_code == 403
    assert plans() == []
    if role in (Role.PURCHASER, Role.APPROVER, Role.REGULATOR, Role.FINANCE):
        assert "/plans/new" not in client.get("/plans/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login(client, catalogue):
    response = client.get(NEW)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_plan_list_offers_registration_to_operators(app, catalogue):
    page = logged_in(app, catalogue["operator"]).get("/plans/").get_data(as_text=True)
    assert 'href="/plans/new"' in page


# --------------------------------------------------------------------------------------------
# The detail page and its ledger


@pytest.fixture
def ordered(db_session):
    world = shop()
    fill_cart(world.purchaser, (world.offers[0], 2), (world.offers[1], 1))
    orders, _ = submit(world.purchaser, request_for(world.purchaser, world.plan))
    world.orders = sorted(orders, key=lambda o: o.id)
    return world


def test_the_detail_shows_the_ledger_with_links_to_visible_orders(app, ordered):
    client = logged_in(app, ordered.purchaser)
    page = text(client.get(f"/plans/{ordered.plan.id}"))
    figures = re.findall(r'<p class="figure-label">([^<]+)</p><p class="figure-value">([^<]+)</p>', page)
    assert figures == [
        ("批复金额", "¥100,000.00"),
        ("已预占", "¥8,000.00"),
        ("已核销", "¥0.00"),
        ("已释放", "¥0.00"),
        ("可用余额", "¥92,000.00"),
    ]
    for order in ordered.orders:
        assert f'<a href="/orders/{order.id}">{order.number}</a>' in page
    assert "预算合计与台账记录不一致" not in page


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.REGULATOR, Role.FINANCE])
def test_oversight_readers_get_links_exactly_to_the_orders_they_may_open(app, ordered, role):
    from app.orders.services import visible_orders

    reader = factories.user(factories.org(OrgKind(role.value)), role)
    page = text(logged_in(app, reader).get(f"/plans/{ordered.plan.id}"))
    may_open = set(db.session.scalars(visible_orders(reader).with_only_columns(Order.id)))
    for order in ordered.orders:
        link = f'<a href="/orders/{order.id}">{order.number}</a>'
        if order.id in may_open:
            assert link in page
        else:
            assert f"<td>{order.number}</td>" in page
            assert link not in page


def test_a_reference_that_is_no_order_is_shown_without_a_link(app, ordered):
    from app.procurement import services as budget

    budget.reserve(ordered.plan, Decimal("1.00"), reference="MANUAL-ADJ-1", note="测试")
    page = text(logged_in(app, ordered.purchaser).get(f"/plans/{ordered.plan.id}"))
    assert "<td>MANUAL-ADJ-1</td>" in page


def test_a_plan_whose_totals_disagree_with_its_ledger_says_so(app, ordered):
    ordered.plan.released = Decimal("1.00")  # a total that no ledger entry explains
    db.session.flush()
    page = text(logged_in(app, ordered.purchaser).get(f"/plans/{ordered.plan.id}"))
    assert "预算合计与台账记录不一致，请联系卖场运营核查。" in page


def test_another_units_plan_page_is_404(app, ordered):
    stranger = factories.user(factories.org(OrgKind.PURCHASING_UNIT), Role.PURCHASER)
    response = logged_in(app, stranger).get(f"/plans/{ordered.plan.id}")
    assert response.status_code == 404
    assert ordered.orders[0].number not in response.get_data(as_text=True)


def test_a_long_ledger_is_paged(app, db_session):
    from app.procurement import services as budget

    plan = factories.plan(amount=Decimal("1000.00"))
    for n in range(55):
        budget.reserve(plan, Decimal("1.00"), reference=f"DD-PAGE-{n:02d}")
    reader = factories.user(plan.unit, Role.PURCHASER)
    client = logged_in(app, reader)
    first = text(client.get(f"/plans/{plan.id}"))
    assert re.findall(r"DD-PAGE-\d\d", first) == [f"DD-PAGE-{n:02d}" for n in range(50)]
    assert f'href="/plans/{plan.id}?page=2"' in first
    second = text(client.get(f"/plans/{plan.id}?page=2"))
    assert re.findall(r"DD-PAGE-\d\d", second) == [f"DD-PAGE-{n:02d}" for n in range(50, 55)]
    # The figures are the plan's, whatever the page.
    assert '<p class="figure-value">¥55.00</p>' in second
    assert client.get(f"/plans/{plan.id}?page=0").status_code == 422
