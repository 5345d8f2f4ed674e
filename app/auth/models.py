from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import TimestampMixin, utcnow
from app.extensions import db


class OrgKind(enum.StrEnum):
    PURCHASING_UNIT = "purchasing_unit"  # 预算单位
    SUPPLIER = "supplier"  # 供应商
    OPERATOR = "operator"  # 卖场运营/集采机构
    REGULATOR = "regulator"  # 财政监管
    FINANCE = "finance"  # 财政系统


class Role(enum.StrEnum):
    PURCHASER = "purchaser"  # 采购经办人
    APPROVER = "approver"  # 审批人
    SUPPLIER = "supplier"  # 供应商管理员/员工
    OPERATOR = "operator"  # 卖场运营
    REGULATOR = "regulator"  # 财政监管 (read-only)
    FINANCE = "finance"  # 财政系统管理员 (machine clients, webhooks)


# Which roles a user of each kind of organization may hold.
ROLES_BY_ORG_KIND: dict[OrgKind, frozenset[Role]] = {
    OrgKind.PURCHASING_UNIT: frozenset({Role.PURCHASER, Role.APPROVER}),
    OrgKind.SUPPLIER: frozenset({Role.SUPPLIER}),
    OrgKind.OPERATOR: frozenset({Role.OPERATOR}),
    OrgKind.REGULATOR: frozenset({Role.REGULATOR}),
    OrgKind.FINANCE: frozenset({Role.FINANCE}),
}


def _enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    # Stored as VARCHAR + CHECK on both databases: portable and easy to extend in a migration.
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


class Organization(TimestampMixin, db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind, "org_kind"), index=True)
    # 统一社会信用代码 (18 characters) where the organization has one.
    credit_code: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), default="110000")  # GB/T 2260 province
    is_sme: Mapped[bool] = mapped_column(default=False)  # 中小企业 (suppliers)
    contact_phone: Mapped[str | None] = mapped_column(sa.String(32))
    is_active: Mapped[bool] = mapped_column(default=True)

    users: Mapped[list[User]] = relationship(back_populates="organization")

    def __repr__(self) -> str:
        return f"<Organization {self.code} {self.kind}>"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    # What the session cookie carries instead of the id: rotating it ends every session on the
    # server (logout, password change, deactivation).
    session_token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_session_token)
    is_active_account: Mapped[bool] = mapped_column("is_active", default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="users")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account and self.organization.is_active

    def get_id(self) -> str:  # Flask-Login stores this in the session cookie
        return self.session_token

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiScope(enum.StrEnum):
    CATALOG_READ = "catalog:read"
    OFFERS_WRITE = "offers:write"
    PLANS_READ = "plans:read"
    PLANS_WRITE = "plans:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"


# The scopes a token of each kind of organization may be granted.
SCOPES_BY_ORG_KIND: dict[OrgKind, frozenset[ApiScope]] = {
    OrgKind.PURCHASING_UNIT: frozenset({ApiScope.CATALOG_READ, ApiScope.PLANS_READ, ApiScope.ORDERS_READ}),
    OrgKind.SUPPLIER: frozenset(
        {ApiScope.CATALOG_READ, ApiScope.OFFERS_WRITE, ApiScope.ORDERS_READ, ApiScope.ORDERS_WRITE}
    ),
    OrgKind.OPERATOR: frozenset(
        {ApiScope.CATALOG_READ, ApiScope.PLANS_READ, ApiScope.PLANS_WRITE, ApiScope.ORDERS_READ}
    ),
    OrgKind.REGULATOR: frozenset({ApiScope.CATALOG_READ, ApiScope.PLANS_READ, ApiScope.ORDERS_READ}),
    OrgKind.FINANCE: frozenset(
        {
            ApiScope.CATALOG_READ,
            ApiScope.PLANS_READ,
            ApiScope.PLANS_WRITE,
            ApiScope.ORDERS_READ,
            ApiScope.ORDERS_WRITE,
        }
    ),
}


class ApiToken(TimestampMixin, db.Model):
    """A machine client's bearer token. Only its SHA-256 is stored: tokens are 256-bit random, so
    a slow hash adds nothing; the visible prefix lets people tell their tokens apart."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(sa.JSON)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()

    def is_usable(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now
