"""Logins, server-side session revocation, password changes, CSRF and rate limits."""

import re

import pytest
from sqlalchemy import select

from app.auth.passwords import verify_password
from app.core.audit import AuditEvent
from tests import factories
from tests.conftest import csrf_from, login


def _post(client, url, data, token_page="/"):
    return client.post(url, data={**data, "csrf_token": csrf_from(client, token_page)})


def test_login_with_wrong_password_is_refused_and_audited(client, db_session):
    user = factories.user()
    token = csrf_from(client)
    response = client.post(
        "/login", data={"username": user.username, "password": "wrong-password1", "csrf_token": token}
    )
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/plans/").status_code == 302  # still anonymous: redirected to login
    failures = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")).all()
    assert [f.detail["reason"] for f in failures] == ["bad_password"]


def test_unknown_user_gets_the_same_answer(client, db_session):
    token = csrf_from(client)
    response = client.post(
        "/login", data={"username": "nobody", "password": "whatever123", "csrf_token": token}
    )
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_malformed_login_is_a_clear_400(client, db_session):
    token = csrf_from(client)
    response = client.post("/login", data={"username": "", "csrf_token": token})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "请输入密码" in body or "此项为必填项" in body


def test_inactive_user_cannot_log_in(client, db_session):
    user = factories.user(is_active_account=False)
    token = csrf_from(client)
    response = client.post(
        "/login", data={"username": user.username, "password": factories.PASSWORD, "csrf_token": token}
    )
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_login_redirects_only_to_local_next(client, db_session):
    user = factories.user()
    token = csrf_from(client)
    response = client.post(
        "/login",
        data={
            "username": user.username,
            "password": factories.PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/x",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_logout_ends_the_session_on_the_server(app, client, db_session):
    user = factories.user()
    login(client, user.username)
    stolen_cookie = client.get_cookie("session").value
    assert client.get("/plans/").status_code == 200
    assert _post(client, "/logout", {}).status_code == 302
    # Replaying the cookie captured before logout must not work: the token behind it rotated.
    thief = app.test_client()
    thief.set_cookie("session", stolen_cookie)
    assert thief.get("/plans/").status_code == 302
    assert "/login" in thief.get("/plans/").headers["Location"]


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, db_session):
    user = factories.user()
    other_device = app.test_client()
    login(other_device, user.username)
    login(client, user.username)
    response = _post(
        client,
        "/account/password",
        {
            "current_password": factories.PASSWORD,
            "new_password": "NewPassw0rd-2026",
            "confirm_password": "NewPassw0rd-2026",
        },
        token_page="/account/password",
    )
    assert response.status_code == 302
    assert client.get("/plans/").status_code == 200
    assert other_device.get("/plans/").status_code == 302
    db_session.refresh(user)
    assert verify_password(user.password_hash, "NewPassw0rd-2026")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {
                "current_password": "wrong-pass-1",
                "new_password": "NewPassw0rd-2026",
                "confirm_password": "NewPassw0rd-2026",
            },
            "当前密码不正确",
        ),
        (
            {"current_password": factories.PASSWORD, "new_password": "short1", "confirm_password": "short1"},
            "至少需要",
        ),
        (
            {
                "current_password": factories.PASSWORD,
                "new_password": "onlyletterspassword",
                "confirm_password": "onlyletterspassword",
            },
            "字母和数字",
        ),
        (
            {
                "current_password": factories.PASSWORD,
                "new_password": "NewPassw0rd-2026",
                "confirm_password": "Other-2026x",
            },
            "不一致",
        ),
    ],
)
def test_bad_password_change_changes_nothing(client, db_session, fields, message):
    user = factories.user()
    login(client, user.username)
    old_hash, old_token = user.password_hash, user.session_token
    response = _post(client, "/account/password", fields, token_page="/account/password")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db_session.refresh(user)
    assert (user.password_hash, user.session_token) == (old_hash, old_token)


def test_post_without_csrf_token_is_refused(client, db_session):
    user = factories.user()
    login(client, user.username)
    response = client.post("/logout")
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/plans/").status_code == 200  # still logged in: nothing happened


def test_login_without_csrf_token_is_refused(client, db_session):
    user = factories.user()
    response = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert client.get("/plans/").status_code == 302


def test_csrf_token_from_another_session_is_refused(app, client, db_session):
    user = factories.user()
    other = app.test_client()
    foreign_token = csrf_from(other)
    response = client.post(
        "/login",
        data={"username": user.username, "password": factories.PASSWORD, "csrf_token": foreign_token},
    )
    assert response.status_code == 400


@pytest.fixture
def small_login_limit(app):
    app.config["LOGIN_RATE_LIMIT"] = "5 per minute"
    yield
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"


def test_login_attempts_are_rate_limited(app, client, db_session, small_login_limit):
    user = factories.user()
    limit = int(re.match(r"\d+", app.config["LOGIN_RATE_LIMIT"]).group())
    token = csrf_from(client)
    for _ in range(limit):
        response = client.post(
            "/login", data={"username": user.username, "password": "wrong-password1", "csrf_token": token}
        )
        assert response.status_code == 200
    response = client.post(
        "/login", data={"username": user.username, "password": factories.PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429
    assert "请求过于频繁" in response.get_data(as_text=True)
    assert response.headers.get("Retry-After")
    assert client.get("/plans/").status_code == 302


def test_rate_limit_is_per_account_across_addresses(app, client, db_session, small_login_limit):
    user = factories.user()
    limit = int(re.match(r"\d+", app.config["LOGIN_RATE_LIMIT"]).group())
    for n in range(limit):
        c = app.test_client()
        token = csrf_from(c)
        c.post(
            "/login",
            data={"username": user.username, "password": "wrong-password1", "csrf_token": token},
            environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"},
        )
    c = app.test_client()
    token = csrf_from(c)
    response = c.post(
        "/login",
        data={"username": user.username, "password": factories.PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )
    assert response.status_code == 429


def test_login_with_a_json_body_is_a_clear_error_not_a_500(client, db_session):
    response = client.post("/login", json={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "请刷新页面" in response.get_data(as_text=True)
    garbage = client.post("/login", data=b"\xff\xfe\x00garbage", content_type="application/octet-stream")
    assert garbage.status_code == 400
