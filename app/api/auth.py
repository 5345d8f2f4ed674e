"""Bearer-token authentication for the API: ``Authorization: Bearer gpm_…``.

:func:`token_required` checks the token before anything else runs (so a caller without a valid
token learns nothing from argument validation), refuses a request body that is not JSON (415),
sets ``g.api_token`` / ``g.api_org`` / ``g.api_scopes``, and documents the bearer security
requirement and the 401/403 answers on the operation in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from functools import wraps

from flask import abort, g, request

from app.api import services
from app.auth.models import ApiScope, OrgKind

SECURITY_SCHEME = "bearerAuth"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
REALM = "gpm-api"


def _challenge(error: str | None = None, **params: str) -> str:
    parts = [f'realm="{REALM}"']
    if error:
        parts.append(f'error="{error}"')
    parts.extend(f'{key}="{value}"' for key, value in params.items())
    return "Bearer " + ", ".join(parts)


def _unauthorized(message: str, error: str | None = None):
    # app.core.errors renders the body; the API's after_request hook adds this header to it.
    g.api_www_authenticate = _challenge(error)
    abort(401, description=message)


def bearer_from_request() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.strip():
        _unauthorized("缺少访问令牌：请在 Authorization 请求头中提供 Bearer 令牌。")
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials or " " in credentials:
        _unauthorized("Authorization 请求头格式应为：Bearer <令牌>。", "invalid_request")
    return credentials


def require_json_body() -> None:
    """A request that carries a body must carry JSON (415 otherwise)."""
    if request.method in BODY_METHODS and not request.is_json:
        abort(415, description="请求体应为 JSON（Content-Type: application/json）。")


def require_org_kind(*kinds: OrgKind, message: str) -> None:
    if g.api_org.kind not in kinds:
        abort(403, description=message)


def token_required(*scopes: ApiScope) -> Callable:
    """Require a usable bearer token holding every one of ``scopes``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            found = services.authenticate(bearer_from_request())
            if found is None:
                _unauthorized("访问令牌无效、已吊销或已过期，或其所属单位已停用。", "invalid_token")
            token, organization = found
            granted = set(services.effective_scopes(token, organization))
            missing = [scope.value for scope in scopes if scope.value not in granted]
            if missing:
                g.api_www_authenticate = _challenge("insufficient_scope", scope=" ".join(missing))
                abort(403, description=f"此令牌缺少所需的权限范围：{'、'.join(missing)}")
            g.api_token = token
            g.api_org = organization
            g.api_scopes = sorted(granted)
            require_json_body()  # before argument parsing, which would call a missing body "required"
            return view(*args, **kwargs)

        # Document the requirement on the operation (flask-smorest reads ``_apidoc``).
        doc = deepcopy(getattr(view, "_apidoc", {}))
        responses = doc.setdefault("response", {}).setdefault("responses", {})
        responses.setdefault(401, []).append("UNAUTHORIZED")
        if scopes:
            responses.setdefault(403, []).append("FORBIDDEN")
        manual = doc.setdefault("manual_doc", {})
        manual["security"] = [{SECURITY_SCHEME: []}]
        manual["x-required-scopes"] = [scope.value for scope in scopes]
        wrapped._apidoc = doc
        return wrapped

    return decorator
