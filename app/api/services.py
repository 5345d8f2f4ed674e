"""API tokens: issue, revoke, authenticate. Services flush, never commit.

A token is ``gpm_`` + 256 random bits. Only its SHA-256 is stored (a slow hash adds nothing to a
256-bit secret, and a hash lookup needs no constant-time compare); the first characters are kept
in clear as a prefix so people can tell their tokens apart.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.api.schemas import MAX_EXPIRY_DAYS
from app.auth.models import SCOPES_BY_ORG_KIND, ApiScope, ApiToken, Organization, User
from app.core import audit
from app.core.db import utcnow
from app.extensions import db

TOKEN_PREFIX = "gpm_"  # noqa: S105 -- the public marker every token starts with, not a secret
VISIBLE_PREFIX_LENGTH = 12  # "gpm_" + 8 random characters
# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 128
# last_used_at is a hint for people, not an access log: write it at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)

SCOPE_LABELS: dict[ApiScope, str] = {
    ApiScope.CATALOG_READ: "读取商品目录与报价",
    ApiScope.OFFERS_WRITE: "维护本单位报价",
    ApiScope.PLANS_READ: "读取采购计划",
    ApiScope.PLANS_WRITE: "推送采购计划",
    ApiScope.ORDERS_READ: "读取订单",
    ApiScope.ORDERS_WRITE: "处理订单",
}


class TokenError(ValueError):
    """A request to issue a token that cannot be granted; the message is for the user."""

    def __init__(self, message: str, field: str = "_schema"):
        super().__init__(message)
        self.message = message
        self.field = field


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def allowed_scopes(organization: Organization) -> list[ApiScope]:
    """The scopes a token of this organization may hold, in a stable order."""
    allowed = SCOPES_BY_ORG_KIND.get(organization.kind, frozenset())
    return [scope for scope in ApiScope if scope in allowed]


def issue_token(
    organization: Organization,
    *,
    name: str,
    scopes: Iterable[str],
    created_by: User | None = None,
    expires_in_days: int | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plaintext, which is never stored or shown again."""
    now = now or utcnow()
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise TokenError("令牌名称应为 1–100 个字符", "name")
    requested: list[ApiScope] = []
    for raw in scopes:
        try:
            scope = ApiScope(raw)
        except ValueError:
            raise TokenError(f"未知的权限范围：{raw}", "scopes") from None
        if scope not in requested:
            requested.append(scope)
    if not requested:
        raise TokenError("请至少选择一个权限范围", "scopes")
    allowed = set(allowed_scopes(organization))
    refused = [scope.value for scope in requested if scope not in allowed]
    if refused:
        raise TokenError(f"本单位类型不能授予以下权限范围：{'、'.join(refused)}", "scopes")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise TokenError(f"有效期应在 1–{MAX_EXPIRY_DAYS} 天之间", "expires_in_days")
    if created_by is not None and created_by.organization_id != organization.id:
        raise TokenError("只能为本单位签发令牌")

    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        organization_id=organization.id,
        name=name,
        prefix=plaintext[:VISIBLE_PREFIX_LENGTH],
        token_hash=hash_token(plaintext),
        scopes=[scope.value for scope in ApiScope if scope in requested],
        created_by_id=created_by.id if created_by is not None else None,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "api_token.issue",
        user=created_by,
        organization_id=organization.id,
        token_id=token.id,
        name=token.name,
        prefix=token.prefix,
        scopes=token.scopes,
        expires_at=token.expires_at.isoformat() if token.expires_at else None,
    )
    return token, plaintext


def revoke_token(token: ApiToken, *, by: User | None = None, now: datetime | None = None) -> bool:
    """Revoke ``token``; False (and nothing written) if it was already revoked."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now or utcnow()
    db.session.flush()
    audit.record(
        "api_token.revoke",
        user=by,
        organization_id=token.organization_id,
        token_id=token.id,
        name=token.name,
        prefix=token.prefix,
    )
    return True


def authenticate(bearer: str | None, *, now: datetime | None = None) -> tuple[ApiToken, Organization] | None:
    """The usable token (and its organization) that ``bearer`` is, or None.

    Refuses unknown, revoked and expired tokens and tokens of inactive organizations.
    """
    if not bearer or not bearer.startswith(TOKEN_PREFIX) or len(bearer) > MAX_TOKEN_LENGTH:
        return None
    now = now or utcnow()
    token = db.session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == hash_token(bearer))
        .options(joinedload(ApiToken.organization))
    )
    if token is None or not token.is_usable(now) or not token.organization.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.flush()
    return token, token.organization


def effective_scopes(token: ApiToken, organization: Organization) -> list[str]:
    """The token's scopes that its organization's kind still allows."""
    allowed = {scope.value for scope in allowed_scopes(organization)}
    return [scope for scope in token.scopes if scope in allowed]


def token_status(token: ApiToken, now: datetime | None = None) -> str:
    now = now or utcnow()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"
