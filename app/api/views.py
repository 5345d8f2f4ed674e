"""Pages where an organization manages its API tokens.

Everyone in an organization may see its tokens (never the secrets: those are shown once, on the
page that answers their creation). Issuing and revoking is for the organization's own admins:
supplier users for their supplier, finance users for their finance organization, operators for
the operator. Every token is loaded through :func:`own_tokens`; another organization's id is 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select

from app.api import services
from app.api.schemas import TokenCreateForm
from app.auth.models import ApiToken, OrgKind, Role
from app.core.db import utcnow
from app.extensions import db

bp = Blueprint("api_tokens", __name__, url_prefix="/account/tokens")

# Which role manages the tokens of which kind of organization.
TOKEN_MANAGERS: frozenset[tuple[OrgKind, Role]] = frozenset(
    {
        (OrgKind.SUPPLIER, Role.SUPPLIER),
        (OrgKind.FINANCE, Role.FINANCE),
        (OrgKind.OPERATOR, Role.OPERATOR),
    }
)


def can_manage_tokens(user) -> bool:
    return (user.organization.kind, user.role) in TOKEN_MANAGERS


def require_manager() -> None:
    if not can_manage_tokens(current_user):
        abort(403, description=_("只有本单位的管理人员可以签发或吊销 API 令牌。"))


def own_tokens():
    return select(ApiToken).where(ApiToken.organization_id == current_user.organization_id)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@login_required
def token_list():
    tokens = db.session.scalars(own_tokens().order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()
    now = utcnow()
    return render_template(
        "api/token_list.html",
        tokens=tokens,
        statuses={t.id: services.token_status(t, now) for t in tokens},
        scope_labels=services.SCOPE_LABELS,
        can_manage=can_manage_tokens(current_user),
    )


def _render_form(errors: dict, form: dict, status: int = 200):
    allowed = services.allowed_scopes(current_user.organization)
    return render_template(
        "api/token_new.html",
        errors=errors,
        form=form,
        allowed=allowed,
        scope_labels=services.SCOPE_LABELS,
        max_days=services.MAX_EXPIRY_DAYS,
    ), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def token_new():
    require_manager()
    if request.method == "GET":
        return _render_form({}, {"name": "", "scopes": [], "expires_in_days": ""})
    raw = {**request.form.to_dict(), "scopes": request.form.getlist("scopes")}
    form = {
        "name": raw.get("name", ""),
        "scopes": raw["scopes"],
        "expires_in_days": raw.get("expires_in_days", ""),
    }
    organization = current_user.organization
    try:
        data = TokenCreateForm(allowed=services.allowed_scopes(organization)).load(raw)
        token, plaintext = services.issue_token(
            organization,
            name=data["name"],
            scopes=data["scopes"],
            created_by=current_user._get_current_object(),
            expires_in_days=data["expires_in_days"],
        )
    except ValidationError as exc:
        return _render_form(exc.messages, form, 400)
    except services.TokenError as exc:
        return _render_form({exc.field: [exc.message]}, form, 400)
    # The only time the secret is ever shown: rendered into this answer, never stored or cached.
    return _no_store(
        make_response(
            render_template(
                "api/token_created.html", token=token, plaintext=plaintext, scope_labels=services.SCOPE_LABELS
            )
        )
    )


@bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@login_required
def token_revoke(token_id: int):
    require_manager()
    token = db.first_or_404(own_tokens().where(ApiToken.id == token_id))
    if request.method == "GET":
        return render_template(
            "api/token_revoke.html",
            token=token,
            status=services.token_status(token),
            scope_labels=services.SCOPE_LABELS,
        )
    if services.revoke_token(token, by=current_user._get_current_object()):
        flash(_("令牌“%(name)s”已吊销，使用它的调用将立即失败。", name=token.name), "success")
    else:
        flash(_("令牌“%(name)s”早已吊销。", name=token.name), "info")
    return redirect(url_for("api_tokens.token_list"))
