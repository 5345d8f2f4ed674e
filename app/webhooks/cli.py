"""``flask webhooks …``: send a signed test event to a receiver."""

from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.db import utcnow
from app.webhooks import guard, signing
from app.webhooks.events import TEST_EVENT
from app.webhooks.outbox import new_event_id
from app.webhooks.transport import build_session, send

webhooks_cli = AppGroup("webhooks", help="事件推送 (outbound webhooks).")


def _secret(_ctx, _param, value: str) -> str:
    if not value.startswith(signing.SECRET_PREFIX):
        raise click.BadParameter("密钥应以 whsec_ 开头")
    try:
        signing.secret_key(value)
    except signing.InvalidSecret as exc:
        raise click.BadParameter(str(exc)) from exc
    return value


@webhooks_cli.command("send-test")
@click.option("--url", required=True, help="接收地址 (http:// or https://).")
@click.option("--secret", required=True, callback=_secret, help="签名密钥 whsec_…")
def send_test(url: str, secret: str) -> None:
    """Send one signed ``webhook.test`` event and print the answer; exit 0 only on a 2xx."""
    allowed = guard.allowed_hosts(current_app.config.get("WEBHOOK_ALLOWED_HOSTS"))
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10))
    msg_id = new_event_id()
    body = signing.body_bytes(
        TEST_EVENT, utcnow(), {"message": "这是一条测试事件（webhook.test），用于检查接收端与签名校验。"}
    )
    headers = signing.headers([signing.secret_key(secret)], msg_id, int(time.time()), body)
    with build_session(allowed) as http:
        result = send(http, url.strip(), body=body, headers=headers, timeout=timeout)
    click.echo(f"webhook-id: {msg_id}")
    if result.status_code is not None:
        click.echo(f"HTTP {result.status_code}（{result.duration_ms} ms）")
    if result.error:
        click.echo(f"错误：{result.error}", err=True)
    click.echo(f"响应：{result.excerpt}" if result.excerpt else "响应：（空）")
    if result.ok:
        click.echo("成功：接收端返回 2xx。")
        return
    sys.exit(1)
