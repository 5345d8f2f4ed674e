"""The supplier's catalog upload pages: templates, the upload form with the batch history, a
batch's page (progress, errors, report, review decisions), its JSON status and cancellation.

Every batch is read through :func:`own_batches`: another organization's batch is a 404.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from app.auth.access import roles_required
from app.auth.models import Role
from app.catalog.models import CATALOG_VERSION, Offer, OfferStatus
from app.catalog_upload import lookups, services, storage
from app.catalog_upload.jobs import enqueue_import
from app.catalog_upload.labels import status_label
from app.catalog_upload.models import BatchStatus, ImportBatch
from app.catalog_upload.schemas import BatchListQuery, ReportQuery, TemplateQuery, UploadForm
from app.extensions import csrf, db
from app.review.models import Decision, OfferSubmission, ReviewDecision
from catalog_import import DEFAULT_LIMITS, Limits, csv_template, template_filename, xlsx_template

bp = Blueprint("catalog_upload", __name__, url_prefix="/supplier/catalog")

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
FORM_OVERHEAD = 64 * 1024  # the multipart envelope, the CSRF token and the category code


def own_batches() -> Select:
    return select(ImportBatch).where(ImportBatch.organization_id == current_user.organization_id)


def _own_batch(batch_id: int) -> ImportBatch:
    return db.first_or_404(
        own_batches()
        .where(ImportBatch.id == batch_id)
        .options(selectinload(ImportBatch.category), selectinload(ImportBatch.uploaded_by))
    )


def attachment(response, filename: str, fallback: str):
    """``Content-Disposition`` with an ASCII name for old clients and the real (UTF-8) one in
    RFC 5987 form for the rest."""
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    return response


def _limits() -> Limits:
    limit = current_app.config["CATALOG_UPLOAD_MAX_BYTES"]
    return DEFAULT_LIMITS if limit == DEFAULT_LIMITS.max_file_bytes else Limits(max_file_bytes=limit)


def size_text(size: int) -> str:
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


def _too_large_message() -> str:
    return _(
        "文件超过 %(size)s 上限，未上传。请拆分为多个文件分别上传，或删除图片、多余的工作表后另存。",
        size=size_text(current_app.config["CATALOG_UPLOAD_MAX_BYTES"]),
    )


# --------------------------------------------------------------------------------------------
# Templates


@bp.get("/templates")
@roles_required(Role.SUPPLIER)
def templates():
    return render_template(
        "catalog_upload/templates.html", categories=lookups.leaf_categories_with_registry()
    )


@bp.get("/templates/download")
@roles_required(Role.SUPPLIER)
def template_download():
    try:
        args = TemplateQuery().load(request.args.to_dict())
    except ValidationError as exc:
        return (
            render_template(
                "catalog_upload/templates.html",
                categories=lookups.leaf_categories_with_registry(),
                errors=exc.messages,
            ),
            422,
        )
    category = lookups.category_for_upload(args["category"], CATALOG_VERSION)
    if category is None:
        return (
            render_template(
                "catalog_upload/templates.html",
                categories=lookups.leaf_categories_with_registry(),
                errors={
                    "category": [_("该品目不存在，或还没有属性登记表，暂不能批量导入；请从列表中选择品目。")]
                },
            ),
            422,
        )
    spec = lookups.category_spec(category)
    fmt = args["format"]
    body = xlsx_template(spec) if fmt == "xlsx" else csv_template(spec)
    response = make_response(body)
    response.mimetype = XLSX_MIMETYPE if fmt == "xlsx" else "text/csv"
    if fmt == "csv":
        response.headers["Content-Type"] = CSV_MIMETYPE
    response.headers["Cache-Control"] = "private, max-age=300"
    return attachment(response, template_filename(spec, fmt), f"catalog-template-{category.code}.{fmt}")


# --------------------------------------------------------------------------------------------
# Uploads


def _render_uploads(status: int = 200, errors: dict | None = None, form: dict | None = None):
    args = BatchListQuery().load(request.args.to_dict())
    query = own_batches()
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    batches = db.session.scalars(
        query.options(selectinload(ImportBatch.category), selectinload(ImportBatch.uploaded_by))
        .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
        .limit(args["per_page"])
        .offset((args["page"] - 1) * args["per_page"])
    ).all()
    return (
        render_template(
            "catalog_upload/uploads.html",
            batches=batches,
            total=total,
            categories=lookups.leaf_categories_with_registry(),
            errors=errors or {},
            form=form or {},
            max_size=size_text(current_app.config["CATALOG_UPLOAD_MAX_BYTES"]),
            max_rows=DEFAULT_LIMITS.max_rows,
            **args,
        ),
        status,
    )


@bp.get("/uploads")
@roles_required(Role.SUPPLIER)
def uploads():
    return _render_uploads()


@bp.post("/uploads")
@roles_required(Role.SUPPLIER)
def upload():
    # This route alone accepts a big body: its limit is set before anything reads the body (the
    # CSRF check included, which is why it runs here rather than before the view).
    limit = current_app.config["CATALOG_UPLOAD_MAX_BYTES"] + FORM_OVERHEAD
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        abort(413, description=_too_large_message())
    try:
        csrf.protect()
        data = request.form.to_dict()
        upload_file = request.files.get("file")
    except RequestEntityTooLarge:
        abort(413, description=_too_large_message())
    try:
        form = UploadForm().load(data)
    except ValidationError as exc:
        return _render_uploads(422, exc.messages, data)
    errors: dict[str, list[str]] = {}
    category = lookups.category_for_upload(form["category"], CATALOG_VERSION)
    if category is None:
        errors["category"] = [_("该品目不存在，或还没有属性登记表，暂不能批量导入；请从列表中选择品目。")]
    if upload_file is None or not upload_file.filename:
        errors["file"] = [_("请选择要上传的文件（.xlsx 或 .csv）。")]
    if errors:
        return _render_uploads(422, errors, data)
    try:
        batch = services.create_batch(
            current_user, category, upload_file.stream, upload_file.filename, _limits()
        )
    except services.UploadError as exc:
        return _render_uploads(422, {exc.field: [exc.message]}, data)
    enqueue_import(batch.id)
    flash(_("已收到文件“%(name)s”，正在校验。", name=batch.original_filename), "success")
    return redirect(url_for("catalog_upload.batch_detail", batch_id=batch.id))


csrf.exempt(upload)  # checked inside the view, once the route's own size limit is in force


def _review_summary(batch: ImportBatch) -> tuple[dict[str, int], list[ReviewDecision]]:
    """How the offers this batch sent to review stand now, and the operators' decisions on them."""
    counts = dict(
        db.session.execute(
            select(Offer.status, func.count(func.distinct(Offer.id)))
            .join(OfferSubmission, OfferSubmission.offer_id == Offer.id)
            .where(OfferSubmission.batch_id == batch.id, Offer.supplier_id == batch.organization_id)
            .group_by(Offer.status)
        ).all()
    )
    decisions = db.session.scalars(
        select(ReviewDecision)
        .join(Offer, ReviewDecision.offer_id == Offer.id)
        .where(ReviewDecision.batch_id == batch.id, Offer.supplier_id == batch.organization_id)
        .options(selectinload(ReviewDecision.offer).selectinload(Offer.product))
        .order_by(ReviewDecision.created_at.desc(), ReviewDecision.id.desc())
        .limit(100)
    ).all()
    return {str(status): count for status, count in counts.items()}, list(decisions)


@bp.get("/uploads/<int:batch_id>")
@roles_required(Role.SUPPLIER)
def batch_detail(batch_id: int):
    batch = _own_batch(batch_id)
    review_counts, decisions = _review_summary(batch) if batch.status == BatchStatus.APPLIED else ({}, [])
    return render_template(
        "catalog_upload/batch.html",
        batch=batch,
        review_counts=review_counts,
        decisions=decisions,
        Decision=Decision,
        OfferStatus=OfferStatus,
    )


def progress_summary(batch: ImportBatch) -> str:
    """The progress line under the bar, as the page shows it (the script replaces it with this)."""
    text = _("已读取 %(rows)s 行", rows=f"{batch.rows_read:,}")
    if batch.rows_total:
        text += " / " + _("约 %(total)s 行", total=f"{batch.rows_total:,}")
    text += "，" + _("发现错误 %(n)s 处", n=f"{batch.errors_count:,}")
    if batch.cancel_requested:
        text += "；" + _("正在取消…")
    return text


@bp.app_template_global()
def batch_progress_summary(batch: ImportBatch) -> str:
    return progress_summary(batch)


def status_payload(batch: ImportBatch) -> dict:
    return {
        "id": batch.id,
        "status": str(batch.status),
        "status_label": status_label(batch.status),
        "active": batch.active,
        "cancel_requested": batch.cancel_requested,
        "rows_read": batch.rows_read,
        "rows_total": batch.rows_total,
        "rows_ok": batch.rows_ok,
        "error_rows": batch.error_rows,
        "errors_count": batch.errors_count,
        "percent": batch.percent,
        "message": batch.message,
        "summary": progress_summary(batch),
    }


@bp.get("/uploads/<int:batch_id>/status")
@roles_required(Role.SUPPLIER)
def batch_status(batch_id: int):
    response = jsonify(status_payload(_own_batch(batch_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/uploads/<int:batch_id>/cancel")
@roles_required(Role.SUPPLIER)
def cancel_confirm(batch_id: int):
    return render_template("catalog_upload/cancel.html", batch=_own_batch(batch_id))


@bp.post("/uploads/<int:batch_id>/cancel")
@roles_required(Role.SUPPLIER)
def cancel(batch_id: int):
    batch = _own_batch(batch_id)
    try:
        services.request_cancel(batch, current_user)
    except services.CancelRefused as exc:
        flash(exc.message, "warning")
        return redirect(url_for("catalog_upload.batch_detail", batch_id=batch.id))
    if batch.status == BatchStatus.CANCELLED:
        flash(_("已取消，没有写入任何数据。"), "success")
    else:
        flash(_("已请求取消：校验将在几秒内停止，不会写入任何数据。"), "info")
    return redirect(url_for("catalog_upload.batch_detail", batch_id=batch.id))


@bp.get("/uploads/<int:batch_id>/report")
@roles_required(Role.SUPPLIER)
def report(batch_id: int):
    batch = _own_batch(batch_id)
    args = ReportQuery().load(request.args.to_dict())
    if not batch.report_path:
        abort(404, description=_("该批次没有错误报告。"))
    relative = batch.report_path if args["format"] == "csv" else storage.xlsx_report_path(batch.report_path)
    path = storage.resolve(relative)
    if not path.is_file():
        abort(404, description=_("错误报告文件已不存在，请重新上传原文件生成新的报告。"))
    fmt = args["format"]
    stem = Path(batch.original_filename).stem[:80] or "upload"
    response = send_file(
        path, mimetype=XLSX_MIMETYPE if fmt == "xlsx" else CSV_MIMETYPE, conditional=True, max_age=0
    )
    response.headers["Cache-Control"] = "private, no-store"
    return attachment(response, f"错误报告_{stem}.{fmt}", f"error-report-{batch.id}.{fmt}")


@bp.app_template_global()
def batch_status_label(status) -> str:
    return status_label(status)


@bp.app_template_global()
def batch_is_stale(batch: ImportBatch) -> bool:
    return services.is_stale(batch)
