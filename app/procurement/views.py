from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.access import roles_required
from app.auth.models import Role
from app.extensions import db
from app.procurement.models import ProcurementPlan
from app.procurement.schemas import PlanListQuery

bp = Blueprint("procurement", __name__, url_prefix="/plans")

PLAN_READERS = (Role.PURCHASER, Role.APPROVER, Role.OPERATOR, Role.REGULATOR, Role.FINANCE)
# Finance systems fund every unit's plans; operators and regulators oversee them.
ALL_UNITS_READERS = frozenset({Role.OPERATOR, Role.REGULATOR, Role.FINANCE})


def visible_plans():
    query = select(ProcurementPlan)
    if current_user.role not in ALL_UNITS_READERS:
        query = query.where(ProcurementPlan.unit_id == current_user.organization_id)
    return query


@bp.get("/")
@roles_required(*PLAN_READERS)
def plan_list():
    args = PlanListQuery().load(request.args.to_dict())
    query = visible_plans()
    if args.get("fiscal_year"):
        query = query.where(ProcurementPlan.fiscal_year == args["fiscal_year"])
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    plans = db.session.scalars(
        query.options(selectinload(ProcurementPlan.unit), selectinload(ProcurementPlan.categories))
        .order_by(ProcurementPlan.fiscal_year.desc(), ProcurementPlan.plan_no)
        .limit(args["per_page"])
        .offset((args["page"] - 1) * args["per_page"])
    ).all()
    return render_template("procurement/plan_list.html", plans=plans, total=total, **args)


@bp.get("/<int:plan_id>")
@roles_required(*PLAN_READERS)
def plan_detail(plan_id: int):
    plan = db.first_or_404(visible_plans().where(ProcurementPlan.id == plan_id))
    return render_template("procurement/plan_detail.html", plan=plan)
