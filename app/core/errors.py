"""Errors: a Chinese HTML page for people, a JSON body for machines, never a bare 500."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db

log = logging.getLogger(__name__)


def _titles() -> dict[int, tuple[str, str]]:
    # Built per call so Flask-Babel picks the request's language.
    return {
        400: (_("请求无效"), _("提交的内容无法处理，请检查后重试。")),
        401: (_("需要登录"), _("请先登录后再访问此页面。")),
        403: (_("无权访问"), _("您的账号没有访问此内容的权限。")),
        404: (_("页面不存在"), _("您要找的内容不存在，或不属于您的单位。")),
        405: (_("不支持的操作"), _("此地址不支持该请求方式。")),
        409: (_("操作冲突"), _("当前状态不允许此操作，请刷新后重试。")),
        413: (_("内容过大"), _("提交的内容超过了允许的大小。")),
        415: (_("不支持的内容类型"), _("请以正确的格式提交内容。")),
        422: (_("内容有误"), _("提交的内容未通过校验，请按提示修改。")),
        429: (_("请求过于频繁"), _("请稍后再试。")),
        503: (_("服务暂不可用"), _("系统繁忙，请稍后重试。")),
        500: (_("系统错误"), _("系统暂时无法完成您的请求，我们已记录此问题，请稍后重试。")),
    }


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def error_response(code: int, message: str | None = None, errors: dict | None = None):
    title, default_message = _titles().get(code, _titles()[500] if code >= 500 else _titles()[400])
    message = message or default_message
    if wants_json():
        body: dict = {"code": code, "status": title, "message": message}
        if errors:
            body["errors"] = errors
        return jsonify(body), code
    return render_template("errors/error.html", code=code, title=title, message=message, errors=errors), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        db.session.rollback()
        return error_response(400, _("页面已过期或表单校验失败（CSRF），请刷新页面后重新提交。"))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        code = exc.code or 500
        # Messages we raise ourselves are meant for the user; werkzeug's English defaults are not.
        custom = exc.description if exc.description != type(exc).description else None
        errors = None
        data = getattr(exc, "data", None)  # webargs/flask-smorest attach field messages here
        if isinstance(data, dict) and "messages" in data:
            errors = data["messages"]
        response = make_response(error_response(code, custom, errors))
        # Headers the exception carries (Allow on 405, Retry-After on 429/503, WWW-Authenticate…).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        retry_after = getattr(exc, "retry_after", None)
        if retry_after and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        db.session.rollback()
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return error_response(422, None, messages)

    @app.errorhandler(IntegrityError)
    def integrity_error(exc: IntegrityError):
        db.session.rollback()
        log.warning("integrity error: %s", exc.orig)
        return error_response(409, _("数据与已有记录冲突（可能已被他人修改或重复提交），请刷新后重试。"))

    @app.errorhandler(OperationalError)
    def database_busy(exc: OperationalError):
        # The database is unreachable or busy (a lock held too long): say so, never a bare 500.
        db.session.rollback()
        log.warning("database unavailable: %s", exc.orig)
        return error_response(503, _("系统繁忙，请稍后重试。"))

    @app.errorhandler(InternalServerError)
    def server_error(exc: InternalServerError):
        db.session.rollback()
        return error_response(500)
