"""The comparison pages: the compare list (session), the side-by-side page, and saved comparison
records (比价记录) with a print view. Thin: the verbs live in :mod:`app.compare.services`."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.access import roles_required, safe_next_url
from app.auth.models import Role
from app.catalog.charts import LOCAL_TZ
from app.catalog.models import Product
from app.compare import services
from app.compare.models import ComparisonRecord
from app.compare.schemas import (
    CompareClearForm,
    CompareItemForm,
    CompareQuery,
    RecordListQuery,
    SaveRecordForm,
)
from app.extensions import db

bp = Blueprint("compare", __name__, url_prefix="/compare")


@bp.app_context_processor
def compare_helpers():
    # A callable, so pages that never show the count do not touch the session.
    return {"compare_count": lambda: len(services.compare_ids(session)), "compare_max": services.MAX_PRODUCTS}


@bp.app_template_filter("local_time")
def local_time(moment, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time shown in the mall's time zone (China Standard Time)."""
    return moment.astimezone(LOCAL_TZ).strftime(fmt) if moment else "—"


def _back(target: str | None, default: str) -> str:
    return safe_next_url(target, default)


# --------------------------------------------------------------------------------------------
# The compare list


@bp.post("/add")
def add():
    form = CompareItemForm().load(request.form.to_dict())
    fallback = url_for("catalog.product_detail", product_id=form["product_id"])
    try:
        result = services.add_to_compare(session, form["product_id"])
    except services.CompareError as exc:
        flash(exc.message, "error")
        return redirect(_back(form["next"], url_for("compare.compare_page")))
    count, limit = len(result.ids), services.MAX_PRODUCTS
    if not result.added:
        flash(_("该商品已在对比列表中（%(count)s/%(max)s）。", count=count, max=limit), "info")
    else:
        flash(_("已加入对比（%(count)s/%(max)s）。", count=count, max=limit), "success")
        if result.other_categories:
            flash(
                _(
                    "该商品与对比列表中的%(categories)s不属于同一品目，只有共同的参数可以直接比较。",
                    categories="、".join(result.other_categories),
                ),
                "warning",
            )
    return redirect(_back(form["next"], fallback))


@bp.post("/remove")
def remove():
    form = CompareItemForm().load(request.form.to_dict())
    if services.remove_from_compare(session, form["product_id"]):
        flash(_("已移出对比。"), "success")
    return redirect(_back(form["next"], url_for("compare.compare_page")))


@bp.post("/clear")
def clear():
    form = CompareClearForm().load(request.form.to_dict())
    services.clear_compare(session)
    flash(_("已清空对比列表。"), "success")
    return redirect(_back(form["next"], url_for("compare.compare_page")))


# --------------------------------------------------------------------------------------------
# The comparison page


def _render_compare(status: int = 200, errors: dict | None = None, form: dict | None = None):
    args = CompareQuery().load(request.args.to_dict())
    products, removed = services.prune_compare(session)
    table = None
    if len(products) >= services.MIN_PRODUCTS:
        table = services.comparison_table(services.build_snapshot(products))
    can_save = current_user.is_authenticated and current_user.role is Role.PURCHASER
    return (
        render_template(
            "compare/compare.html",
            products=products,
            removed=removed,
            table=table,
            only_diff=args["diff"],
            can_save=can_save,
            errors=errors or {},
            form=form or {},
        ),
        status,
    )


@bp.get("")
def compare_page():
    return _render_compare()


@bp.post("/save")
@roles_required(Role.PURCHASER)
def save():
    data = request.form.to_dict()
    data["product_ids"] = request.form.getlist("product_ids")
    try:
        form = SaveRecordForm().load(data)
    except ValidationError as exc:
        return _render_compare(422, errors=exc.messages, form=data)
    if form["product_ids"] != services.compare_ids(session):
        flash(_("对比列表已在其他页面发生变化，请核对后重新保存。"), "warning")
        return redirect(url_for("compare.compare_page"))
    try:
        record = services.save_record(
            current_user, form["product_ids"], title=form["title"], note=form["note"]
        )
    except services.CompareError as exc:
        flash(exc.message, "error")
        return redirect(url_for("compare.compare_page"))
    flash(_("已保存比价记录 %(number)s。", number=record.number), "success")
    return redirect(url_for("compare.record_detail", record_id=record.id))


# --------------------------------------------------------------------------------------------
# Comparison records


@bp.get("/records")
@roles_required(*services.RECORD_READERS)
def record_list():
    args = RecordListQuery().load(request.args.to_dict())
    query = services.visible_records(current_user)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    records = db.session.scalars(
        query.options(selectinload(ComparisonRecord.organization), selectinload(ComparisonRecord.created_by))
        .order_by(ComparisonRecord.created_at.desc(), ComparisonRecord.id.desc())
        .limit(args["per_page"])
        .offset((args["page"] - 1) * args["per_page"])
    ).all()
    return render_template(
        "compare/record_list.html",
        records=records,
        total=total,
        all_units=current_user.role in services.ALL_ORGANIZATIONS_READERS,
        **args,
    )


def _visible_record(record_id: int) -> ComparisonRecord:
    return db.first_or_404(
        services.visible_records(current_user)
        .where(ComparisonRecord.id == record_id)
        .options(selectinload(ComparisonRecord.organization), selectinload(ComparisonRecord.created_by))
    )


def _active_ids(record: ComparisonRecord) -> set[int]:
    return set(
        db.session.scalars(
            select(Product.id).where(Product.id.in_(record.product_ids), Product.is_active.is_(True))
        )
    )


@bp.get("/records/<int:record_id>")
@roles_required(*services.RECORD_READERS)
def record_detail(record_id: int):
    record = _visible_record(record_id)
    args = CompareQuery().load(request.args.to_dict())
    return render_template(
        "compare/record_detail.html",
        record=record,
        table=services.comparison_table(record.snapshot),
        lowest=services.lowest_entry(record.snapshot),
        only_diff=args["diff"],
        active_ids=_active_ids(record),
    )


@bp.get("/records/<int:record_id>/print")
@roles_required(*services.RECORD_READERS)
def record_print(record_id: int):
    record = _visible_record(record_id)
    return render_template(
        "compare/record_print.html",
        record=record,
        table=services.comparison_table(record.snapshot),
        lowest=services.lowest_entry(record.snapshot),
    )
