"""Supplier credit (app/oversight/credit.py): the ledger's arithmetic (exact), one deduction per
evidence, each source of deductions (late confirmation, substitution at acceptance, poor
evaluation; price above reference is in test_monitoring.py), appeals and their deadline, the
operator's decision, the pages, and the score reaching the search documents and the product and
search pages."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import OrgKind, Role
from app.catalog import indexing
from app.catalog.charts import LOCAL_TZ
from app.catalog.models import Product
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.extensions import db
from app.orders import deadlines, services
from app.orders.checkout import submit
from app.orders.lifecycle import Actor, transition
from app.orders.models import Order
from app.orders.models import OrderStatus as S
from app.oversight import credit
from app.oversight.models import Alert, AlertKind, AppealStatus, CreditEvent, CreditReason
from search import SearchQuery, Sort
from tests import factories
from tests.conftest import csrf_from, login
from tests.orders.helpers import Shop, fill_cart, request_for, shop


def events(supplier_id: int | None = None) -> list[CreditEvent]:
    query = sa.select(CreditEvent).order_by(CreditEvent.id)
    if supplier_id is not None:
        query = query.where(CreditEvent.supplier_id == supplier_id)
    return list(db.session.scalars(query))


def place(world: Shop, offer_index: int = 0) -> Order:
    fill_cart(world.purchaser, (world.offers[offer_index], 1))
    orders, _ = submit(world.purchaser, request_for(world.purchaser, world.plan))
    return orders[0]


def deliver(world: Shop, order: Order) -> Order:
    supplier = Actor.of_user(world.supplier_users[0])
    transition(order, S.CONFIRMED, supplier)
    transition(order, S.SHIPPED, supplier, tracking_number="SF1234567890")
    transition(order, S.DELIVERED, supplier)
    db.session.flush()
    return order


def received(order: Order, model: str | None = None) -> list[services.ReceivedLine]:
    return [
        services.ReceivedLine(
            line_id=line.id,
            received_quantity=line.quantity,
            serial_numbers=[],
            delivered_model=model if model is not None else line.model,
        )
        for line in order.lines
    ]


def accepted(world: Shop) -> Order:
    order = deliver(world, place(world))
    services.record_acceptance(order, world.purchaser, accept=True, received=received(order))
    return order


_keys = itertools.count(1)


def deduction(supplier, reason=CreditReason.LATE_CONFIRMATION, key: str | None = None, **kw) -> CreditEvent:
    record = credit.deduct(supplier.id, reason, key or f"test:{next(_keys)}", "测试扣分", **kw)
    db.session.flush()
    return record


# --------------------------------------------------------------------------------------------
# Arithmetic


@pytest.mark.parametrize(
    ("score", "stars"),
    [(100, 5), (95, 5), (94, 4), (85, 4), (84, 3), (70, 3), (69, 2), (60, 2), (59, 1), (1, 1), (0, 1)],
)
def test_stars_from_the_score(score, stars):
    assert credit.stars_for(score) == stars
    assert credit.credit_for(score).star_text == "★" * stars + "☆" * (5 - stars)


def test_a_supplier_without_deductions_has_the_full_score(db_session):
    supplier = factories.org(OrgKind.SUPPLIER)
    assert credit.score(supplier.id) == 100
    assert credit.credits([supplier.id]) == {supplier.id: credit.Credit(100, 5)}
    assert credit.scores([]) == {}


def test_the_score_is_100_plus_the_points_of_the_year(db_session):
    supplier, other = factories.org(OrgKind.SUPPLIER), factories.org(OrgKind.SUPPLIER)
    deduction(supplier, CreditReason.LATE_CONFIRMATION)  # −3
    deduction(supplier, CreditReason.SUBSTITUTION)  # −10
    deduction(supplier, CreditReason.POOR_EVALUATION)  # −2
    deduction(supplier, CreditReason.PRICE_ABOVE_REFERENCE)  # −2
    deduction(other, CreditReason.SUBSTITUTION)  # −10, another supplier's
    assert [e.points for e in events(supplier.id)] == [-3, -10, -2, -2]
    assert credit.scores([supplier.id, other.id]) == {supplier.id: 83, other.id: 90}
    assert credit.credits([supplier.id])[supplier.id] == credit.Credit(83, 3)


def test_the_score_never_goes_below_zero(db_session):
    supplier = factories.org(OrgKind.SUPPLIER)
    for _ in range(11):
        deduction(supplier, CreditReason.SUBSTITUTION)
    assert sum(e.points for e in events(supplier.id)) == -110
    assert credit.score(supplier.id) == 0
    assert credit.credit_for(0).stars == 1


def test_each_year_has_its_own_ledger(db_session):
    supplier = factories.org(OrgKind.SUPPLIER)
    this_year = credit.local_year()
    last_year = datetime(this_year - 1, 12, 31, 23, 30, tzinfo=LOCAL_TZ)
    deduction(supplier, CreditReason.SUBSTITUTION, now=last_year)
    deduction(supplier, CreditReason.LATE_CONFIRMATION)
    assert [e.year for e in events(supplier.id)] == [this_year - 1, this_year]
    assert credit.score(supplier.id) == 97
    assert credit.score(supplier.id, this_year - 1) == 90
    # The year is the mall's (Beijing, UTC+8): 31 December 16:30 UTC is already 1 January there.
    assert credit.local_year(datetime(this_year - 1, 12, 31, 15, 59, tzinfo=UTC)) == this_year - 1
    assert credit.local_year(datetime(this_year - 1, 12, 31, 16, 30, tzinfo=UTC)) == this_year


def test_the_same_evidence_deducts_once(db_session):
    supplier = factories.org(OrgKind.SUPPLIER)
    first = credit.deduct(supplier.id, CreditReason.LATE_CONFIRMATION, "order:1", "a")
    again_unflushed = credit.deduct(supplier.id, CreditReason.LATE_CONFIRMATION, "order:1", "b")
    db.session.flush()
    again_flushed = credit.deduct(supplier.id, CreditReason.LATE_CONFIRMATION, "order:1", "c")
    other_reason = credit.deduct(supplier.id, CreditReason.POOR_EVALUATION, "order:1", "d")
    db.session.flush()
    assert first is not None and other_reason is not None
    assert (again_unflushed, again_flushed) == (None, None)
    assert [(e.reason, e.description) for e in events(supplier.id)] == [
        (CreditReason.LATE_CONFIRMATION, "a"),
        (CreditReason.POOR_EVALUATION, "d"),
    ]
    assert credit.score(supplier.id) == 95


def test_the_database_refuses_a_second_row_for_the_same_evidence(db_session):
    supplier = factories.org(OrgKind.SUPPLIER)
    deduction(supplier, key="order:7")
    now = utcnow()
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(
            CreditEvent(
                supplier_id=supplier.id,
                year=now.year,
                points=-3,
                reason=CreditReason.LATE_CONFIRMATION,
                evidence_key="order:7",
                description="x",
                appeal_due_at=now,
            )
        )
        db.session.flush()
    assert len(events(supplier.id)) == 1


# --------------------------------------------------------------------------------------------
# Where deductions come from


def test_late_confirmation_deducts_once_with_the_order_and_the_alert(db_session):
    world = shop()
    order = place(world)
    due = order.confirm_due_at
    deadlines.enforce_deadlines(now=due + timedelta(seconds=1))
    db.session.expire_all()
    [alert] = db.session.scalars(sa.select(Alert)).all()
    [record] = events()
    assert (record.supplier_id, record.reason, record.points, record.order_id, record.alert_id) == (
        world.suppliers[0].id,
        CreditReason.LATE_CONFIRMATION,
        -3,
        order.id,
        alert.id,
    )
    assert record.evidence_key == f"order:{order.id}"
    assert record.description == alert.message
    assert record.appeal_status is AppealStatus.NONE
    assert record.appeal_due_at - record.created_at == timedelta(days=15)
    assert credit.score(world.suppliers[0].id) == 97
    assert credit.score(world.suppliers[1].id) == 100
    # Another run, and the same alert kind raised again for the same order: still one deduction.
    deadlines.enforce_deadlines(now=due + timedelta(hours=2))
    db.session.add(
        Alert(
            kind=AlertKind.LATE_CONFIRMATION,
            message="again",
            supplier_id=order.supplier_id,
            order_id=order.id,
        )
    )
    db.session.flush()
    assert len(events()) == 1


def test_a_confirmed_order_deducts_nothing(db_session):
    world = shop()
    order = place(world)
    transition(order, S.CONFIRMED, Actor.of_user(world.supplier_users[0]))
    db.session.flush()
    deadlines.enforce_deadlines(now=order.confirm_due_at + timedelta(hours=1))
    db.session.expire_all()
    assert events() == []


@pytest.mark.parametrize("accept", [True, False], ids=["accepted", "returned"])
def test_a_substitution_at_acceptance_deducts_10(db_session, accept):
    world = shop()
    order = deliver(world, place(world))
    services.record_acceptance(
        order,
        world.purchaser,
        accept=accept,
        received=received(order, model="OTHER-9"),
        note="型号不符，先收下",
    )
    [alert] = db.session.scalars(sa.select(Alert).where(Alert.kind == AlertKind.SUBSTITUTION)).all()
    [record] = events()
    assert (record.reason, record.points, record.order_id, record.alert_id, record.supplier_id) == (
        CreditReason.SUBSTITUTION,
        -10,
        order.id,
        alert.id,
        world.suppliers[0].id,
    )
    assert credit.score(world.suppliers[0].id) == 90


def test_rejecting_an_order_after_confirming_it_deducts_5_and_releases_the_budget(db_session):
    world = shop()
    order = place(world)
    supplier = Actor.of_user(world.supplier_users[0])
    transition(order, S.CONFIRMED, supplier)
    db.session.flush()
    assert events() == []  # confirming costs nothing
    transition(order, S.REJECTED, supplier, note="厂家停产，无法供货")
    db.session.flush()
    [record] = events()
    assert (record.reason, record.points, record.order_id, record.evidence_key) == (
        CreditReason.REJECTED_AFTER_CONFIRMATION,
        -5,
        order.id,
        f"order:{order.id}",
    )
    assert "厂家停产" in record.description
    assert credit.score(world.suppliers[0].id) == 95
    db.session.refresh(world.plan)
    assert world.plan.reserved == Decimal("0.00") and world.plan.released == order.total


def test_a_rejection_before_confirming_deducts_nothing(db_session):
    world = shop()
    transition(place(world), S.REJECTED, Actor.of_user(world.supplier_users[0]), note="缺货")
    db.session.flush()
    assert events() == []


def test_an_acceptance_without_substitution_deducts_nothing(db_session):
    world = shop()
    accepted(world)
    assert events() == []


@pytest.mark.parametrize(
    ("stars", "deducted"),
    [((3, 3, 3), False), ((5, 4, 3), False), ((2, 5, 5), True), ((5, 1, 5), True), ((5, 5, 2), True)],
)
def test_a_poor_evaluation_deducts_2(db_session, stars, deducted):
    world = shop()
    order = accepted(world)
    quality, delivery, service = stars
    services.evaluate(order, world.purchaser, quality=quality, delivery=delivery, service=service)
    db.session.flush()
    found = events()
    if not deducted:
        assert found == []
        return
    [record] = found
    assert (record.reason, record.points, record.order_id, record.evidence_key) == (
        CreditReason.POOR_EVALUATION,
        -2,
        order.id,
        f"order:{order.id}",
    )
    assert record.description == (
        f"订单 {order.number} 的履约评价：质量 {quality} 星、交付 {delivery} 星、"
        f"服务 {service} 星（有一项不高于 2 星）"
    )
    assert credit.score(world.suppliers[0].id) == 98


# --------------------------------------------------------------------------------------------
# Appeals


def test_an_appeal_before_the_deadline_and_an_upheld_decision(db_session):
    supplier = factories.org(OrgKind.SUPPLIER)
    staff, operator = factories.user(supplier), factories.user(factories.org(OrgKind.OPERATOR))
    record = deduction(supplier, CreditReason.SUBSTITUTION)
    assert credit.score(supplier.id) == 90

    credit.appeal(record.id, staff, "  送达型号为同款升级版，已与采购单位确认。  ", now=record.appeal_due_at)
    assert record.appeal_status is AppealStatus.PENDING
    assert record.appeal_text == "送达型号为同款升级版，已与采购单位确认。"
    assert (record.appealed_at, record.appealed_by_id) == (record.appeal_due_at, staff.id)
    assert credit.score(supplier.id) == 90  # still counts while pending

    credit.decide(record.id, operator, uphold=True, note="经核实属实")
    assert record.appeal_status is AppealStatus.UPHELD
    assert (record.decision_note, record.decided_by_id) == ("经核实属实", operator.id)
    assert credit.score(supplier.id) == 100
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.like("credit.%")).order_by(AuditEvent.id)
    ).all()
    assert actions == ["credit.appeal", "credit.appeal_upheld"]


def test_a_rejected_appeal_keeps_the_deduction(db_session):
    supplier = factories.org(OrgKind.SUPPLIER)
    staff, operator = factories.user(supplier), factories.user(factories.org(OrgKind.OPERATOR))
    record = deduction(supplier, CreditReason.LATE_CONFIRMATION)
    credit.appeal(record.id, staff, "系统故障导致未能确认")
    credit.decide(record.id, operator, uphold=False, note="未提供证据")
    assert record.appeal_status is AppealStatus.REJECTED
    assert credit.score(supplier.id) == 97
    with pytest.raises(credit.CreditError, match="没有待处理的申诉"):
        credit.decide(record.id, operator, uphold=True, note="改判")
    with pytest.raises(credit.CreditError, match="只能申诉一次"):
        credit.appeal(record.id, staff, "再申诉一次看看")
    assert record.appeal_status is AppealStatus.REJECTED
    assert credit.score(supplier.id) == 97


def test_no_appeal_after_the_deadline(db_session):
    supplier = factories.org(OrgKind.SUPPLIER)
    staff = factories.user(supplier)
    record = deduction(supplier)
    with pytest.raises(credit.CreditError, match="申诉期限已过"):
        credit.appeal(record.id, staff, "理由很充分的申诉", now=record.appeal_due_at + timedelta(seconds=1))
    assert (record.appeal_status, record.appeal_text) == (AppealStatus.NONE, None)
    assert credit.may_appeal(record, record.appeal_due_at) is True
    assert credit.may_appeal(record, record.appeal_due_at + timedelta(seconds=1)) is False


def test_appeals_are_the_suppliers_own_and_need_a_reason(db_session):
    supplier = factories.org(OrgKind.SUPPLIER)
    record = deduction(supplier)
    with pytest.raises(LookupError):
        credit.appeal(record.id, factories.user(factories.org(OrgKind.SUPPLIER)), "别人的扣分也想申诉")
    with pytest.raises(LookupError):
        credit.appeal(record.id, factories.user(factories.org(OrgKind.OPERATOR)), "运营替供应商申诉")
    with pytest.raises(credit.CreditError) as refused:
        credit.appeal(record.id, factories.user(supplier), "  太短 ")
    assert refused.value.field == "text"
    with pytest.raises(credit.CreditError, match="只有卖场运营人员"):
        credit.decide(record.id, factories.user(factories.org(OrgKind.REGULATOR)), uphold=True, note="x")
    assert record.appeal_status is AppealStatus.NONE


# --------------------------------------------------------------------------------------------
# Search and the offer pages


def test_a_deduction_reaches_the_search_documents_and_the_credit_sort(app, db_session):
    backend = indexing.search_backend(app)
    backend.rebuild([])
    good, poor = factories.org(OrgKind.SUPPLIER), factories.org(OrgKind.SUPPLIER)
    cheap = factories.offer(supplier=poor, price=Decimal("100.00"))
    dear = factories.offer(supplier=good, price=Decimal("200.00"))
    db_session.commit()
    version = cheap.product.row_version

    deduction(poor, CreditReason.SUBSTITUTION)
    product = db.session.get(Product, cheap.product_id)
    assert (product.row_version, product.search_dirty) == (version + 1, True)
    assert db.session.get(Product, dear.product_id).search_dirty is False
    db_session.commit()  # the reindex job runs after commit

    [doc] = indexing.product_documents([cheap.product_id])
    assert (doc.rating, doc.offers[0].supplier_rating) == (90.0, 90.0)
    backend.refresh()
    hits = backend.search(SearchQuery(sort=Sort.RATING, per_page=10)).hits
    assert [h.product_id for h in hits] == [dear.product_id, cheap.product_id]
    db.session.refresh(product)
    assert product.search_dirty is False


def test_an_upheld_appeal_reindexes_too(app, db_session):
    supplier = factories.org(OrgKind.SUPPLIER)
    offer = factories.offer(supplier=supplier)
    record = deduction(supplier, CreditReason.SUBSTITUTION)
    db_session.commit()
    credit.appeal(record.id, factories.user(supplier), "申诉理由充分详实")
    db_session.commit()
    assert db.session.get(Product, offer.product_id).search_dirty is False
    credit.decide(record.id, factories.user(factories.org(OrgKind.OPERATOR)), uphold=True, note="成立")
    assert db.session.get(Product, offer.product_id).search_dirty is True
    db_session.commit()
    [doc] = indexing.product_documents([offer.product_id])
    assert doc.rating == 100.0


def test_product_and_search_pages_show_the_suppliers_stars(app, client, db_session):
    indexing.search_backend(app).rebuild([])
    supplier = factories.org(OrgKind.SUPPLIER, name="星级测试供应商")
    offer = factories.offer(factories.product(name="星级测试商品"), supplier)
    deduction(supplier, CreditReason.SUBSTITUTION)
    db_session.commit()
    page = client.get(f"/products/{offer.product_id}").get_data(as_text=True)
    assert (
        '<td class="offer-credit"><span class="credit"><span class="credit-stars" role="img" '
        'aria-label="信用 4 星">★★★★☆</span> <span class="credit-score">90 分</span></span></td>'
    ) in page
    results = client.get("/search?q=星级测试商品").get_data(as_text=True)
    assert (
        '供应商信用 <span class="credit"><span class="credit-stars" role="img" aria-label="信用 4 星">'
        in results
    )


def test_new_year_marks_last_years_suppliers_for_reindexing(app, db_session):
    supplier, spotless = factories.org(OrgKind.SUPPLIER), factories.org(OrgKind.SUPPLIER)
    offer, other = factories.offer(supplier=supplier), factories.offer(supplier=spotless)
    year = credit.local_year()
    deduction(supplier, now=datetime(year - 1, 6, 1, tzinfo=LOCAL_TZ))
    db_session.commit()
    assert credit.new_year(now=datetime(year, 1, 2, 0, 10, tzinfo=LOCAL_TZ)) == 0
    assert credit.new_year(now=datetime(year, 1, 1, 0, 10, tzinfo=LOCAL_TZ)) == 1
    db.session.expire_all()
    assert db.session.get(Product, offer.product_id).search_dirty is True
    assert db.session.get(Product, other.product_id).search_dirty is False


# --------------------------------------------------------------------------------------------
# Pages


def _supplier_with_deduction():
    supplier = factories.org(OrgKind.SUPPLIER, name="申诉测试供应商")
    staff = factories.user(supplier)
    record = deduction(supplier, CreditReason.SUBSTITUTION)
    return supplier, staff, record


def test_the_supplier_sees_its_ledger_and_appeals(client, db_session):
    _supplier, staff, record = _supplier_with_deduction()
    factories.user(factories.org(OrgKind.SUPPLIER))
    login(client, staff.username)
    page = client.get("/credit")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "★★★★☆" in body and "90 分" in body and "验收发现型号不符" in body and "未申诉" in body
    token = csrf_from(client, f"/credit/events/{record.id}")
    response = client.post(f"/credit/events/{record.id}/appeal", data={"csrf_token": token, "text": "短"})
    assert response.status_code == 422
    assert "请写明申诉理由（5–2000 个字）" in response.get_data(as_text=True)
    db.session.refresh(record)
    assert record.appeal_status is AppealStatus.NONE
    response = client.post(
        f"/credit/events/{record.id}/appeal", data={"csrf_token": token, "text": "送达型号为同款升级版"}
    )
    assert response.status_code == 302
    db.session.refresh(record)
    assert (record.appeal_status, record.appeal_text) == (AppealStatus.PENDING, "送达型号为同款升级版")
    again = client.post(
        f"/credit/events/{record.id}/appeal", data={"csrf_token": token, "text": "再来一次申诉"}
    )
    assert again.status_code == 409
    assert "只能申诉一次" in again.get_data(as_text=True)


def test_the_operator_decides_and_the_regulator_only_reads(client, db_session, app):
    supplier, staff, record = _supplier_with_deduction()
    credit.appeal(record.id, staff, "送达型号为同款升级版")
    operator = factories.user(factories.org(OrgKind.OPERATOR))
    regulator = factories.user(factories.org(OrgKind.REGULATOR))
    db_session.commit()

    reader = app.test_client()
    login(reader, regulator.username)
    listing = reader.get("/oversight/credit/appeals").get_data(as_text=True)
    assert "送达型号为同款升级版" in listing and 'action="/oversight/credit/appeals/decide"' not in listing
    token = csrf_from(reader, "/oversight/credit/appeals")
    refused = reader.post(
        "/oversight/credit/appeals/decide",
        data={"csrf_token": token, "event_id": record.id, "decision": "uphold", "note": "成立"},
    )
    assert refused.status_code == 403
    overview = reader.get("/oversight/credit?q=申诉测试").get_data(as_text=True)
    assert "申诉测试供应商" in overview and "90 分" in overview
    ledger = reader.get(f"/oversight/credit/ledger?supplier={supplier.id}")
    assert ledger.status_code == 200 and "申诉中" in ledger.get_data(as_text=True)

    login(client, operator.username)
    token = csrf_from(client, "/oversight/credit/appeals")
    missing = client.post(
        "/oversight/credit/appeals/decide",
        data={"csrf_token": token, "event_id": record.id, "decision": "uphold"},
    )
    assert missing.status_code == 422
    db.session.refresh(record)
    assert record.appeal_status is AppealStatus.PENDING
    done = client.post(
        "/oversight/credit/appeals/decide",
        data={"csrf_token": token, "event_id": record.id, "decision": "uphold", "note": "经核实属实"},
    )
    assert done.status_code == 302
    db.session.refresh(record)
    assert record.appeal_status is AppealStatus.UPHELD
    assert credit.score(supplier.id) == 100
    twice = client.post(
        "/oversight/credit/appeals/decide",
        data={"csrf_token": token, "event_id": record.id, "decision": "reject", "note": "改判"},
    )
    assert twice.status_code == 409
    unknown = client.post(
        "/oversight/credit/appeals/decide",
        data={"csrf_token": token, "event_id": 2**31 - 1, "decision": "reject", "note": "x"},
    )
    assert unknown.status_code == 404


@pytest.mark.parametrize("role", [Role.PURCHASER, Role.APPROVER, Role.FINANCE, Role.SUPPLIER])
def test_oversight_credit_pages_are_for_operators_and_regulators(client, db_session, role):
    kind = {Role.PURCHASER: OrgKind.PURCHASING_UNIT, Role.APPROVER: OrgKind.PURCHASING_UNIT}.get(
        role, OrgKind.FINANCE if role is Role.FINANCE else OrgKind.SUPPLIER
    )
    supplier = factories.org(OrgKind.SUPPLIER)
    login(client, factories.user(factories.org(kind), role).username)
    for url in (
        "/oversight/credit",
        f"/oversight/credit/ledger?supplier={supplier.id}",
        "/oversight/credit/appeals",
    ):
        assert client.get(url).status_code == 403, url
    if role is not Role.SUPPLIER:
        assert client.get("/credit").status_code == 403


@pytest.mark.parametrize(
    "query",
    ["stars=9", "year=abc", "page=0", "per_page=100000", "sort=evil", "q=" + "长" * 101],
)
def test_bad_credit_filters_are_422_not_500(client, db_session, query):
    login(client, factories.user(factories.org(OrgKind.REGULATOR)).username)
    response = client.get(f"/oversight/credit?{query}")
    assert response.status_code == 422
    assert "请修改以下问题" in response.get_data(as_text=True)


def test_ledger_of_an_unknown_or_non_supplier_is_404_and_bad_input_422(client, db_session):
    login(client, factories.user(factories.org(OrgKind.OPERATOR)).username)
    unit = factories.org(OrgKind.PURCHASING_UNIT)
    assert client.get(f"/oversight/credit/ledger?supplier={unit.id}").status_code == 404
    assert client.get("/oversight/credit/ledger?supplier=abc").status_code == 422
    assert client.get("/oversight/credit/ledger").status_code == 422


def test_the_event_page_offers_the_right_form_to_each_role(app, db_session):
    supplier, staff, record = _supplier_with_deduction()
    late = deduction(supplier, CreditReason.LATE_CONFIRMATION)
    late.appeal_due_at = utcnow() - timedelta(minutes=1)
    operator = factories.user(factories.org(OrgKind.OPERATOR))
    regulator = factories.user(factories.org(OrgKind.REGULATOR))
    db_session.commit()

    def page(user, event):
        client = app.test_client()
        login(client, user.username)
        response = client.get(f"/credit/events/{event.id}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    appeal_form = f'action="/credit/events/{record.id}/appeal"'
    decide_form = 'action="/oversight/credit/appeals/decide"'
    assert appeal_form in page(staff, record)
    assert f'action="/credit/events/{late.id}/appeal"' not in page(staff, late)  # past its deadline
    assert appeal_form not in page(operator, record) and decide_form not in page(operator, record)
    credit.appeal(record.id, staff, "送达型号为同款升级版")
    db_session.commit()
    assert decide_form in page(operator, record)
    assert decide_form not in page(regulator, record) and "送达型号为同款升级版" in page(regulator, record)
    assert appeal_form not in page(staff, record)
