"""The supplier's upload pages over HTTP: templates, the upload form, the batch page and its
status, cancellation, error reports, limits, roles — and the hostile-file corpus, each file giving
a clear Chinese error, never a 500, and nothing applied."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.auth.models import OrgKind, Role
from app.catalog.models import Offer, PriceChange, Product
from app.catalog_upload.models import BatchStatus, ImportBatch
from app.core.db import utcnow
from app.extensions import db
from catalog_import import open_table
from tests import factories
from tests.catalog_import import hostile_corpus
from tests.catalog_upload.helpers import registry_category, row, rows_file, supplier, upload
from tests.conftest import csrf_from, login
from tests.ui.pages import parse

UPLOADS = "/supplier/catalog/uploads"


@pytest.fixture
def signed_in(client, db_session):
    category = registry_category()
    organization, user = supplier()
    login(client, user.username)
    return client, category, organization, user


def multipart(form: dict) -> tuple[bytes, str]:
    """The body in memory: Werkzeug's test client spools a big multipart body to a temporary file
    it never closes (a ResourceWarning, an error under this suite's settings)."""
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    values = {
        key: FileStorage(io.BytesIO(value[0]), value[1]) if isinstance(value, tuple) else value
        for key, value in form.items()
    }
    boundary, body = encode_multipart(values)
    return body, f"multipart/form-data; boundary={boundary}"


def post_file(client, category_code: str, data: bytes, filename: str = "目录.csv", **extra):
    token = csrf_from(client, UPLOADS)
    body, content_type = multipart(
        {"csrf_token": token, "category": category_code, "file": (data, filename), **extra}
    )
    return client.post(UPLOADS, data=body, content_type=content_type)


def batch_of(response) -> ImportBatch:
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    batch_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    db.session.expire_all()
    return db.session.get(ImportBatch, batch_id)


# --------------------------------------------------------------------------------------------
# Templates


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_supplier_downloads_the_template_of_a_category(signed_in, fmt):
    client, category, _organization, _user = signed_in
    page = parse(client.get("/supplier/catalog/templates").get_data(as_text=True))
    options = [o.get("value") for o in page.find_all("option")]
    assert category.code in options

    response = client.get(f"/supplier/catalog/templates/download?category={category.code}&format={fmt}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="catalog-template-{category.code}.{fmt}"; ')
    assert (
        unquote(disposition.split("filename*=UTF-8''", 1)[1])
        == f"商品导入模板_{category.code}_台式计算机.{fmt}"
    )
    if fmt == "xlsx":
        assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    with open_table(io.BytesIO(response.data), f"t.{fmt}") as table:
        assert table.header[0] == "＊供应商货号｜supplier_sku"
        assert any(cell.endswith("｜memory_gb") for cell in table.header)


def test_a_category_without_registry_has_no_template(signed_in):
    client, _category, _organization, _user = signed_in
    bare = factories.category(code="A02010108", name="便携式计算机")
    response = client.get(f"/supplier/catalog/templates/download?category={bare.code}")
    assert response.status_code == 422
    assert "还没有属性登记表" in response.get_data(as_text=True)
    assert client.get("/supplier/catalog/templates/download?category=<script>").status_code == 422
    assert client.get("/supplier/catalog/templates/download").status_code == 422


@pytest.mark.parametrize("role", [Role.PURCHASER, Role.OPERATOR, Role.REGULATOR])
def test_only_suppliers_use_the_upload_pages(client, db_session, role):
    category = registry_category()
    kind = {
        Role.PURCHASER: OrgKind.PURCHASING_UNIT,
        Role.OPERATOR: OrgKind.OPERATOR,
        Role.REGULATOR: OrgKind.REGULATOR,
    }
    user = factories.user(factories.org(kind[role]), role)
    login(client, user.username)
    for url in (
        UPLOADS,
        "/supplier/catalog/templates",
        f"/supplier/catalog/templates/download?category={category.code}",
    ):
        assert client.get(url).status_code == 403, url
    token = csrf_from(client, "/")
    response = client.post(UPLOADS, data={"csrf_token": token, "category": category.code})
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_login(client, db_session):
    response = client.get(UPLOADS)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --------------------------------------------------------------------------------------------
# Uploading


def test_upload_then_batch_page_and_status(signed_in):
    client, category, organization, _user = signed_in
    response = post_file(client, category.code, rows_file([row()]))
    batch = batch_of(response)
    assert batch.status == BatchStatus.APPLIED  # in-process: the job ran after the request's commit
    assert batch.original_filename == "目录.csv"

    html = client.get(response.headers["Location"]).get_data(as_text=True)
    page = parse(html)
    assert page.one("progress").get("value") == "100"
    assert "已导入" in page.one("p", class_="batch-state").text
    assert "已收到文件“目录.csv”，正在校验。" in html
    status = client.get(f"{UPLOADS}/{batch.id}/status")
    assert status.headers["Cache-Control"] == "no-store"
    body = status.get_json()
    assert body["status"] == "applied" and body["active"] is False and body["percent"] == 100
    assert body["status_label"] == "已导入" and body["rows_read"] == 1

    listing = parse(client.get(UPLOADS).get_data(as_text=True))
    assert listing.one("a", href=f"{UPLOADS}/{batch.id}").text == f"#{batch.id}"
    assert (
        db.session.scalar(select(func.count()).select_from(Offer).where(Offer.supplier_id == organization.id))
        == 1
    )


def test_a_running_batch_page_polls_and_refreshes_itself(signed_in):
    client, category, _organization, user = signed_in
    batch = upload(user, category, rows_file([row()]), run=False)
    db.session.commit()
    html = client.get(f"{UPLOADS}/{batch.id}").get_data(as_text=True)
    page = parse(html)
    section = page.one("section", class_="card batch-progress")
    assert section.get("data-status-url") == f"{UPLOADS}/{batch.id}/status"
    assert page.find_all("script", src="/static/js/catalog_upload.js")
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    assert page.one("a", href=f"{UPLOADS}/{batch.id}").text == "刷新"
    assert page.one("a", href=f"{UPLOADS}/{batch.id}/cancel").text == "取消导入"
    script = client.get("/static/js/catalog_upload.js")
    script.close()
    assert script.status_code == 200
    body = client.get(f"{UPLOADS}/{batch.id}/status").get_json()
    assert body["active"] is True and body["status"] == "queued" and body["percent"] is None


def test_form_errors_are_chinese_and_name_the_fix(signed_in):
    client, category, _organization, _user = signed_in
    token = csrf_from(client, UPLOADS)
    response = client.post(
        UPLOADS, data={"csrf_token": token, "category": category.code}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert "请选择要上传的文件（.xlsx 或 .csv）。" in response.get_data(as_text=True)
    response = client.post(
        UPLOADS,
        data={"csrf_token": token, "file": (io.BytesIO(b"x"), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "请选择品目" in response.get_data(as_text=True)
    response = post_file(client, "A99999999", rows_file([row()]))
    assert response.status_code == 422 and "还没有属性登记表" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_an_upload_needs_its_csrf_token(signed_in):
    client, category, _organization, _user = signed_in
    response = client.post(
        UPLOADS,
        data={"category": category.code, "file": (io.BytesIO(rows_file([row()])), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_a_file_above_the_limit_is_a_clear_413(app, signed_in):
    client, category, _organization, _user = signed_in
    app.config["CATALOG_UPLOAD_MAX_BYTES"] = 64 * 1024
    try:
        response = post_file(client, category.code, b"x" * (200 * 1024))
    finally:
        app.config["CATALOG_UPLOAD_MAX_BYTES"] = 50 * 1024 * 1024
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "文件超过 64 KB 上限，未上传。请拆分为多个文件分别上传" in html
    assert "内容过大" in html
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_the_route_accepts_more_than_the_form_limit(app, signed_in):
    client, category, _organization, _user = signed_in
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    rows = [row(supplier_sku=f"SKU-{i}", model=f"M{i:05d}", name="台式计算机" * 30) for i in range(6000)]
    data = rows_file(rows)
    assert len(data) > 3 * 1024 * 1024
    batch = batch_of(post_file(client, category.code, data))
    assert batch.status == BatchStatus.APPLIED, batch.errors[:3]
    assert batch.offers_created == 6000


def test_at_most_three_batches_at_a_time(signed_in):
    client, category, _organization, user = signed_in
    for _ in range(3):
        upload(user, category, rows_file([row()]), run=False)
    response = post_file(client, category.code, rows_file([row()]))
    assert response.status_code == 422
    assert "请等其中一个完成（或取消）后再上传" in response.get_data(as_text=True)


def test_cancel_asks_first_then_cancels(signed_in):
    client, category, _organization, user = signed_in
    batch = upload(user, category, rows_file([row()]), run=False)
    page = parse(client.get(f"{UPLOADS}/{batch.id}/cancel").get_data(as_text=True))
    form = page.one("form", action=f"{UPLOADS}/{batch.id}/cancel")
    assert form.get("method") == "post"
    token = csrf_from(client, f"{UPLOADS}/{batch.id}/cancel")
    response = client.post(f"{UPLOADS}/{batch.id}/cancel", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ImportBatch, batch.id).status == BatchStatus.CANCELLED
    # Once finished, it cannot be cancelled again; the page says so.
    response = client.post(f"{UPLOADS}/{batch.id}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "该批次已经结束，无需取消" in response.get_data(as_text=True)
    assert client.post(f"{UPLOADS}/{batch.id}/cancel").status_code == 400  # no CSRF token


def test_cancelling_a_validating_batch_only_flags_it(signed_in):
    client, category, _organization, user = signed_in
    batch = upload(user, category, rows_file([row()]), run=False)
    batch.status = BatchStatus.VALIDATING
    db.session.commit()
    token = csrf_from(client, f"{UPLOADS}/{batch.id}")
    response = client.post(f"{UPLOADS}/{batch.id}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "已请求取消" in response.get_data(as_text=True)
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch.id)
    assert (batch.status, batch.cancel_requested) == (BatchStatus.VALIDATING, True)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_error_report_downloads_in_either_format(signed_in, fmt):
    client, category, _organization, _user = signed_in
    batch = batch_of(post_file(client, category.code, rows_file([row(memory_gb="十六")])))
    assert batch.status == BatchStatus.FAILED_VALIDATION
    html = client.get(f"{UPLOADS}/{batch.id}").get_data(as_text=True)
    assert "第 2 行「内存容量」：应为数字（单位：GB），例如 16，收到「十六」" in html
    response = client.get(f"{UPLOADS}/{batch.id}/report?format={fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="error-report-{batch.id}.{fmt}"'
    )
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    data = response.get_data()
    response.close()
    if fmt == "csv":
        assert data.decode("utf-8-sig").splitlines()[0].startswith("错误说明,原行号,")
    else:
        sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        first = next(sheet.iter_rows(values_only=True))
        assert first[:2] == ("错误说明", "原行号")
    assert client.get(f"{UPLOADS}/{batch.id}/report?format=pdf").status_code == 422


def test_a_batch_without_report_has_nothing_to_download(signed_in):
    client, category, _organization, user = signed_in
    batch = upload(user, category, rows_file([row()]))
    assert client.get(f"{UPLOADS}/{batch.id}/report").status_code == 404


def test_another_suppliers_batch_is_a_404(client, db_session):
    category = registry_category()
    _mine, me = supplier("甲")
    _theirs, them = supplier("乙")
    batch = upload(them, category, rows_file([row(memory_gb="十六")]))
    login(client, me.username)
    for suffix in ("", "/status", "/cancel", "/report", "/report?format=csv"):
        response = client.get(f"{UPLOADS}/{batch.id}{suffix}")
        assert response.status_code == 404, suffix
    token = csrf_from(client, UPLOADS)
    assert client.post(f"{UPLOADS}/{batch.id}/cancel", data={"csrf_token": token}).status_code == 404
    assert "-SECRET" not in client.get(UPLOADS).get_data(as_text=True)


# --------------------------------------------------------------------------------------------
# The hostile corpus


def _hostile(name: str) -> bytes:
    if name in hostile_corpus.GENERATED:
        return hostile_corpus.generated(name)
    return (hostile_corpus.FIXTURES / name).read_bytes()


@pytest.mark.parametrize("name", sorted(hostile_corpus.EXPECTED))
def test_every_hostile_file_gives_a_clear_chinese_error_and_applies_nothing(signed_in, name):
    client, category, organization, _user = signed_in
    before = (
        db.session.scalar(select(func.count()).select_from(Product)),
        db.session.scalar(select(func.count()).select_from(PriceChange)),
    )
    response = post_file(client, category.code, _hostile(name), name)
    assert response.status_code in (302, 422), response.status_code
    if response.status_code == 422:  # refused by the form itself (an empty file)
        message = parse(response.get_data(as_text=True)).one("p", id="file-error").text
    else:
        batch = batch_of(response)
        assert batch.status == BatchStatus.FAILED_VALIDATION, (name, batch.status, batch.message)
        assert batch.report_path is None  # a file-level problem: nothing to report row by row
        page = parse(client.get(response.headers["Location"]).get_data(as_text=True))
        message = page.one("p", class_="batch-message batch-message-error").text
        assert message == batch.message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    assert any(word in message for word in ("请", "已拒绝")), message
    assert (
        db.session.scalar(select(func.count()).select_from(Offer).where(Offer.supplier_id == organization.id))
        == 0
    )
    after = (
        db.session.scalar(select(func.count()).select_from(Product)),
        db.session.scalar(select(func.count()).select_from(PriceChange)),
    )
    assert after == before


def test_a_batch_whose_job_died_can_be_closed(signed_in):
    client, category, _organization, user = signed_in
    batch = upload(user, category, rows_file([row()]), run=False)
    batch.status = BatchStatus.APPLYING
    batch.updated_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    html = client.get(f"{UPLOADS}/{batch.id}").get_data(as_text=True)
    assert "已长时间没有进展" in html
    token = csrf_from(client, f"{UPLOADS}/{batch.id}/cancel")
    response = client.post(f"{UPLOADS}/{batch.id}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "已取消，没有写入任何数据。" in response.get_data(as_text=True)
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch.id)
    assert batch.status == BatchStatus.CANCELLED and "任务已中断" in batch.message


def test_a_running_batch_cannot_be_cancelled_while_writing(signed_in):
    client, category, _organization, user = signed_in
    batch = upload(user, category, rows_file([row()]), run=False)
    batch.status = BatchStatus.APPLYING
    db.session.commit()
    token = csrf_from(client, f"{UPLOADS}/{batch.id}")
    response = client.post(f"{UPLOADS}/{batch.id}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "正在写入（一次性完成），无法再取消" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ImportBatch, batch.id).status == BatchStatus.APPLYING
