"""The API-token pages: the secret is shown once, managers issue and revoke with CSRF, everyone
else in the organization may only look, and another organization's token is 404."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from app.api import services
from app.auth.models import ApiToken, OrgKind, Role
from app.core.audit import AuditEvent
from app.extensions import db
from tests import factories
from tests.api.helpers import bearer
from tests.conftest import csrf_from, login

TOKEN_RE = re.compile(r"gpm_[A-Za-z0-9_-]{43}")
LIST = "/account/tokens/"
NEW = "/account/tokens/new"


def _tokens(organization) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.organization_id == organization.id)))


def _logged_in(app, user):
    client = app.test_client()
    login(client, user.username)
    return client


def _create(client, **form):
    data = {"name": "ERP 对接", "scopes": ["catalog:read"], "expires_in_days": "", **form}
    data.setdefault("csrf_token", csrf_from(client, NEW))
    return client.post(NEW, data=data)


def test_list_requires_login(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_create_shows_the_token_once_and_only_its_hash_is_kept(app, client):
    supplier = factories.org(OrgKind.SUPPLIER)
    admin = factories.user(supplier)
    login(client, admin.username)

    form = client.get(NEW).get_data(as_text=True)
    offered = set(re.findall(r'name="scopes" value="([^"]+)"', form))
    # A supplier is offered exactly what a supplier may hold: no plans:* scopes.
    assert offered == {"catalog:read", "offers:write", "orders:read", "orders:write"}

    response = _create(client, name="ERP 对接", scopes=["catalog:read", "orders:read"], expires_in_days="90")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    shown = TOKEN_RE.findall(page)
    assert len(set(shown)) == 1
    plaintext = shown[0]
    assert "它只显示这一次" in page

    (token,) = _tokens(supplier)
    assert token.name == "ERP 对接"
    assert token.scopes == ["catalog:read", "orders:read"]
    assert token.created_by_id == admin.id
    assert token.expires_at is not None
    assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert token.prefix == plaintext[:12]

    listing = client.get(LIST).get_data(as_text=True)
    assert plaintext not in listing
    assert plaintext[12:] not in listing
    assert token.prefix in listing
    assert "ERP 对接" in listing
    assert plaintext not in client.get(f"/account/tokens/{token.id}/revoke").get_data(as_text=True)

    # The token works against the API, as the organization that issued it.
    me = app.test_client().get("/api/v1/me", headers=bearer(plaintext)).get_json()["data"]
    assert me["organization"]["id"] == supplier.id
    assert me["token"]["scopes"] == ["catalog:read", "orders:read"]


@pytest.mark.parametrize(
    ("form", "field_message"),
    [
        ({"name": ""}, "名称应为 1–100 个字符"),
        ({"name": "x" * 101}, "名称应为 1–100 个字符"),
        ({"scopes": []}, "请至少选择一个权限范围"),
        ({"scopes": ["plans:read"]}, "本单位不能授予以下权限范围：plans:read"),
        ({"scopes": ["root"]}, "本单位不能授予以下权限范围：root"),
        ({"expires_in_days": "0"}, "有效期应在 1–3650 天之间"),
        ({"expires_in_days": "abc"}, "应为整数"),
    ],
)
def test_bad_input_rerenders_with_400_and_creates_nothing(client, form, field_message):
    supplier = factories.org(OrgKind.SUPPLIER)
    login(client, factories.user(supplier).username)
    response = _create(client, **form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_message in page
    assert not TOKEN_RE.search(page)
    assert _tokens(supplier) == []
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "api_token.issue")
        )
        == 0
    )


def test_every_bad_field_is_reported_at_once(client):
    supplier = factories.org(OrgKind.SUPPLIER)
    login(client, factories.user(supplier).username)
    response = _create(client, name="", scopes=["plans:read"], expires_in_days="x")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for message in ("名称应为 1–100 个字符", "本单位不能授予以下权限范围：plans:read", "应为整数"):
        assert message in page
    assert 'value="x"' in page  # what was typed is kept
    assert _tokens(supplier) == []


def test_create_without_csrf_is_refused(client):
    supplier = factories.org(OrgKind.SUPPLIER)
    login(client, factories.user(supplier).username)
    response = client.post(NEW, data={"name": "x", "scopes": ["catalog:read"]})
    assert response.status_code == 400
    assert _tokens(supplier) == []


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        (OrgKind.PURCHASING_UNIT, Role.PURCHASER),
        (OrgKind.PURCHASING_UNIT, Role.APPROVER),
        (OrgKind.REGULATOR, Role.REGULATOR),
    ],
)
def test_viewers_may_look_but_not_create(app, client, kind, role):
    organization = factories.org(kind)
    user = factories.user(organization, role)
    token, plaintext = services.issue_token(organization, name="已有令牌", scopes=["catalog:read"])
    login(client, user.username)

    listing = client.get(LIST)
    assert listing.status_code == 200
    body = listing.get_data(as_text=True)
    assert "已有令牌" in body and token.prefix in body
    assert plaintext not in body
    assert NEW not in body  # no create button

    assert client.get(NEW).status_code == 403
    response = _create(client, csrf_token=csrf_from(client, LIST))
    assert response.status_code == 403
    assert _tokens(organization) == [token]
    revoke = client.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf_from(client, LIST)})
    assert revoke.status_code == 403
    db.session.refresh(token)
    assert token.revoked_at is None


@pytest.mark.parametrize("kind", [OrgKind.SUPPLIER, OrgKind.FINANCE, OrgKind.OPERATOR])
def test_managers_of_each_kind_can_issue(client, kind):
    organization = factories.org(kind)
    login(client, factories.user(organization).username)
    response = _create(client, scopes=["catalog:read"])
    assert response.status_code == 200
    assert len(_tokens(organization)) == 1


def test_revoke_needs_confirmation_post_and_csrf(client):
    finance = factories.org(OrgKind.FINANCE)
    admin = factories.user(finance)
    token, plaintext = services.issue_token(finance, name="国库", scopes=["plans:read"])
    login(client, admin.username)
    url = f"/account/tokens/{token.id}/revoke"

    confirm = client.get(url)
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "确认吊销" in page and f'action="{url}"' in page and 'method="post"' in page
    db.session.refresh(token)
    assert token.revoked_at is None  # looking is not revoking

    assert client.post(url, data={}).status_code == 400  # no CSRF token
    db.session.refresh(token)
    assert token.revoked_at is None

    response = client.post(url, data={"csrf_token": csrf_from(client, url)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(LIST)
    db.session.refresh(token)
    assert token.revoked_at is not None
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.revoke")).all()
    assert [(e.user_id, e.detail["token_id"]) for e in events] == [(admin.id, token.id)]
    assert "已吊销" in client.get(LIST).get_data(as_text=True)
    assert client.get("/api/v1/me", headers=bearer(plaintext)).status_code == 401


def test_another_organizations_token_is_404(client):
    mine, theirs = factories.org(OrgKind.SUPPLIER), factories.org(OrgKind.SUPPLIER)
    login(client, factories.user(mine).username)
    token, _ = services.issue_token(theirs, name="别人的令牌", scopes=["catalog:read"])
    url = f"/account/tokens/{token.id}/revoke"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"csrf_token": csrf_from(client, LIST)}).status_code == 404
    db.session.refresh(token)
    assert token.revoked_at is None
    assert "别人的令牌" not in client.get(LIST).get_data(as_text=True)
    assert client.get("/account/tokens/999999/revoke").status_code == 404
