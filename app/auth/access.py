"""Who may see what. Every record belongs to an organization; a user only ever sees what their
organization and role allow. Views load records through these helpers, never by bare id."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask_login import current_user, login_required

from app.auth.models import Role

# Oversight roles read across organizations (DESIGN: the regulator sees everything, read-only).
OVERSIGHT_ROLES = frozenset({Role.OPERATOR, Role.REGULATOR})


def roles_required(*roles: Role) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = frozenset(roles)  # read by the access-matrix test
        return wrapped

    return decorator


def safe_next_url(target: str | None, default: str) -> str:
    """Only same-site relative paths: ``/plans/3`` yes, ``//evil.example`` or ``https://…`` no."""
    if not target:
        return default
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return default
    return target
