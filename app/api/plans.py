"""Procurement plans pushed by the finance system (or the mall's operator): ``POST /api/v1/plans``,
idempotent by plan number, and a plan's budget ledger entry by entry.

The plan's budget only ever moves through orders (reserve on submit, release on reject/cancel/
return, consume on payment); nothing here touches the ledger.
"""

from __future__ import annotations

from flask import abort, g, url_for
from flask_smorest import Blueprint
from sqlalchemy import select

from app.api.auth import require_org_kind, token_required
from app.api.schemas import PlanCreateSchema, PlanLedgerQuery, PlanLedgerResponse, PlanResponse
from app.api.v1 import URL_PREFIX, abort_with_errors, paginate, visible_plans
from app.auth.models import ApiScope, OrgKind
from app.core import audit
from app.extensions import csrf, db
from app.procurement import services
from app.procurement.models import LedgerEntry, ProcurementPlan

plan_writes_bp = Blueprint(
    "api_v1_plan_writes",
    __name__,
    url_prefix=URL_PREFIX,
    description="采购计划推送（财政系统、卖场运营，按计划编号幂等）与预算台账明细",
)
csrf.exempt(plan_writes_bp)

PLAN_WRITERS = (OrgKind.FINANCE, OrgKind.OPERATOR)


@plan_writes_bp.route("/plans", methods=["POST"])
@token_required(ApiScope.PLANS_WRITE)
@plan_writes_bp.arguments(PlanCreateSchema)
@plan_writes_bp.response(201, PlanResponse, description="已新建（响应头 Location 为计划地址）")
@plan_writes_bp.alt_response(
    200, schema=PlanResponse, description="同一计划编号、内容相同的计划已存在：返回该计划，不做任何改动"
)
@plan_writes_bp.alt_response(
    409, response="CONFLICT", description="计划编号已被内容不同的计划使用；message 列出不同的项目"
)
@plan_writes_bp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@plan_writes_bp.alt_response(
    422,
    response="UNPROCESSABLE_ENTITY",
    description="参数未通过校验，或预算单位不存在，或品目编码不存在、不是末级品目（errors.json 指明编码）",
)
def plan_create(args):
    """新建采购计划

    为预算单位（按单位编码）登记一条已批复的采购计划：计划编号、名称、预算年度、预算项目编码、
    资金来源、批复金额（两位小数以内的字符串）和覆盖的品目（2022 版品目分类目录的末级编码）。
    按计划编号幂等：同一编号、相同内容重复推送答 200 并返回已有计划；内容不同答 409，已有计划不变。
    新计划的预算台账为空，预占、释放、核销只由订单产生，不能通过本接口调整。
    需要权限范围 plans:write，仅财政系统和卖场运营单位可用。
    """
    require_org_kind(*PLAN_WRITERS, message="只有财政系统和卖场运营单位可以登记采购计划。")
    try:
        plan, created = services.create_plan(**args)
    except services.PlanInputError as exc:
        abort_with_errors(422, "采购计划未登记。", {"json": {exc.field: [exc.message]}})
    except services.PlanConflict as exc:
        abort_with_errors(409, str(exc), {"json": {"plan_no": [str(exc)]}})
    if not created:
        return {"data": plan}, 200
    audit.record(
        "plans.api_create",
        organization_id=g.api_org.id,
        token_id=g.api_token.id,
        plan_no=plan.plan_no,
        unit_code=args["unit_code"],
        amount=str(plan.amount),
    )
    location = url_for("api_v1_plans.plan_detail", plan_id=plan.id)
    return {"data": plan}, 201, {"Location": location}


@plan_writes_bp.route("/plans/<int:plan_id>/ledger")
@token_required(ApiScope.PLANS_READ)
@plan_writes_bp.arguments(PlanLedgerQuery, location="query")
@plan_writes_bp.response(200, PlanLedgerResponse, description="成功")
@plan_writes_bp.alt_response(404, response="NOT_FOUND")
def plan_ledger(args, plan_id: int):
    """采购计划的预算台账

    计划及其预算合计（plan），以及台账的每一笔记录（data）：预占（下单）、释放（拒绝、取消、退货）、
    核销（支付），按时间先后，附订单编号。已预占 = 预占 − 释放 − 核销。
    不在调用方可见范围内的计划答 404。需要权限范围 plans:read。
    """
    plan = db.session.scalar(visible_plans().where(ProcurementPlan.id == plan_id))
    if plan is None:
        abort(404, description="采购计划不存在。")
    entries = select(LedgerEntry).where(LedgerEntry.plan_id == plan.id)
    items, pagination = paginate(entries, args, LedgerEntry.id)
    return {"plan": plan, "data": items, "pagination": pagination}
