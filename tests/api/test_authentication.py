"""Bearer authentication on every endpoint: 401 JSON with a challenge when the token is missing or
unusable, 403 JSON naming the scope when it is not enough; errors are always JSON under /api/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from werkzeug.exceptions import UnsupportedMediaType

from app.api import services
from app.api.auth import require_json_body
from app.auth.models import ApiToken, OrgKind
from app.core.db import utcnow
from app.extensions import csrf, db
from tests import factories
from tests.api.helpers import assert_json_error, bearer, issue
from tests.conftest import login

PROTECTED = [
    "/api/v1/me",
    "/api/v1/categories",
    "/api/v1/categories/A02010105",
    "/api/v1/products",
    "/api/v1/products/1",
    "/api/v1/offers",
    "/api/v1/offers/1",
    "/api/v1/plans",
    "/api/v1/plans/1",
]


def _assert_unauthorized(response, error: str | None = None) -> dict:
    body = assert_json_error(response, 401)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    if error:
        assert f'error="{error}"' in challenge
    return body


@pytest.mark.parametrize("url", PROTECTED)
def test_no_header_is_401_json_with_a_bearer_challenge(client, url):
    body = _assert_unauthorized(client.get(url))
    assert body["message"] == "缺少访问令牌：请在 Authorization 请求头中提供 Bearer 令牌。"
    assert body["status"] == "需要登录"


@pytest.mark.parametrize(
    "header", ["Token gpm_abc", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "gpm_abc", "Bearer gpm_a gpm_b"]
)
def test_malformed_header_is_401(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    body = _assert_unauthorized(response, "invalid_request")
    assert "Bearer <令牌>" in body["message"]


@pytest.mark.parametrize("token", ["gpm_" + "x" * 43, "not-one-of-ours", "gpm_"])
def test_unknown_token_is_401(client, token):
    _assert_unauthorized(client.get("/api/v1/me", headers=bearer(token)), "invalid_token")


def test_revoked_token_is_401(client):
    unit = factories.org()
    plaintext = issue(unit)
    assert client.get("/api/v1/me", headers=bearer(plaintext)).status_code == 200
    token = db.session.query(ApiToken).filter_by(organization_id=unit.id).one()
    services.revoke_token(token)
    body = _assert_unauthorized(client.get("/api/v1/me", headers=bearer(plaintext)), "invalid_token")
    assert body["message"] == "访问令牌无效、已吊销或已过期，或其所属单位已停用。"


def test_expired_token_is_401(client):
    unit = factories.org()
    plaintext = issue(unit, expires_in_days=1)
    token = db.session.query(ApiToken).filter_by(organization_id=unit.id).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    _assert_unauthorized(client.get("/api/v1/me", headers=bearer(plaintext)), "invalid_token")


def test_token_of_inactive_organization_is_401(client):
    unit = factories.org()
    plaintext = issue(unit)
    unit.is_active = False
    db.session.flush()
    _assert_unauthorized(client.get("/api/v1/plans", headers=bearer(plaintext)), "invalid_token")


def test_a_logged_in_session_is_not_an_api_credential(client):
    purchaser = factories.user()
    factories.plan(purchaser.organization)
    login(client, purchaser.username)
    _assert_unauthorized(client.get("/api/v1/plans"))


@pytest.mark.parametrize(
    ("granted", "url", "needed"),
    [
        (["catalog:read"], "/api/v1/plans", "plans:read"),
        (["catalog:read"], "/api/v1/plans/1", "plans:read"),
        (["plans:read"], "/api/v1/categories", "catalog:read"),
        (["plans:read"], "/api/v1/products", "catalog:read"),
        (["orders:read"], "/api/v1/products/1", "catalog:read"),
    ],
)
def test_missing_scope_is_403_naming_the_scope(client, granted, url, needed):
    unit = factories.org()
    plaintext = issue(unit, scopes=granted)
    response = client.get(url, headers=bearer(plaintext))
    body = assert_json_error(response, 403)
    assert body["message"] == f"此令牌缺少所需的权限范围：{needed}"
    assert (
        response.headers["WWW-Authenticate"]
        == f'Bearer realm="gpm-api", error="insufficient_scope", scope="{needed}"'
    )


def test_auth_is_checked_before_arguments(client):
    # No token and bad arguments: the caller learns about the token, not about our parameters.
    _assert_unauthorized(client.get("/api/v1/plans?per_page=1000"))


def test_me_describes_the_caller(client):
    finance = factories.org(OrgKind.FINANCE, code="CZ110000", name="北京市财政局国库支付中心")
    plaintext = issue(finance, scopes=["plans:read", "catalog:read"], name="国库支付系统", expires_in_days=90)
    response = client.get("/api/v1/me", headers=bearer(plaintext))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()["data"]
    assert data["organization"] == {
        "id": finance.id,
        "code": "CZ110000",
        "name": "北京市财政局国库支付中心",
        "kind": "finance",
    }
    assert data["token"]["name"] == "国库支付系统"
    assert data["token"]["prefix"] == plaintext[:12]
    assert data["token"]["scopes"] == ["catalog:read", "plans:read"]
    assert data["token"]["expires_at"] is not None
    assert plaintext not in response.get_data(as_text=True)


def test_successful_call_records_last_use_and_commits_it(client):
    unit = factories.org()
    plaintext = issue(unit)
    assert client.get("/api/v1/me", headers=bearer(plaintext)).status_code == 200
    token = db.session.query(ApiToken).filter_by(organization_id=unit.id).one()
    db.session.refresh(token)
    assert token.last_used_at is not None


def test_unknown_api_path_is_404_json(client):
    body = assert_json_error(client.get("/api/v1/nothing-here"), 404)
    assert body["status"] == "页面不存在"


def test_unknown_record_is_404_json(client):
    plaintext = issue(factories.org())
    for url in ("/api/v1/plans/999999", "/api/v1/products/999999", "/api/v1/categories/A99999999"):
        assert_json_error(client.get(url, headers=bearer(plaintext)), 404)


def test_wrong_method_is_405_json(client):
    plaintext = issue(factories.org())
    response = client.post("/api/v1/me", json={}, headers=bearer(plaintext))
    assert_json_error(response, 405)
    assert "GET" in response.headers["Allow"]


def test_a_body_that_is_not_json_is_refused_with_415(app, db_session):
    # There are no write endpoints yet; the check every API request passes through is ready for them.
    with app.test_request_context(
        "/api/v1/me", method="POST", data="a=1", content_type="application/x-www-form-urlencoded"
    ):
        with pytest.raises(UnsupportedMediaType) as excinfo:
            require_json_body()
        response = app.make_response(app.handle_http_exception(excinfo.value))
        assert response.status_code == 415
        assert response.get_json() == {
            "code": 415,
            "status": "不支持的内容类型",
            "message": "请求体应为 JSON（Content-Type: application/json）。",
        }
    with app.test_request_context("/api/v1/me", method="POST", json={"a": 1}):
        require_json_body()  # JSON passes
    with app.test_request_context("/api/v1/me", method="GET"):
        require_json_body()  # reads carry no body


def test_api_blueprints_are_csrf_exempt(app):
    from app.api.v1 import BLUEPRINTS

    # Machine clients send no CSRF token; a future POST endpoint must not demand one.
    assert set(BLUEPRINTS) <= csrf._exempt_blueprints
