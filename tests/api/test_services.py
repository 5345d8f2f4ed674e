"""The token service: only a hash is stored, scopes follow the organization's kind, revoked,
expired and orphaned tokens do not authenticate, and last use is written at most once a minute."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app.api import services
from app.auth.models import ApiScope, ApiToken, OrgKind
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.extensions import db
from tests import factories


def _count_tokens(organization) -> int:
    return db.session.scalar(
        select(func.count()).select_from(ApiToken).where(ApiToken.organization_id == organization.id)
    )


def test_issue_stores_only_the_sha256_and_a_short_prefix(db_session):
    supplier = factories.org(OrgKind.SUPPLIER)
    admin = factories.user(supplier)
    token, plaintext = services.issue_token(
        supplier, name="ERP 对接", scopes=["catalog:read", "orders:read"], created_by=admin
    )

    assert plaintext.startswith("gpm_")
    assert len(plaintext) == len("gpm_") + 43  # token_urlsafe(32)
    assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert token.prefix == plaintext[:12]
    assert 8 <= len(token.prefix) <= 12
    assert token.scopes == ["catalog:read", "orders:read"]
    assert token.created_by_id == admin.id
    assert token.expires_at is None and token.revoked_at is None and token.last_used_at is None

    # The row as the database holds it: no column carries the secret part of the token.
    row = (
        db.session.execute(text("SELECT * FROM api_tokens WHERE id = :id"), {"id": token.id}).mappings().one()
    )
    secret = plaintext[len(token.prefix) :]
    for column, value in row.items():
        assert secret not in str(value), column
        assert plaintext not in str(value), column

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.issue"))
    assert event.organization_id == supplier.id
    assert event.user_id == admin.id
    assert event.detail["token_id"] == token.id
    assert secret not in str(event.detail)


def test_two_tokens_never_share_a_hash_or_plaintext(db_session):
    unit = factories.org()
    first = services.issue_token(unit, name="a", scopes=["catalog:read"])
    second = services.issue_token(unit, name="b", scopes=["catalog:read"])
    assert first[1] != second[1]
    assert first[0].token_hash != second[0].token_hash


def test_expiry_in_days(db_session):
    unit = factories.org()
    now = utcnow()
    token, _ = services.issue_token(unit, name="短期", scopes=["plans:read"], expires_in_days=30, now=now)
    assert token.expires_at == now + timedelta(days=30)


@pytest.mark.parametrize(
    ("kind", "scopes", "field", "message"),
    [
        (OrgKind.SUPPLIER, ["plans:read"], "scopes", "本单位类型不能授予以下权限范围：plans:read"),
        (
            OrgKind.PURCHASING_UNIT,
            ["orders:write", "catalog:read"],
            "scopes",
            "本单位类型不能授予以下权限范围：orders:write",
        ),
        (OrgKind.REGULATOR, ["plans:write"], "scopes", "本单位类型不能授予以下权限范围：plans:write"),
        (OrgKind.FINANCE, ["admin"], "scopes", "未知的权限范围：admin"),
        (OrgKind.FINANCE, [], "scopes", "请至少选择一个权限范围"),
    ],
)
def test_scopes_must_be_allowed_for_the_organizations_kind(db_session, kind, scopes, field, message):
    organization = factories.org(kind)
    with pytest.raises(services.TokenError) as excinfo:
        services.issue_token(organization, name="越权", scopes=scopes)
    assert excinfo.value.field == field
    assert excinfo.value.message == message
    assert _count_tokens(organization) == 0
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.organization_id == organization.id)
        )
        == 0
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 3651}, "expires_in_days"),
    ],
)
def test_bad_name_or_expiry_is_refused(db_session, kwargs, field):
    unit = factories.org()
    with pytest.raises(services.TokenError) as excinfo:
        services.issue_token(unit, **{"name": "ok", "scopes": ["catalog:read"], **kwargs})
    assert excinfo.value.field == field
    assert _count_tokens(unit) == 0


def test_a_user_cannot_issue_for_another_organization(db_session):
    mine, theirs = factories.org(OrgKind.SUPPLIER), factories.org(OrgKind.SUPPLIER)
    admin = factories.user(mine)
    with pytest.raises(services.TokenError):
        services.issue_token(theirs, name="x", scopes=["catalog:read"], created_by=admin)
    assert _count_tokens(theirs) == 0


def test_every_kind_can_hold_exactly_its_allowed_scopes(db_session):
    for kind in OrgKind:
        organization = factories.org(kind)
        allowed = services.allowed_scopes(organization)
        token, _ = services.issue_token(organization, name="全部", scopes=[s.value for s in allowed])
        assert token.scopes == [s.value for s in ApiScope if s in allowed]


def test_revoke_sets_revoked_at_once_and_audits(db_session):
    finance = factories.org(OrgKind.FINANCE)
    admin = factories.user(finance)
    token, plaintext = services.issue_token(finance, name="国库", scopes=["plans:read"])
    assert services.authenticate(plaintext) is not None

    assert services.revoke_token(token, by=admin) is True
    revoked_at = token.revoked_at
    assert revoked_at is not None
    assert services.revoke_token(token, by=admin) is False
    assert token.revoked_at == revoked_at
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.revoke")).all()
    assert [(e.user_id, e.organization_id, e.detail["token_id"]) for e in events] == [
        (admin.id, finance.id, token.id)
    ]
    assert services.authenticate(plaintext) is None


def test_authenticate_accepts_a_usable_token(db_session):
    unit = factories.org()
    token, plaintext = services.issue_token(unit, name="x", scopes=["plans:read"], expires_in_days=1)
    assert services.authenticate(plaintext) == (token, unit)


@pytest.mark.parametrize("bearer", [None, "", "gpm_", "gpm_unknown", "abc", "gpm_" + "a" * 200])
def test_authenticate_refuses_unknown_tokens(db_session, bearer):
    unit = factories.org()
    services.issue_token(unit, name="x", scopes=["plans:read"])
    assert services.authenticate(bearer) is None


def test_authenticate_refuses_expired_tokens(db_session):
    unit = factories.org()
    now = utcnow()
    token, plaintext = services.issue_token(unit, name="x", scopes=["plans:read"], expires_in_days=1, now=now)
    assert services.authenticate(plaintext, now=now + timedelta(hours=23)) is not None
    assert services.authenticate(plaintext, now=now + timedelta(days=1)) is None
    assert services.token_status(token, now + timedelta(days=1)) == "expired"


def test_authenticate_refuses_tokens_of_inactive_organizations(db_session):
    unit = factories.org()
    _, plaintext = services.issue_token(unit, name="x", scopes=["plans:read"])
    unit.is_active = False
    db.session.flush()
    assert services.authenticate(plaintext) is None


def test_last_used_at_is_written_at_most_once_a_minute(db_session):
    unit = factories.org()
    token, plaintext = services.issue_token(unit, name="x", scopes=["plans:read"])
    start = utcnow()
    services.authenticate(plaintext, now=start)
    assert token.last_used_at == start
    services.authenticate(plaintext, now=start + timedelta(seconds=59))
    assert token.last_used_at == start
    assert not db.session.dirty
    later = start + timedelta(seconds=60)
    services.authenticate(plaintext, now=later)
    assert token.last_used_at == later


def test_effective_scopes_drop_what_the_kind_no_longer_allows(db_session):
    unit = factories.org()
    token, _ = services.issue_token(unit, name="x", scopes=["catalog:read", "plans:read"])
    token.scopes = [*token.scopes, "plans:write"]  # e.g. written before the rules tightened
    assert services.effective_scopes(token, unit) == ["catalog:read", "plans:read"]
