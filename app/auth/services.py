"""Accounts: authentication, sessions that can be ended on the server, password changes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.core import audit
from app.core.db import utcnow
from app.extensions import db

# Verifying against this when the username is unknown keeps the response time the same, so
# timing does not reveal which usernames exist. Built lazily with the app's argon2 parameters.
_dummy_hash: dict[str, str] = {}


def load_user_by_session_token(token: str) -> User | None:
    if not token:
        return None
    # Every page reads the user's organization (navigation, scoping): load it in the same query.
    user = db.session.scalar(
        select(User).where(User.session_token == token).options(joinedload(User.organization))
    )
    return user if user is not None and user.is_active else None


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        key = "dummy"
        if key not in _dummy_hash:
            _dummy_hash[key] = hash_password("not-a-real-password-0")
        verify_password(_dummy_hash[key], password)
        audit.record("login.failed", username=username[:64], reason="unknown_user")
        return None
    if not verify_password(user.password_hash, password):
        audit.record("login.failed", user=user, reason="bad_password")
        return None
    if not user.is_active:
        audit.record("login.failed", user=user, reason="inactive")
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record("login", user=user)
    db.session.flush()
    return user


def end_all_sessions(user: User, reason: str) -> None:
    """Every cookie that carries the old token stops working at once."""
    user.rotate_session_token()
    audit.record("sessions.ended", user=user, reason=reason)
    db.session.flush()


def change_password(user: User, new_password: str) -> None:
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    audit.record("password.changed", user=user)
    end_all_sessions(user, reason="password_changed")


def create_user(*, organization, username: str, display_name: str, role, password: str) -> User:
    from app.auth.models import ROLES_BY_ORG_KIND

    if role not in ROLES_BY_ORG_KIND[organization.kind]:
        raise ValueError(f"角色 {role} 不适用于 {organization.kind} 类型的单位")
    user = User(
        organization=organization,
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    return user
