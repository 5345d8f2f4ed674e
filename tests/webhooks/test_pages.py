"""The 事件推送 pages: finance and operator users manage their own organization's endpoints."""

from __future__ import annotations

import re
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import OrgKind, Role
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.extensions import db
from app.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests import factories
from tests.conftest import csrf_from, login
from tests.webhooks.helpers import Reply, emit_one, endpoint, fresh, receiver

REAL_GETADDRINFO = socket.getaddrinfo
PUBLIC = "203.119.25.1"


@pytest.fixture(autouse=True)
def dns(monkeypatch):
    def fake(host, port, *args, **kwargs):
        if host == "finance.example.gov.cn":
            return REAL_GETADDRINFO(PUBLIC, port, *args, **kwargs)
        if host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.fixture
def finance(db_session):
    organization = factories.org(OrgKind.FINANCE, name="市财政局")
    return factories.user(organization, Role.FINANCE)


def signed_in(app, user):
    client = app.test_client()
    login(client, user.username)
    return client


def post(client, url, data=None, page=None):
    token = csrf_from(client, page or "/webhooks/")
    return client.post(url, data={"csrf_token": token, **(data or {})})


# -- list and create -------------------------------------------------------------------------------


def test_the_list_starts_empty_and_is_in_the_navigation(app, finance):
    client = signed_in(app, finance)
    page = client.get("/webhooks/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "本单位还没有配置推送地址" in html
    assert 'href="/webhooks/" aria-current="page">事件推送</a>' in html


def test_creating_an_endpoint_shows_the_secret_once(app, finance):
    client = signed_in(app, finance)
    response = post(
        client,
        "/webhooks/new",
        {
            "url": " https://finance.example.gov.cn/emall/hooks ",
            "description": "国库集中支付系统",
            "scope": "selected",
            "event_types": ["order.*", "budget.consumed"],
        },
        "/webhooks/new",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[-2000:]
    assert response.headers["Cache-Control"] == "no-store"
    hook = db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.organization_id == finance.organization_id)
    ).one()
    assert (hook.url, hook.description, hook.event_types, hook.enabled) == (
        "https://finance.example.gov.cn/emall/hooks",
        "国库集中支付系统",
        ["budget.consumed", "order.*"],
        True,
    )
    assert hook.secret.startswith("whsec_") and hook.secret in html
    assert "只显示这一次" in html
    assert hook.created_by_id == finance.id
    # Never again: not on the list, not on the detail page.
    assert hook.secret not in client.get("/webhooks/").get_data(as_text=True)
    detail = client.get(f"/webhooks/{hook.id}").get_data(as_text=True)
    assert hook.secret not in detail and "还没有投递记录" in detail
    assert "全部订单事件" in detail and "预算已核销" in detail
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "webhook.endpoint_created")
    ).one()
    assert audit.detail == {"endpoint_id": hook.id, "url": hook.url}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:8080/hooks", "不允许向回环地址发送事件"),
        ("http://169.254.169.254/latest/meta-data/", "链路本地地址（含云主机元数据地址 169.254.169.254）"),
        ("http://10.0.0.8/hooks", "不允许向内网地址发送事件"),
        ("http://localhost/hooks", "不允许向回环地址发送事件"),
        ("ftp://finance.example.gov.cn/hooks", "只支持 http:// 或 https://"),
        ("https://nowhere.invalid/hooks", "无法解析主机名"),
        ("", "请填写接收地址"),
    ],
)
def test_bad_urls_are_refused_with_a_chinese_message_and_nothing_is_saved(app, finance, url, message):
    client = signed_in(app, finance)
    response = post(client, "/webhooks/new", {"url": url, "scope": "all"}, "/webhooks/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert 'aria-invalid="true"' in html
    assert db.session.scalar(select(WebhookEndpoint.id)) is None


def test_selected_scope_needs_at_least_one_type(app, finance):
    client = signed_in(app, finance)
    response = post(
        client,
        "/webhooks/new",
        {"url": "https://finance.example.gov.cn/h", "scope": "selected"},
        "/webhooks/new",
    )
    assert response.status_code == 422
    assert "请至少选择一种事件类型" in response.get_data(as_text=True)
    unknown = post(
        client,
        "/webhooks/new",
        {"url": "https://finance.example.gov.cn/h", "scope": "selected", "event_types": ["order.hacked"]},
        "/webhooks/new",
    )
    assert unknown.status_code == 422 and "未知的事件类型" in unknown.get_data(as_text=True)
    assert db.session.scalar(select(WebhookEndpoint.id)) is None


def test_create_needs_the_csrf_token(app, finance):
    client = signed_in(app, finance)
    response = client.post("/webhooks/new", data={"url": "https://finance.example.gov.cn/h"})
    assert response.status_code == 400
    assert db.session.scalar(select(WebhookEndpoint.id)) is None


def test_the_operator_manages_its_own_endpoints_too(app, db_session):
    operator = factories.user(factories.org(OrgKind.OPERATOR), Role.OPERATOR)
    client = signed_in(app, operator)
    response = post(client, "/webhooks/new", {"url": "https://finance.example.gov.cn/op", "scope": "all"})
    assert response.status_code == 200
    hook = db.session.scalars(select(WebhookEndpoint)).one()
    assert hook.organization_id == operator.organization_id and hook.event_types == []


# -- detail and delivery log ---------------------------------------------------------------------------


def test_the_delivery_log_shows_attempts_newest_first_and_pages(app, finance, allow_local):
    with receiver(Reply(503, b"busy, try later", {"Retry-After": "60"})) as server:
        hook = endpoint(finance.organization, url=server.url)
        ids = [emit_one("order.confirmed", order_no=f"DD-{i:03d}")[0] for i in range(25)]
        from app.webhooks import delivery

        delivery.sweep()
        client = signed_in(app, finance)
        first = client.get(f"/webhooks/{hook.id}").get_data(as_text=True)
        assert "共 25 条投递" in first
        assert first.index(ids[-1]) < first.index(ids[-2])  # newest first
        assert ids[4] not in first and ids[5] in first  # 20 per page
        assert "busy, try later" in first and "HTTP 503" in first and "ms</td>" in first
        assert "订单已确认" in first
        second = client.get(f"/webhooks/{hook.id}?page=2").get_data(as_text=True)
        assert ids[4] in second and ids[0] in second and ids[5] not in second
        filtered = client.get(f"/webhooks/{hook.id}?status=succeeded").get_data(as_text=True)
        assert "没有“已送达”状态的投递" in filtered
        bad = client.get(f"/webhooks/{hook.id}?status=nope")
        assert bad.status_code == 422 and "状态取值无效" in bad.get_data(as_text=True)


def test_replay_from_the_log(app, finance, allow_local):
    with receiver(Reply(500, b"down"), Reply(200, b"thanks")) as server:
        hook = endpoint(finance.organization, url=server.url)
        event_id, [item] = emit_one()
        from app.webhooks import delivery

        delivery.sweep()
        client = signed_in(app, finance)
        page = f"/webhooks/{hook.id}"
        no_token = client.post(f"{page}/deliveries/{item.id}/replay")
        assert no_token.status_code == 400 and len(server.requests) == 1
        response = post(client, f"{page}/deliveries/{item.id}/replay", {"next": page + "?page=1"}, page)
        assert response.status_code == 302 and response.headers["Location"] == page + "?page=1"
        assert len(server.requests) == 2
        assert [r.headers["webhook-id"] for r in server.requests] == [event_id, event_id]
        item = fresh(item)
        assert item.status == DeliveryStatus.SUCCEEDED
        manual = db.session.scalars(select(WebhookAttempt).where(WebhookAttempt.manual.is_(True))).one()
        assert manual.status_code == 200 and manual.delivery_id == item.id
        html = client.get(page).get_data(as_text=True)
        assert "已安排重新投递事件" in html and "（手动）" in html and "thanks" in html
        # An outside "next" is not followed.
        outside = post(client, f"{page}/deliveries/{item.id}/replay", {"next": "https://evil.example/"}, page)
        assert outside.headers["Location"] == page


def test_disable_and_enable(app, finance):
    hook = endpoint(finance.organization)
    client = signed_in(app, finance)
    page = f"/webhooks/{hook.id}"
    response = post(client, f"{page}/disable", {"reason": "接收端迁移"}, page)
    assert response.status_code == 302
    hook = fresh(hook)
    assert (hook.enabled, hook.disabled_reason) == (False, "接收端迁移")
    html = client.get(page).get_data(as_text=True)
    assert "推送地址已停用" in html and "接收端迁移" in html and "启用</button>" in html
    too_long = post(client, f"{page}/disable", {"reason": "x" * 201}, page)
    assert too_long.status_code == 302
    post(client, f"{page}/enable", {}, page)
    hook = fresh(hook)
    assert hook.enabled is True and hook.disabled_reason is None
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("webhook.%"))).all()
    assert sorted(actions) == ["webhook.endpoint_disabled", "webhook.endpoint_enabled"]


def test_enable_rechecks_the_address(app, finance, monkeypatch):
    hook = endpoint(
        finance.organization, url="http://10.0.0.9/hooks", enabled=False, disabled_reason="410 Gone"
    )
    client = signed_in(app, finance)
    page = f"/webhooks/{hook.id}"
    post(client, f"{page}/enable", {}, page)
    assert fresh(hook).enabled is False
    assert "未能启用" in client.get(page).get_data(as_text=True)


def test_rotation_asks_first_then_shows_the_new_secret_once(app, finance):
    hook = endpoint(finance.organization)
    old = hook.secret
    client = signed_in(app, finance)
    page = f"/webhooks/{hook.id}"
    confirm = client.get(f"{page}/rotate")
    assert confirm.status_code == 200 and "确认轮换" in confirm.get_data(as_text=True)
    assert fresh(hook).secret == old  # a GET changes nothing
    response = post(client, f"{page}/rotate", {}, f"{page}/rotate")
    html = response.get_data(as_text=True)
    hook = fresh(hook)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert hook.secret != old and hook.secret in html and old not in html
    assert hook.previous_secret == old
    overlap = hook.previous_secret_expires_at - utcnow()
    assert timedelta(hours=23, minutes=59) < overlap <= timedelta(hours=24)
    assert "同时带上新旧两个签名" in html
    assert hook.secret not in client.get(page).get_data(as_text=True)
    assert "密钥轮换过渡期" in client.get(page).get_data(as_text=True)


# -- access -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [OrgKind.PURCHASING_UNIT, OrgKind.SUPPLIER, OrgKind.REGULATOR])
def test_other_roles_may_not_use_the_pages(app, db_session, kind):
    user = factories.user(factories.org(kind))
    client = signed_in(app, user)
    assert client.get("/webhooks/").status_code == 403
    assert client.get("/webhooks/new").status_code == 403
    assert post(client, "/webhooks/new", {"url": "https://finance.example.gov.cn/x"}, "/").status_code == 403
    assert db.session.scalar(select(WebhookEndpoint.id)) is None


def test_another_organizations_endpoint_is_not_found(app, finance, allow_local):
    theirs = endpoint(factories.org(OrgKind.FINANCE), url="http://127.0.0.1:9/hooks")
    _event, [item] = emit_one()
    mine = endpoint(finance.organization)
    client = signed_in(app, finance)
    base = f"/webhooks/{theirs.id}"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/rotate").status_code == 404
    for action in ("disable", "enable", "rotate", f"deliveries/{item.id}/replay"):
        assert post(client, f"{base}/{action}").status_code == 404, action
    # Their delivery through my endpoint's URL is not found either.
    assert post(client, f"/webhooks/{mine.id}/deliveries/{item.id}/replay").status_code == 404
    theirs = fresh(theirs)
    assert theirs.enabled is True and theirs.previous_secret is None
    assert fresh(item).replay_requested is False and fresh(item).attempts == 0
    html = client.get("/webhooks/").get_data(as_text=True)
    assert "127.0.0.1:9" not in html and re.search(rf'href="/webhooks/{mine.id}"', html)


def test_a_delivery_row_counts_on_the_list(app, finance, allow_local):
    with receiver() as server:
        hook = endpoint(finance.organization, url=server.url)
        emit_one()
        emit_one()
        from app.webhooks import delivery

        delivery.sweep()
        db.session.execute(
            WebhookDelivery.__table__.update()
            .values(status=DeliveryStatus.FAILED)
            .where(
                WebhookDelivery.__table__.c.id
                == db.session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id)).first()
            )
        )
        client = signed_in(app, finance)
        html = client.get("/webhooks/").get_data(as_text=True)
        row = html[html.index(server.url) :]
        assert re.search(r'<td class="num">1</td>\s*<td class="num">0</td>\s*<td class="num">1</td>', row), (
            row[:800]
        )
        assert hook.id


# -- accessibility (the checks of tests/ui/test_accessibility.py, on these pages) ------------------


def test_the_pages_are_accessible(app, finance, allow_local):
    from tests.ui.pages import parse

    with receiver(Reply(500, b"down")) as server:
        hook = endpoint(finance.organization, url=server.url)
        emit_one()
        from app.webhooks import delivery

        delivery.sweep()
        client = signed_in(app, finance)
        page = f"/webhooks/{hook.id}"
        pages = {
            url: client.get(url).get_data(as_text=True)
            for url in ("/webhooks/", "/webhooks/new", page, f"{page}/rotate")
        }
        pages["new (errors)"] = post(
            client, "/webhooks/new", {"url": "ftp://x", "scope": "selected"}, "/webhooks/new"
        ).get_data(as_text=True)
        pages["detail (bad filter)"] = client.get(f"{page}?status=nope").get_data(as_text=True)
        pages["secret"] = post(client, f"{page}/rotate", {}, f"{page}/rotate").get_data(as_text=True)
    tables = 0
    for name, html in pages.items():
        parsed = parse(html)
        assert len(parsed.find_all("h1")) == 1, name
        labels = {label.get("for"): label.text for label in parsed.find_all("label")}
        for control in parsed.elements:
            if control.tag in ("input", "select", "textarea") and control.get("type") not in (
                "hidden",
                "submit",
                "button",
            ):
                assert control.get("id") and labels.get(control.get("id")), (name, control.attrs)
        ids = parsed.ids()
        assert len(ids) == len(set(ids)), name
        for element in parsed.elements:
            for ref in (element.get("aria-describedby") or "").split():
                assert ref in ids, (name, ref)
            href = element.get("href") or ""
            if element.tag == "a" and href.startswith("#") and len(href) > 1:
                assert href[1:] in ids, (name, href)
        for table in parsed.find_all("table"):
            assert parsed.inside(table, "caption"), name
            assert all(th.get("scope") in ("col", "row") for th in parsed.inside(table, "th")), name
            tables += 1
        for badge in parsed.find_all("span"):
            if "badge" in (badge.get("class") or "").split():
                assert badge.text, name  # the status is said in words, not by colour alone
    assert tables >= 3
