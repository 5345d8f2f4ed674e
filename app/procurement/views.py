from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.access import roles_required
from app.auth.models import Organization, OrgKind, Role
from app.catalog.models import CATALOG_VERSION, Category
from app.core import audit
from app.extensions import db
from app.procurement import services
from app.procurement.models import LedgerEntry, ProcurementPlan
from app.procurement.schemas import LedgerPageQuery, PlanForm, PlanListQuery

bp = Blueprint("procurement", __name__, url_prefix="/plans")

PLAN_READERS = (Role.PURCHASER, Role.APPROVER, Role.OPERATOR, Role.REGULATOR, Role.FINANCE)
# Finance systems fund every unit's plans; operators and regulators oversee them.
ALL_UNITS_READERS = frozenset({Role.OPERATOR, Role.REGULATOR, Role.FINANCE})
# Plans normally arrive from the finance system through the API; the mall's operator may register one.
PLAN_CREATORS = (Role.OPERATOR,)


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
    return render_template(
        "procurement/plan_list.html",
        plans=plans,
        total=total,
        can_create=current_user.role in PLAN_CREATORS,
        **args,
    )


def _order_links(plan: ProcurementPlan, entries: list[LedgerEntry]) -> dict[str, int]:
    """Order number → order id, for the ledger's orders this user may open."""
    from app.orders.models import Order
    from app.orders.services import visible_orders

    numbers = {entry.reference for entry in entries if entry.reference}
    if not numbers:
        return {}
    rows = db.session.execute(
        visible_orders(current_user)
        .where(Order.plan_id == plan.id, Order.number.in_(numbers))
        .with_only_columns(Order.number, Order.id)
    ).all()
    return {number: order_id for number, order_id in rows}


@bp.get("/<int:plan_id>")
@roles_required(*PLAN_READERS)
def plan_detail(plan_id: int):
    plan = db.first_or_404(visible_plans().where(ProcurementPlan.id == plan_id))
    args = LedgerPageQuery().load(request.args.to_dict())
    entries_query = select(LedgerEntry).where(LedgerEntry.plan_id == plan.id)
    total = db.session.scalar(select(func.count()).select_from(entries_query.subquery()))
    offset = (args["page"] - 1) * args["per_page"]
    entries = db.session.scalars(
        entries_query.order_by(LedgerEntry.id).limit(args["per_page"]).offset(offset)
    ).all()
    sums = services.ledger_sums(plan.id)
    return render_template(
        "procurement/plan_detail.html",
        plan=plan,
        entries=entries,
        entry_total=total,
        order_links=_order_links(plan, entries),
        ledger_matches=all(getattr(plan, key) == value for key, value in sums.items()),
        **args,
    )


def _form_choices() -> dict:
    units = db.session.scalars(
        select(Organization)
        .where(Organization.kind == OrgKind.PURCHASING_UNIT, Organization.is_active.is_(True))
        .order_by(Organization.code)
    ).all()
    leaves = db.session.scalars(
        select(Category)
        .where(Category.catalog_version == CATALOG_VERSION, Category.is_leaf.is_(True))
        .options(selectinload(Category.parent))
        .order_by(Category.code)
    ).all()
    groups: dict[str, list[Category]] = {}
    for leaf in leaves:
        parent = leaf.parent
        heading = f"{parent.code} {parent.name}" if parent else _("其他")
        groups.setdefault(heading, []).append(leaf)
    return {"units": units, "category_groups": groups}


def _render_form(form: dict, errors: dict, status: int = 200):
    return (
        render_template("procurement/plan_new.html", form=form, errors=errors, **_form_choices()),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*PLAN_CREATORS)
def plan_new():
    if request.method == "GET":
        blank = {key: "" for key in PlanForm().fields} | {"category_codes": []}
        return _render_form(blank | {"fiscal_year": str(services.fiscal_year())}, {})
    raw = {**request.form.to_dict(), "category_codes": request.form.getlist("category_codes")}
    form = {key: raw.get(key, "") for key in PlanForm().fields} | {"category_codes": raw["category_codes"]}
    try:
        data = PlanForm().load(raw)
        plan, created = services.create_plan(**data)
    except ValidationError as exc:
        errors = dict(exc.messages)
        if isinstance(errors.get("category_codes"), dict):  # per-item messages: one line each
            errors["category_codes"] = sorted(
                {message for messages in errors["category_codes"].values() for message in messages}
            )
        return _render_form(form, errors, 400)
    except services.PlanInputError as exc:
        return _render_form(form, {exc.field: [exc.message]}, 400)
    except services.PlanConflict as exc:
        return _render_form(form, {"plan_no": [str(exc)]}, 409)
    if created:
        audit.record(
            "plans.create",
            user=current_user,
            plan_no=plan.plan_no,
            unit_code=data["unit_code"],
            amount=str(plan.amount),
        )
        flash(_("采购计划 %(plan_no)s 已登记。", plan_no=plan.plan_no), "success")
    else:
        flash(_("采购计划 %(plan_no)s 已经登记过，内容相同，未作改动。", plan_no=plan.plan_no), "info")
    return redirect(url_for("procurement.plan_detail", plan_id=plan.id))
