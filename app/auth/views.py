from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from marshmallow import ValidationError

from app.auth import services
from app.auth.access import safe_next_url
from app.auth.passwords import verify_password
from app.auth.schemas import LoginSchema, PasswordChangeSchema
from app.extensions import limiter

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _username_key() -> str:
    return "login-user:" + request.form.get("username", "")[:64].strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])  # per client address
@limiter.limit(_login_limit, methods=["POST"], key_func=_username_key)  # per account, any address
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("catalog.home"))
    errors: dict = {}
    form = {"username": "", "next": request.args.get("next", "")}
    if request.method == "POST":
        try:
            data = LoginSchema().load(request.form.to_dict())
        except ValidationError as exc:
            errors = exc.messages
            form.update({k: v for k, v in request.form.items() if k in ("username", "next")})
        else:
            form.update(username=data["username"], next=data.get("next") or "")
            user = services.authenticate(data["username"], data["password"])
            if user is not None:
                session.clear()  # no pre-login state (or session fixation) carries over
                login_user(user)
                flash(_("欢迎，%(name)s", name=user.display_name), "success")
                return redirect(safe_next_url(data.get("next"), url_for("catalog.home")))
            # 200, not 4xx: the request is well-formed, and its audit row must be committed.
            return render_template("auth/login.html", errors={"_schema": [_("用户名或密码错误")]}, form=form)
        return render_template("auth/login.html", errors=errors, form=form), 400
    return render_template("auth/login.html", errors=errors, form=form)


@bp.post("/logout")
@login_required
def logout():
    services.end_all_sessions(current_user._get_current_object(), reason="logout")
    logout_user()
    session.clear()
    flash(_("您已安全退出。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    errors: dict = {}
    if request.method == "POST":
        user = current_user._get_current_object()
        try:
            data = PasswordChangeSchema(username=user.username).load(request.form.to_dict())
        except ValidationError as exc:
            errors = exc.messages
        else:
            if not verify_password(user.password_hash, data["current_password"]):
                errors = {"current_password": [_("当前密码不正确")]}
            else:
                services.change_password(user, data["new_password"])
                # Every other session has ended; this one continues under the new token.
                login_user(user)
                flash(_("密码已修改，其他设备上的登录已失效。"), "success")
                return redirect(url_for("catalog.home"))
        return render_template("auth/password.html", errors=errors), 400
    return render_template("auth/password.html", errors=errors)


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
    return redirect(safe_next_url(request.args.get("next"), url_for("catalog.home")))
