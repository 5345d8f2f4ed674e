"""Helpers for API tests: issue a token for an organization and call the API with it."""

from __future__ import annotations

from app.api import services
from app.auth.models import SCOPES_BY_ORG_KIND, Organization


def issue(organization: Organization, scopes=None, **kw) -> str:
    """A token's plaintext; by default with every scope the organization's kind allows."""
    if scopes is None:
        scopes = [scope.value for scope in SCOPES_BY_ORG_KIND[organization.kind]]
    name = kw.pop("name", "测试令牌")
    _token, plaintext = services.issue_token(organization, name=name, scopes=scopes, **kw)
    return plaintext


def bearer(plaintext: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaintext}"}


def assert_json_error(response, code: int) -> dict:
    assert response.status_code == code, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["code"] == code
    assert set(body) <= {"code", "status", "message", "errors"}
    assert body["status"] and body["message"]
    return body
