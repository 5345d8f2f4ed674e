"""POST /api/v1/plans (finance systems and the operator register plans, idempotent by plan number)
and GET /api/v1/plans/{plan_id}/ledger (the budget ledger entry by entry)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.auth.models import OrgKind
from app.core.audit import AuditEvent
from app.extensions import db
from app.orders import checkout
from app.procurement import services as budget
from app.procurement.models import LedgerEntry, PlanStatus, ProcurementPlan
from tests import factories
from tests.api.helpers import assert_json_error, bearer, issue
from tests.conftest import make_test_config


@pytest.fixture
def world(db_session):
    branch = factories.category(code="A02010100", name="计算机", is_leaf=False)
    desktop = factories.category(code="A02010105", name="台式计算机", parent=branch)
    laptop = factories.category(code="A02010108", name="便携式计算机", parent=branch)
    old = factories.category(code="A02010199", name="旧目录品目", catalog_version="2013")
    unit = factories.org(OrgKind.PURCHASING_UNIT, code="UNIT-110101", name="北京市某局")
    finance = factories.org(OrgKind.FINANCE, name="北京市财政局预算系统")
    return {"unit": unit, "finance": finance, "desktop": desktop, "laptop": laptop, "old": old}


def body(**overrides) -> dict:
    values = {
        "unit_code": "UNIT-110101",
        "plan_no": "JCJ-2026-0001",
        "name": "2026 年办公设备购置",
        "fiscal_year": 2026,
        "budget_line_code": "2010301",
        "fund_source": "一般公共预算",
        "amount": "500000.00",
        "category_codes": ["A02010105", "A02010108"],
    }
    values.update(overrides)
    return values


def post(client, token, payload):
    return client.post("/api/v1/plans", json=payload, headers=bearer(token))


def plan_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ProcurementPlan))


def audits() -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "plans.api_create")).all()


@pytest.mark.parametrize("kind", [OrgKind.FINANCE, OrgKind.OPERATOR])
def test_finance_and_operator_register_a_plan(client, world, kind):
    organization = world["finance"] if kind is OrgKind.FINANCE else factories.org(kind)
    token = issue(organization, scopes=["plans:write"])
    response = post(client, token, body(amount="500,000.5"))
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.get_json()["data"]
    plan = db.session.scalar(sa.select(ProcurementPlan).where(ProcurementPlan.plan_no == "JCJ-2026-0001"))
    assert response.headers["Location"] == f"/api/v1/plans/{plan.id}"
    assert {k: v for k, v in data.items() if k != "approved_at"} == {
        "id": plan.id,
        "plan_no": "JCJ-2026-0001",
        "name": "2026 年办公设备购置",
        "fiscal_year": 2026,
        "unit": {"id": world["unit"].id, "code": "UNIT-110101", "name": "北京市某局"},
        "budget_line_code": "2010301",
        "fund_source": "一般公共预算",
        "amount": "500000.50",
        "reserved": "0.00",
        "consumed": "0.00",
        "released": "0.00",
        "available": "500000.50",
        "status": "approved",
        "categories": [
            {"catalog_version": "2022", "code": "A02010105", "name": "台式计算机"},
            {"catalog_version": "2022", "code": "A02010108", "name": "便携式计算机"},
        ],
    }
    assert plan.amount == Decimal("500000.50")
    assert plan.status is PlanStatus.APPROVED
    assert plan.ledger == []
    [event] = audits()
    assert event.organization_id == organization.id
    assert event.detail["plan_no"] == "JCJ-2026-0001"
    assert event.detail["amount"] == "500000.50"


def test_the_same_plan_again_answers_200_with_the_existing_plan_and_changes_nothing(client, world):
    token = issue(world["finance"], scopes=["plans:write"])
    first = post(client, token, body())
    assert first.status_code == 201
    # Same content, categories in another order, codes in lower case and with blanks around text.
    again = post(
        client,
        token,
        body(category_codes=["a02010108", "A02010105", "A02010105"], name=" 2026 年办公设备购置 "),
    )
    assert again.status_code == 200, again.get_data(as_text=True)
    assert "Location" not in again.headers
    assert again.get_json() == first.get_json()
    assert plan_count() == 1
    assert len(audits()) == 1


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"amount": "500000.01"}, "批复金额"),
        ({"name": "另一个计划"}, "计划名称"),
        ({"fiscal_year": 2027}, "预算年度"),
        ({"budget_line_code": "2010302"}, "预算项目编码"),
        ({"fund_source": "政府性基金预算"}, "资金来源"),
        ({"category_codes": ["A02010105"]}, "适用品目"),
        ({"unit_code": "UNIT-OTHER"}, "预算单位"),
    ],
)
def test_the_same_plan_number_with_other_content_is_409_and_the_plan_stays(client, world, change, named):
    factories.org(OrgKind.PURCHASING_UNIT, code="UNIT-OTHER")
    token = issue(world["finance"], scopes=["plans:write"])
    assert post(client, token, body()).status_code == 201
    response = post(client, token, body(**change))
    error = assert_json_error(response, 409)
    assert error["message"] == (
        f"计划编号 JCJ-2026-0001 已存在，且内容不同（{named}）；"
        "采购计划批复后不能通过重复推送修改，请核对计划编号。"
    )
    assert error["errors"] == {"json": {"plan_no": [error["message"]]}}
    plan = db.session.scalar(sa.select(ProcurementPlan))
    db.session.refresh(plan)
    assert (plan.amount, plan.name, plan.unit_id) == (
        Decimal("500000.00"),
        "2026 年办公设备购置",
        world["unit"].id,
    )
    assert [c.code for c in plan.categories] == ["A02010105", "A02010108"]
    assert plan_count() == 1


def test_several_differences_are_all_named(client, world):
    token = issue(world["finance"], scopes=["plans:write"])
    post(client, token, body())
    error = assert_json_error(post(client, token, body(amount="1.00", fiscal_year=2025)), 409)
    assert "（预算年度、批复金额）" in error["message"]


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (["A02010105", "A02019999"], "品目 A02019999 不在 2022 版政府采购品目分类目录中"),
        (["A02010199", "A02019998"], "品目 A02010199、A02019998 不在 2022 版政府采购品目分类目录中"),
        (["A02010100"], "品目 A02010100 不是末级品目，请选择其下的末级品目"),
    ],
)
def test_unknown_or_branch_categories_are_422_naming_the_codes(client, world, codes, message):
    token = issue(world["finance"], scopes=["plans:write"])
    error = assert_json_error(post(client, token, body(category_codes=codes)), 422)
    assert error["errors"] == {"json": {"category_codes": [message]}}
    assert plan_count() == 0


@pytest.mark.parametrize(
    ("unit_code", "message"),
    [("NO-SUCH-UNIT", "预算单位 NO-SUCH-UNIT 不存在"), ("SUPPLIER-1", "预算单位 SUPPLIER-1 不存在")],
)
def test_the_unit_must_be_an_existing_purchasing_unit(client, world, unit_code, message):
    factories.org(OrgKind.SUPPLIER, code="SUPPLIER-1")
    token = issue(world["finance"], scopes=["plans:write"])
    error = assert_json_error(post(client, token, body(unit_code=unit_code)), 422)
    assert error["errors"] == {"json": {"unit_code": [message]}}
    assert plan_count() == 0


def test_an_inactive_unit_is_refused(client, world):
    world["unit"].is_active = False
    db.session.flush()
    token = issue(world["finance"], scopes=["plans:write"])
    error = assert_json_error(post(client, token, body()), 422)
    assert error["errors"] == {"json": {"unit_code": ["预算单位 UNIT-110101 已停用"]}}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", 500000, '金额应为字符串，例如 "500000.00"（避免浮点数误差）'),
        ("amount", 0.1, '金额应为字符串，例如 "500000.00"（避免浮点数误差）'),
        ("amount", "12.345", "金额格式不正确：应为最多两位小数的数字，例如 500000.00，收到「12.345」"),
        ("amount", "-5.00", "金额格式不正确：应为最多两位小数的数字，例如 500000.00，收到「-5.00」"),
        ("amount", "0.00", "批复金额必须大于 0"),
        ("amount", "NaN", "金额格式不正确：应为最多两位小数的数字，例如 500000.00，收到「NaN」"),
        (
            "amount",
            "1000000000000.00",
            "金额格式不正确：应为最多两位小数的数字，例如 500000.00，收到「1000000000000.00」",
        ),
        ("fiscal_year", "2026", "应为整数"),
        ("fiscal_year", 1999, "预算年度应在 2000–2100 之间"),
        ("plan_no", "JCJ 2026", "不能包含空格等空白字符"),
        ("plan_no", "", "应为 1–64 个字符"),
        ("plan_no", "P" * 65, "应为 1–64 个字符"),
        ("name", "", "应为 1–200 个字符"),
        ("category_codes", [], "请选择 1–200 个品目"),
        ("category_codes", "A02010105", "应为列表"),
    ],
)
def test_bad_fields_are_422_in_chinese_and_nothing_is_created(client, world, field, value, message):
    token = issue(world["finance"], scopes=["plans:write"])
    error = assert_json_error(post(client, token, body(**{field: value})), 422)
    assert error["errors"] == {"json": {field: [message]}}
    assert plan_count() == 0


def test_malformed_codes_are_named_by_position(client, world):
    token = issue(world["finance"], scopes=["plans:write"])
    error = assert_json_error(post(client, token, body(category_codes=["A02010105", "电脑"])), 422)
    assert error["errors"] == {"json": {"category_codes": {"1": ["品目编码格式不正确，例如 A02010105"]}}}


def test_missing_fields_and_ledger_fields_are_refused(client, world):
    token = issue(world["finance"], scopes=["plans:write"])
    error = assert_json_error(post(client, token, {"plan_no": "JCJ-1", "reserved": "100.00"}), 422)
    assert error["errors"] == {
        "json": {
            "reserved": ["未知字段"],
            "unit_code": ["请填写预算单位编码"],
            "name": ["请填写计划名称"],
            "fiscal_year": ["请填写预算年度"],
            "budget_line_code": ["请填写预算项目编码"],
            "fund_source": ["请填写资金来源"],
            "amount": ["请填写批复金额"],
            "category_codes": ["请至少选择一个品目"],
        }
    }
    assert plan_count() == 0


@pytest.mark.parametrize("kind", [OrgKind.PURCHASING_UNIT, OrgKind.SUPPLIER, OrgKind.REGULATOR])
def test_only_tokens_with_plans_write_may_register(client, world, kind):
    token = issue(factories.org(kind))  # every scope its kind allows: never plans:write
    error = assert_json_error(post(client, token, body()), 403)
    assert "plans:write" in error["message"]
    assert plan_count() == 0


def test_a_finance_token_without_the_scope_is_403(client, world):
    token = issue(world["finance"], scopes=["plans:read"])
    assert_json_error(post(client, token, body()), 403)
    assert plan_count() == 0


def test_a_body_that_is_not_json_is_415(client, world):
    token = issue(world["finance"], scopes=["plans:write"])
    response = client.post("/api/v1/plans", data="unit_code=x", headers=bearer(token))
    assert_json_error(response, 415)
    assert plan_count() == 0


def test_a_new_plan_is_usable_at_checkout(client, world):
    token = issue(world["finance"], scopes=["plans:write"])
    post(client, token, body(fiscal_year=checkout.fiscal_year()))
    plan = db.session.scalar(sa.select(ProcurementPlan))
    from tests.orders.helpers import fill_cart, request_for

    buyer = factories.user(world["unit"])
    offer = factories.offer(factories.product(world["desktop"]), price=Decimal("4999.00"))
    fill_cart(buyer, (offer, 2))
    orders, _ = checkout.submit(buyer, request_for(buyer, plan))
    assert orders[0].plan_id == plan.id
    db.session.refresh(plan)
    assert plan.available == Decimal("490002.00")


# --------------------------------------------------------------------------------------------
# Reading the ledger


def test_plan_detail_and_ledger_show_the_totals_and_every_entry(client, world):
    plan = factories.plan(world["unit"], amount=Decimal("10000.00"), plan_no="PLAN-L")
    budget.reserve(plan, Decimal("3000.00"), reference="DD1")
    budget.reserve(plan, Decimal("2000.00"), reference="DD2")
    budget.release(plan, Decimal("2000.00"), reference="DD2", note="已取消")
    budget.consume(plan, Decimal("3000.00"), reference="DD1")
    token = issue(world["finance"], scopes=["plans:read"])

    detail = client.get(f"/api/v1/plans/{plan.id}", headers=bearer(token)).get_json()["data"]
    totals = {k: detail[k] for k in ("amount", "reserved", "consumed", "released", "available")}
    assert totals == {
        "amount": "10000.00",
        "reserved": "0.00",
        "consumed": "3000.00",
        "released": "2000.00",
        "available": "7000.00",
    }

    response = client.get(f"/api/v1/plans/{plan.id}/ledger?per_page=3", headers=bearer(token))
    assert response.status_code == 200
    page = response.get_json()
    assert {k: page["plan"][k] for k in totals} == totals
    assert [(e["kind"], e["amount"], e["order_no"], e["note"]) for e in page["data"]] == [
        ("reserve", "3000.00", "DD1", "下单预占"),
        ("reserve", "2000.00", "DD2", "下单预占"),
        ("release", "2000.00", "DD2", "已取消"),
    ]
    assert page["pagination"] == {"page": 1, "per_page": 3, "total": 4, "pages": 2}
    rest = client.get(f"/api/v1/plans/{plan.id}/ledger?page=2&per_page=3", headers=bearer(token)).get_json()
    assert [(e["kind"], e["order_no"]) for e in rest["data"]] == [("consume", "DD1")]
    assert budget.ledger_sums(plan.id) == {
        "reserved": Decimal("0.00"),
        "released": Decimal("2000.00"),
        "consumed": Decimal("3000.00"),
    }


def test_the_ledger_of_another_units_plan_is_404_and_suppliers_are_403(client, world):
    plan = factories.plan(world["unit"], plan_no="PLAN-SECRET")
    budget.reserve(plan, Decimal("10.00"), reference="DD-SECRET")
    other_unit = issue(factories.org(OrgKind.PURCHASING_UNIT), scopes=["plans:read"])
    body_404 = assert_json_error(
        client.get(f"/api/v1/plans/{plan.id}/ledger", headers=bearer(other_unit)), 404
    )
    assert "DD-SECRET" not in str(body_404)
    supplier = issue(factories.org(OrgKind.SUPPLIER), scopes=["catalog:read"])
    assert_json_error(client.get(f"/api/v1/plans/{plan.id}/ledger", headers=bearer(supplier)), 403)
    own = issue(world["unit"], scopes=["plans:read"])
    assert client.get(f"/api/v1/plans/{plan.id}/ledger", headers=bearer(own)).status_code == 200


# --------------------------------------------------------------------------------------------
# Two finance pushes of one plan at the same moment (real PostgreSQL, real commits)


@pytest.mark.postgres
def test_a_concurrent_duplicate_push_answers_200_with_the_plan_the_first_one_made(committed_database):
    """The second request inserts while the first one's insert is not yet committed: it waits on
    the unique plan number, fails, and answers with the plan the first one committed."""
    app = create_app(make_test_config(committed_database))
    with app.app_context():
        upgrade()
        factories.category(code="A02010105", name="台式计算机")
        factories.org(OrgKind.PURCHASING_UNIT, code="UNIT-110101", name="北京市某局")
        token = issue(factories.org(OrgKind.FINANCE), scopes=["plans:write"])
        db.session.commit()

        # The first push: inserted, not yet committed, holding the plan number.
        first, created = budget.create_plan(
            **{**body(category_codes=["A02010105"]), "amount": Decimal("500000")}
        )
        assert created
        answers = []

        def second_push():
            answers.append(post(app.test_client(), token, body(category_codes=["A02010105"])))

        thread = threading.Thread(target=second_push)
        thread.start()
        deadline = time.monotonic() + 10
        with db.engine.connect() as watcher:
            while time.monotonic() < deadline:  # until the second push waits on our insert
                waiting = watcher.scalar(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
                if waiting:
                    break
                time.sleep(0.02)
        assert waiting == 1
        db.session.commit()
        thread.join(10)
        [response] = answers
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["data"]["id"] == first.id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProcurementPlan)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 0
        db.session.remove()
        db.engine.dispose()
