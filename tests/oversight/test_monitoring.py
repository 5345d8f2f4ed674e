"""Price monitoring (app/oversight/monitoring.py): the rules raise each alert once per offer, rule and
price; their actions (freeze, delist) and the operator's (freeze, delist, restore, with a reason,
audited) and what they do to the cart and search; the monitoring page's figures, filters and bad
input; the rules pages; who may do what."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import OrgKind, Role
from app.catalog import indexing
from app.catalog.models import OfferStatus, PriceChange
from app.core import scheduler
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.extensions import db
from app.orders import cart
from app.oversight import credit, monitoring
from app.oversight.models import (
    Alert,
    AlertKind,
    CreditEvent,
    CreditReason,
    OfferAction,
    OfferActionKind,
    PriceRule,
    PriceRuleAction,
    PriceRuleHit,
    PriceRuleKind,
)
from search import SearchQuery
from tests import factories
from tests.conftest import csrf_from, login

D = Decimal


def rule(kind=PriceRuleKind.ABOVE_REFERENCE, threshold="5", action=PriceRuleAction.ALERT, **kw) -> PriceRule:
    record = PriceRule(
        name=kw.pop("name", f"规则{kind.value}"),
        kind=kind,
        threshold_percent=D(threshold),
        window_days=kw.pop("window_days", 7 if kind is PriceRuleKind.RISE else None),
        action=action,
        enabled=kw.pop("enabled", True),
    )
    db.session.add(record)
    db.session.flush()
    return record


def run(now=None) -> dict[int, int]:
    fired = monitoring.evaluate_rules(now=now)
    db.session.expire_all()  # the job committed in its own session
    return fired


def alerts(kind: AlertKind | None = None) -> list[Alert]:
    query = sa.select(Alert).order_by(Alert.id)
    if kind is not None:
        query = query.where(Alert.kind == kind)
    return list(db.session.scalars(query))


def hits() -> list[PriceRuleHit]:
    return list(db.session.scalars(sa.select(PriceRuleHit).order_by(PriceRuleHit.id)))


def deductions() -> list[CreditEvent]:
    return list(db.session.scalars(sa.select(CreditEvent).order_by(CreditEvent.id)))


def overpriced(price="5500.00", market="5000.00", **kw):
    supplier = kw.pop("supplier", None) or factories.org(OrgKind.SUPPLIER, name="高价供应商")
    product = kw.pop("product", None) or factories.product(name="监测测试商品")
    return factories.offer(
        product, supplier, price=D(price), market_price=D(market) if market else None, **kw
    )


# --------------------------------------------------------------------------------------------
# Arithmetic


@pytest.mark.parametrize(
    ("price", "reference", "threshold", "expected"),
    [
        ("5250.00", "5000.00", "5", False),  # exactly 5 % above: not more than 5 %
        ("5250.01", "5000.00", "5", True),
        ("100.00", "100.00", "0", False),
        ("100.01", "100.00", "0", True),
        ("133.34", "100.00", "33.33", True),
        ("133.33", "100.00", "33.33", False),
    ],
)
def test_exceeds_is_exact(price, reference, threshold, expected):
    assert monitoring.exceeds(D(price), D(reference), D(threshold)) is expected


def test_percent_over():
    assert monitoring.percent_over(D("5500.00"), D("5000.00")) == D("10.0")
    assert monitoring.percent_over(D("4999.00"), D("5299.00")) == D("-5.7")
    assert monitoring.percent_over(D("1.00"), None) is None


# --------------------------------------------------------------------------------------------
# The rules


def test_above_reference_alerts_once_per_offer_rule_and_price_and_deducts_credit(db_session):
    offer = overpriced()
    fair = factories.offer(price=D("5000.00"), market_price=D("5000.00"))
    at_threshold = factories.offer(price=D("5250.00"), market_price=D("5000.00"))
    unpriced = factories.offer(price=D("9999.00"), market_price=None)
    unlisted = factories.offer(price=D("9999.00"), market_price=D("1.00"), status=OfferStatus.PENDING_REVIEW)
    r = rule(threshold="5")

    assert run() == {r.id: 1}
    [alert] = alerts()
    assert (alert.kind, alert.supplier_id, alert.unit_id, alert.order_id) == (
        AlertKind.PRICE_ABOVE_REFERENCE,
        offer.supplier_id,
        None,
        None,
    )
    assert alert.message == (
        f"高价供应商 的报价「监测测试商品」（货号 {offer.supplier_sku}）单价 ¥5,500.00 高于市场参考价 "
        f"¥5,000.00 10.0%（规则「{r.name}」：超过 5.00%）"
    )
    assert alert.detail == {
        "offer_id": offer.id,
        "product_id": offer.product_id,
        "supplier_sku": offer.supplier_sku,
        "rule_id": r.id,
        "rule": r.name,
        "price": "5500.00",
        "reference": "5000.00",
        "percent": "10.0",
        "action": "alert",
    }
    [hit] = hits()
    assert (hit.rule_id, hit.offer_id, hit.price, hit.reference, hit.alert_id, hit.action) == (
        r.id,
        offer.id,
        D("5500.00"),
        D("5000.00"),
        alert.id,
        PriceRuleAction.ALERT,
    )
    [deduction] = deductions()
    assert (deduction.reason, deduction.points, deduction.offer_id, deduction.alert_id) == (
        CreditReason.PRICE_ABOVE_REFERENCE,
        -2,
        offer.id,
        alert.id,
    )
    assert deduction.evidence_key == f"offer:{offer.id}@5500.00"
    assert credit.score(offer.supplier_id) == 98
    db.session.refresh(offer)
    assert offer.status is OfferStatus.LISTED  # the rule only alerts
    for untouched in (fair, at_threshold, unpriced, unlisted):
        db.session.refresh(untouched)
    assert {o.supplier_id for o in (fair, at_threshold, unpriced, unlisted)}.isdisjoint(
        {a.supplier_id for a in alerts()}
    )

    # The next runs find nothing new at the same price.
    assert run() == {r.id: 0}
    assert run() == {r.id: 0}
    assert (len(alerts()), len(hits()), len(deductions())) == (1, 1, 1)


def test_a_new_price_is_judged_again_and_an_old_price_is_not(db_session):
    offer = overpriced()
    r = rule(threshold="5")
    run()
    offer.price = D("5600.00")
    db.session.flush()
    assert run() == {r.id: 1}
    offer.price = D("5500.00")  # back to a price already alerted
    db.session.flush()
    assert run() == {r.id: 0}
    assert [h.price for h in hits()] == [D("5500.00"), D("5600.00")]
    assert [d.evidence_key for d in deductions()] == [
        f"offer:{offer.id}@5500.00",
        f"offer:{offer.id}@5600.00",
    ]
    assert credit.score(offer.supplier_id) == 96


def test_two_rules_on_one_price_alert_twice_but_deduct_once(db_session):
    offer = overpriced()
    first, second = rule(threshold="5", name="高于5%"), rule(threshold="8", name="高于8%")
    assert run() == {first.id: 1, second.id: 1}
    assert len(alerts(AlertKind.PRICE_ABOVE_REFERENCE)) == 2
    assert len(deductions()) == 1
    assert credit.score(offer.supplier_id) == 98


def test_a_disabled_rule_does_nothing(db_session):
    overpriced()
    rule(enabled=False)
    assert run() == {}
    assert alerts() == []


@pytest.mark.parametrize(
    ("action", "status", "word"),
    [
        (PriceRuleAction.FREEZE, OfferStatus.FROZEN, "冻结"),
        (PriceRuleAction.DELIST, OfferStatus.DELISTED, "下架"),
    ],
)
def test_a_rule_freezes_or_delists_and_the_offer_leaves_cart_and_search(
    app, db_session, action, status, word
):
    backend = indexing.search_backend(app)
    backend.rebuild([])
    offer = overpriced()
    buyer = factories.user()
    cart.add(buyer, offer.id, 1)
    r = rule(threshold="5", action=action, name="冻结规则")
    db_session.commit()
    backend.refresh()
    assert [h.product_id for h in backend.search(SearchQuery(per_page=10)).hits] == [offer.product_id]

    run()
    db.session.refresh(offer)
    assert offer.status is status
    [alert] = alerts()
    assert alert.message.endswith(f"，已{word}")
    [done] = db.session.scalars(sa.select(OfferAction)).all()
    assert (done.offer_id, done.kind.value, done.from_status, done.to_status) == (
        offer.id,
        {"冻结": "freeze", "下架": "delist"}[word],
        "listed",
        status.value,
    )
    assert (done.rule_id, done.alert_id, done.user_id, done.actor_label) == (
        r.id,
        alert.id,
        None,
        "系统（价格监测规则「冻结规则」）",
    )
    assert done.reason == f"价格监测规则「冻结规则」：{alert.message}"
    # Not orderable: the cart refuses it and flags it where it already is.
    with pytest.raises(cart.CartError, match="不能加入购物车"):
        cart.add(factories.user(), offer.id, 1)
    [group] = cart.quote(buyer).groups
    assert group.lines[0].problems == [f"「{offer.product.name}」已下架，请移除。"]
    # Not searchable: the product had no other listed offer.
    backend.refresh()
    assert backend.search(SearchQuery(per_page=10)).hits == ()
    # Not on the product page either.
    page = app.test_client().get(f"/products/{offer.product_id}").get_data(as_text=True)
    assert "目前没有供应商在售此商品。" in page and "高价供应商" not in page


def test_a_rise_within_the_window_alerts_with_the_windows_low(db_session):
    now = utcnow()
    offer = overpriced(price="130.00", market=None)
    offer.price_history.extend(
        [
            PriceChange(price=D("100.00"), changed_at=now - timedelta(days=10)),
            PriceChange(price=D("130.00"), changed_at=now - timedelta(days=2)),
        ]
    )
    week = rule(PriceRuleKind.RISE, threshold="20", window_days=7, name="一周涨20%")
    day = rule(PriceRuleKind.RISE, threshold="20", window_days=1, name="一天涨20%")
    steep = rule(PriceRuleKind.RISE, threshold="30", window_days=7, name="一周涨30%")
    db.session.flush()

    assert run(now) == {week.id: 1, day.id: 0, steep.id: 0}
    [alert] = alerts()
    assert alert.kind is AlertKind.PRICE_RISE
    assert alert.message == (
        f"高价供应商 的报价「监测测试商品」（货号 {offer.supplier_sku}）7 天内由 ¥100.00 涨至 ¥130.00，"
        f"涨幅 30.0%（规则「一周涨20%」：超过 20.00%）"
    )
    [hit] = hits()
    assert (hit.rule_id, hit.price, hit.reference) == (week.id, D("130.00"), D("100.00"))
    assert deductions() == []  # a rise alone deducts no credit
    assert run(now) == {week.id: 0, day.id: 0, steep.id: 0}


def test_a_rise_counts_the_price_in_force_when_the_window_opened(db_session):
    now = utcnow()
    offer = overpriced(price="125.00", market=None)
    offer.price_history.extend(
        [
            PriceChange(price=D("100.00"), changed_at=now - timedelta(days=30)),  # in force at the start
            PriceChange(price=D("125.00"), changed_at=now - timedelta(days=1)),
        ]
    )
    r = rule(PriceRuleKind.RISE, threshold="20", window_days=7)
    db.session.flush()
    assert monitoring.window_low(offer, now - timedelta(days=7)) == D("100.00")
    assert run(now) == {r.id: 1}


def test_the_job_is_scheduled(db_session):
    assert ("app.oversight.monitoring.evaluate_rules", 300) in scheduler.PERIODIC
    assert ("app.oversight.credit.new_year", 3600) in scheduler.PERIODIC


# --------------------------------------------------------------------------------------------
# Operator actions


def _operator_client(app):
    client = app.test_client()
    operator = factories.user(factories.org(OrgKind.OPERATOR), display_name="运营甲")
    login(client, operator.username)
    return client, operator


def _act(client, offer, action, reason="价格明显偏高"):
    token = csrf_from(client, "/oversight/prices")
    return client.post(
        "/oversight/prices/action",
        data={
            "csrf_token": token,
            "offer_id": offer.id,
            "action": action,
            "reason": reason,
            "next": "/oversight/prices",
        },
    )


def test_the_operator_freezes_and_restores_with_a_reason(app, db_session):
    offer = overpriced()
    client, operator = _operator_client(app)
    response = _act(client, offer, "freeze")
    assert response.status_code == 302
    db.session.refresh(offer)
    assert offer.status is OfferStatus.FROZEN
    assert _act(client, offer, "freeze").status_code == 409
    assert _act(client, offer, "restore", reason="供应商已更正价格").status_code == 302
    db.session.refresh(offer)
    assert offer.status is OfferStatus.LISTED
    actions = db.session.scalars(sa.select(OfferAction).order_by(OfferAction.id)).all()
    assert [(a.kind, a.from_status, a.to_status, a.reason, a.user_id) for a in actions] == [
        (OfferActionKind.FREEZE, "listed", "frozen", "价格明显偏高", operator.id),
        (OfferActionKind.RESTORE, "frozen", "listed", "供应商已更正价格", operator.id),
    ]
    assert actions[0].actor_label == f"运营甲（{operator.organization.name}）"
    audited = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action.like("price_monitor.%")).order_by(AuditEvent.id)
    ).all()
    assert [(a.action, a.user_id, a.detail["offer_id"], a.detail["reason"]) for a in audited] == [
        ("price_monitor.freeze", operator.id, offer.id, "价格明显偏高"),
        ("price_monitor.restore", operator.id, offer.id, "供应商已更正价格"),
    ]


def test_delist_then_restore_and_a_restore_monitoring_did_not_cause_is_refused(app, db_session):
    offer = overpriced()
    elsewhere = overpriced(status=OfferStatus.DELISTED)  # delisted by other means
    client, _operator = _operator_client(app)
    assert _act(client, offer, "delist").status_code == 302
    db.session.refresh(offer)
    assert offer.status is OfferStatus.DELISTED
    assert _act(client, offer, "restore").status_code == 302
    db.session.refresh(offer)
    assert offer.status is OfferStatus.LISTED
    refused = _act(client, elsewhere, "restore")
    assert refused.status_code == 409
    assert "不是由价格监测冻结或下架的" in refused.get_data(as_text=True)
    db.session.refresh(elsewhere)
    assert elsewhere.status is OfferStatus.DELISTED
    assert db.session.scalars(sa.select(OfferAction).where(OfferAction.offer_id == elsewhere.id)).all() == []


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"action": "freeze", "reason": ""}, 422, "请填写处置理由"),
        ({"action": "freeze", "reason": "x"}, 422, "请填写处置理由"),
        ({"action": "burn", "reason": "价格偏高"}, 422, "请选择处置方式"),
        ({"offer_id": "abc", "action": "freeze", "reason": "价格偏高"}, 422, "应为整数"),
        ({"offer_id": str(2**31 - 1), "action": "freeze", "reason": "价格偏高"}, 422, "报价不存在"),
    ],
)
def test_bad_actions_change_nothing(app, db_session, data, status, message):
    offer = overpriced()
    client, _operator = _operator_client(app)
    token = csrf_from(client, "/oversight/prices")
    response = client.post(
        "/oversight/prices/action", data={"csrf_token": token, "offer_id": offer.id, **data}
    )
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    db.session.refresh(offer)
    assert offer.status is OfferStatus.LISTED
    assert db.session.scalars(sa.select(OfferAction)).all() == []


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        (OrgKind.REGULATOR, Role.REGULATOR),
        (OrgKind.SUPPLIER, Role.SUPPLIER),
        (OrgKind.PURCHASING_UNIT, Role.PURCHASER),
        (OrgKind.FINANCE, Role.FINANCE),
    ],
)
def test_only_operators_act(app, client, db_session, kind, role):
    offer = overpriced()
    login(client, factories.user(factories.org(kind), role).username)
    token = csrf_from(client, "/")
    response = client.post(
        "/oversight/prices/action",
        data={"csrf_token": token, "offer_id": offer.id, "action": "freeze", "reason": "价格偏高"},
    )
    assert response.status_code == 403
    db.session.refresh(offer)
    assert offer.status is OfferStatus.LISTED
    page = client.get("/oversight/prices")
    assert page.status_code == (200 if role is Role.REGULATOR else 403)
    if role is Role.REGULATOR:
        assert 'action="/oversight/prices/action"' not in page.get_data(as_text=True)


# --------------------------------------------------------------------------------------------
# The monitoring page


def test_the_page_compares_with_the_reference_and_the_other_suppliers(app, db_session):
    product = factories.product(name="比较测试商品")
    mine = overpriced("5500.00", "5000.00", product=product)
    cheaper = factories.offer(product, factories.org(OrgKind.SUPPLIER), price=D("5000.00"), market_price=None)
    factories.offer(product, factories.org(OrgKind.SUPPLIER), price=D("4400.00"), status=OfferStatus.DELISTED)
    client, _operator = _operator_client(app)
    rows, total = monitoring.deviation_page({"q": "比较测试"}, 1, 50)
    assert total == 2
    by_offer = {r.offer.id: r for r in rows}
    assert [r.offer.id for r in rows] == [mine.id, cheaper.id]  # the most above its reference first
    assert (by_offer[mine.id].over_reference, by_offer[mine.id].lowest_other) == (D("10.0"), D("5000.00"))
    assert (by_offer[mine.id].over_lowest_other, by_offer[mine.id].other_count) == (D("10.0"), 1)
    assert (by_offer[cheaper.id].over_reference, by_offer[cheaper.id].lowest_other) == (None, D("5500.00"))
    assert by_offer[cheaper.id].over_lowest_other == D("-9.1")

    page = client.get("/oversight/prices?q=比较测试").get_data(as_text=True)
    assert "共 2 条报价" in page
    assert '<td class="num">10.0%</td>' in page and '<td class="num">-9.1%</td>' in page
    only_above = client.get("/oversight/prices?q=比较测试&min_over_reference=5").get_data(as_text=True)
    assert "共 1 条报价" in only_above and mine.supplier_sku in only_above
    assert cheaper.supplier_sku not in only_above
    above_other = monitoring.deviation_page({"min_over_other": D("5")}, 1, 50)[0]
    assert [r.offer.id for r in above_other] == [mine.id]


def test_the_page_filters_frozen_offers_and_rule_hits(app, db_session):
    offer = overpriced()
    other = factories.offer(price=D("10.00"), market_price=D("10.00"))
    rule(action=PriceRuleAction.FREEZE)
    run()
    assert [r.offer.id for r in monitoring.deviation_page({"status": "frozen"}, 1, 50)[0]] == [offer.id]
    assert monitoring.deviation_page({"status": "listed", "flagged": True}, 1, 50) == ([], 0)
    listed = [r.offer.id for r in monitoring.deviation_page({}, 1, 50)[0]]
    assert other.id in listed and offer.id not in listed
    client, _operator = _operator_client(app)
    page = client.get("/oversight/prices?status=frozen&flagged=true").get_data(as_text=True)
    assert offer.supplier_sku in page and "恢复上架" in page


@pytest.mark.parametrize(
    "query",
    [
        "status=gone",
        "supplier=abc",
        "category=中文",
        "min_over_reference=abc",
        "min_over_reference=1e9",
        "sort=drop",
        "page=0",
        "page=99999999999999999999",
        "per_page=100000",
        "q=" + "长" * 101,
    ],
)
def test_bad_filters_are_422_never_500(app, db_session, query):
    client, _operator = _operator_client(app)
    response = client.get(f"/oversight/prices?{query}")
    assert response.status_code == 422
    assert "请修改以下问题" in response.get_data(as_text=True)


# --------------------------------------------------------------------------------------------
# The rules pages


def test_operators_create_and_change_rules(app, db_session):
    client, operator = _operator_client(app)
    token = csrf_from(client, "/oversight/price-rules")
    bad = client.post(
        "/oversight/price-rules",
        data={
            "csrf_token": token,
            "name": "一周涨价",
            "kind": "rise",
            "threshold_percent": "20",
            "action": "alert",
        },
    )
    assert bad.status_code == 422
    assert "短期涨价规则须填写统计天数" in bad.get_data(as_text=True)
    assert db.session.scalars(sa.select(PriceRule)).all() == []
    for data in (
        {"threshold_percent": "-1"},
        {"threshold_percent": "abc"},
        {"threshold_percent": "1.234"},
        {"threshold_percent": "1e100"},
        {"threshold_percent": "NaN"},
        {"action": "explode"},
        {"name": ""},
        {"window_days": "400", "kind": "rise"},
    ):
        form = {
            "name": "规则",
            "kind": "above_reference",
            "threshold_percent": "10",
            "action": "alert",
            **data,
        }
        assert client.post("/oversight/price-rules", data={"csrf_token": token, **form}).status_code == 422, (
            data
        )
    created = client.post(
        "/oversight/price-rules",
        data={
            "csrf_token": token,
            "name": "高于参考价10%冻结",
            "kind": "above_reference",
            "threshold_percent": "10",
            "window_days": "30",  # ignored for this kind
            "action": "freeze",
            "enabled": "true",
        },
    )
    assert created.status_code == 302
    [saved] = db.session.scalars(sa.select(PriceRule)).all()
    assert (
        saved.name,
        saved.kind,
        saved.threshold_percent,
        saved.window_days,
        saved.action,
        saved.enabled,
    ) == (
        "高于参考价10%冻结",
        PriceRuleKind.ABOVE_REFERENCE,
        D("10.00"),
        None,
        PriceRuleAction.FREEZE,
        True,
    )
    assert saved.updated_by_id == operator.id
    edit = client.get(f"/oversight/price-rules/{saved.id}")
    assert edit.status_code == 200
    changed = client.post(
        f"/oversight/price-rules/{saved.id}",
        data={
            "csrf_token": token,
            "name": "停用",
            "kind": "rise",
            "threshold_percent": "15",
            "window_days": "7",
            "action": "alert",
        },
    )
    assert changed.status_code == 302
    db.session.refresh(saved)
    assert (saved.kind, saved.threshold_percent, saved.window_days, saved.enabled) == (
        PriceRuleKind.RISE,
        D("15.00"),
        7,
        False,
    )
    assert client.get("/oversight/price-rules/999999").status_code == 404
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.like("price_rule.%")).order_by(AuditEvent.id)
    ).all()
    assert actions == ["price_rule.create", "price_rule.update"]


@pytest.mark.parametrize(
    ("kind", "role", "reads"),
    [
        (OrgKind.REGULATOR, Role.REGULATOR, True),
        (OrgKind.SUPPLIER, Role.SUPPLIER, False),
        (OrgKind.PURCHASING_UNIT, Role.PURCHASER, False),
        (OrgKind.PURCHASING_UNIT, Role.APPROVER, False),
        (OrgKind.FINANCE, Role.FINANCE, False),
    ],
)
def test_rules_are_changed_by_operators_only(client, db_session, kind, role, reads):
    existing = rule()
    login(client, factories.user(factories.org(kind), role).username)
    listing = client.get("/oversight/price-rules")
    assert listing.status_code == (200 if reads else 403)
    if reads:
        assert existing.name in listing.get_data(as_text=True)
    token = csrf_from(client, "/")
    form = {
        "csrf_token": token,
        "name": "x",
        "kind": "above_reference",
        "threshold_percent": "1",
        "action": "alert",
    }
    assert client.post("/oversight/price-rules", data=form).status_code == 403
    assert client.get(f"/oversight/price-rules/{existing.id}").status_code == 403
    assert client.post(f"/oversight/price-rules/{existing.id}", data=form).status_code == 403
    db.session.refresh(existing)
    assert existing.name == "规则above_reference"
    assert len(db.session.scalars(sa.select(PriceRule)).all()) == 1
