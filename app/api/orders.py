"""Orders for machine clients: suppliers' ERPs and finance systems.

Every order is read through :func:`visible_orders`: a purchasing unit's token sees its unit's
orders, a supplier's token its own, finance, operator and regulator tokens every order; anything
else is answered 404 exactly like an order that does not exist. A status change goes through
:func:`app.orders.lifecycle.transition` — the one place an order's status changes — acting as
the token's organization (suppliers confirm, reject, ship and deliver; finance marks the payment
steps); an illegal move answers 409 with the Chinese message.
"""

from __future__ import annotations

from flask import abort, g
from flask_smorest import Blueprint
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from app.api.auth import token_required
from app.api.catalog_upload import idempotency_documented
from app.api.schemas import OrderListQuery, OrderListResponse, OrderResponse, OrderTransitionSchema
from app.api.v1 import URL_PREFIX, abort_with_errors, paginate
from app.auth.models import ApiScope, OrgKind
from app.catalog_upload.idempotency import idempotent
from app.core import audit
from app.extensions import csrf, db
from app.orders.lifecycle import EDGES, NEEDS_NOTE, Actor, TransitionError, allowed_targets, transition
from app.orders.models import Order, OrderLine, OrderStatus
from app.orders.payloads import order_payload
from app.payments import services as payments

orders_bp = Blueprint(
    "api_v1_orders",
    __name__,
    url_prefix=URL_PREFIX,
    description="订单：列表、详情（含状态历史）和状态变更，供供应商 ERP 和财政系统对接",
)
csrf.exempt(orders_bp)

# Finance systems pay every unit's orders; operators and regulators oversee them.
ALL_ORDERS_ORG_KINDS = frozenset({OrgKind.FINANCE, OrgKind.OPERATOR, OrgKind.REGULATOR})

_LOAD = (
    selectinload(Order.unit),
    selectinload(Order.supplier),
    selectinload(Order.plan),
    selectinload(Order.lines).selectinload(OrderLine.category),
    selectinload(Order.comparison_record),
)


def visible_orders() -> Select:
    organization = g.api_org
    query = select(Order)
    if organization.kind is OrgKind.PURCHASING_UNIT:
        return query.where(Order.unit_id == organization.id)
    if organization.kind is OrgKind.SUPPLIER:
        return query.where(Order.supplier_id == organization.id)
    if organization.kind in ALL_ORDERS_ORG_KINDS:
        return query
    abort(403, description="此单位不能查看订单。")


def _actor() -> Actor:
    return Actor.of_client(g.api_org)


def order_out(order: Order, *, detail: bool = False) -> dict:
    data = {
        "id": order.id,
        **order_payload(order),
        "delivery": {
            "address": order.delivery_address,
            "contact_name": order.contact_name,
            "contact_phone": order.contact_phone,
        },
        "note": order.note,
        "updated_at": order.updated_at,
    }
    if detail:
        writable = ApiScope.ORDERS_WRITE.value in g.api_scopes
        data["budget_check"] = order.budget_check or {}
        data["history"] = [
            {
                "from_status": event.from_status,
                "to_status": event.to_status,
                "actor": event.actor_label,
                "note": event.note,
                "created_at": event.created_at,
            }
            for event in order.history
        ]
        data["allowed_transitions"] = (
            [status.value for status in allowed_targets(order, _actor())] if writable else []
        )
    return data


@orders_bp.route("/orders")
@token_required(ApiScope.ORDERS_READ)
@orders_bp.arguments(OrderListQuery, location="query")
@orders_bp.response(200, OrderListResponse, description="成功")
def order_list(args):
    """订单列表

    预算单位只看到本单位的订单，供应商只看到发给本单位的订单；财政、卖场运营和监管单位看到全部订单。
    可按状态（status）和变化时间（since：此时间之后创建或状态有变化）筛选；按最后变化时间从早到晚排列，
    便于用上次看到的最后变化时间作 since 增量拉取。金额为两位小数的字符串。需要权限范围 orders:read。
    """
    query = visible_orders()
    if args["status"]:
        query = query.where(Order.status == OrderStatus(args["status"]))
    if args["since"]:
        query = query.where(Order.updated_at >= args["since"])
    items, pagination = paginate(query.options(*_LOAD), args, Order.updated_at, Order.id)
    return {"data": [order_out(order) for order in items], "pagination": pagination}


def _visible_order(order_id: int, *, lock: bool = False) -> Order:
    query = visible_orders().where(Order.id == order_id).options(*_LOAD, selectinload(Order.history))
    if lock:
        query = query.with_for_update()
    order = db.session.scalar(query)
    if order is None:
        abort(404, description="订单不存在。")
    return order


@orders_bp.route("/orders/<int:order_id>")
@token_required(ApiScope.ORDERS_READ)
@orders_bp.response(200, OrderResponse, description="成功")
@orders_bp.alt_response(404, response="NOT_FOUND")
def order_detail(order_id: int):
    """订单详情

    订单的全部信息（与订单事件推送的内容相同）：采购单位、供应商、采购计划、冻结价格的明细、比价记录、
    收货信息，以及预算校验结果、状态历史（谁、何时、从何状态到何状态、原因）和调用方现在可以执行的
    状态变更（allowed_transitions）。不在调用方可见范围内的订单答 404。需要权限范围 orders:read。
    """
    return {"data": order_out(_visible_order(order_id), detail=True)}


@orders_bp.route("/orders/<int:order_id>/transitions", methods=["POST"])
@idempotency_documented
@token_required(ApiScope.ORDERS_WRITE)
@idempotent
@orders_bp.arguments(OrderTransitionSchema)
@orders_bp.response(200, OrderResponse, description="状态已变更；返回变更后的订单")
@orders_bp.alt_response(404, response="NOT_FOUND")
@orders_bp.alt_response(
    409,
    response="CONFLICT",
    description="当前状态不允许此变更，或调用方无权执行（例如已确认的订单再次确认、超过确认时限），"
    "message 给出中文原因；同一幂等键的请求正在处理",
)
@orders_bp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@orders_bp.alt_response(
    422,
    response="UNPROCESSABLE_ENTITY",
    description="参数未通过校验：目标状态无效，拒绝未填原因（note），发货未填物流单号（tracking_number）",
)
def order_transition(args, order_id: int):
    """变更订单状态

    以令牌所属单位的身份变更订单状态。供应商：submitted → confirmed（确认，须在确认时限内）或
    rejected（拒绝，须填 note，预算随即释放）；confirmed → shipped（发货，须填 tracking_number）；
    shipped → delivered（送达）。财政系统：accepted → payment_pending（发起支付）；
    payment_pending → paid（已支付，预算核销）。发起支付时向支付服务创建支付单。
    每次变更写入状态历史并推送订单事件。
    非法的变更答 409 并给出原因，订单不变。支持 Idempotency-Key。需要权限范围 orders:write。
    """
    order = _visible_order(order_id, lock=True)
    to = OrderStatus(args["to"])
    actor = _actor()
    note = (args["note"] or "").strip()
    tracking = (args["tracking_number"] or "").strip()
    edge = (order.status, to)
    if actor.kind in EDGES.get(edge, ()):  # a move this caller may make: say what input is missing
        if edge in NEEDS_NOTE and not note:
            abort_with_errors(422, "请填写原因。", {"json": {"note": ["此状态变更须填写原因"]}})
        if to is OrderStatus.SHIPPED and not tracking:
            abort_with_errors(
                422, "发货须填写物流单号。", {"json": {"tracking_number": ["发货须填写物流单号"]}}
            )
    before = order.status
    try:
        if to is OrderStatus.PAYMENT_PENDING:
            # Asking for payment creates the payment intent at the provider, not just a status.
            payments.request_payment(order, actor)
        elif to is OrderStatus.PAID and payments.payment_in_flight(order):
            abort(
                409,
                description=f"订单 {order.number} 的支付正在处理或已成功，不能再标记为已支付。",
            )
        else:
            transition(order, to, actor, note=note, tracking_number=tracking)
    except TransitionError as exc:
        abort(409, description=str(exc))
    except payments.PaymentRequestError as exc:
        abort(exc.status, description=exc.message)
    audit.record(
        "orders.api_transition",
        organization_id=g.api_org.id,
        token_id=g.api_token.id,
        order_no=order.number,
        from_status=before.value,
        to_status=to.value,
    )
    db.session.flush()
    return {"data": order_out(order, detail=True)}
