"""``flask webhooks send-test``: one signed ``webhook.test`` event; exit 0 only on a 2xx."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.webhooks import signing
from tests.webhooks.helpers import Reply, free_port, receiver, verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def send_test(app, *args):
    return app.test_cli_runner().invoke(args=["webhooks", "send-test", *args])


def test_a_2xx_exits_0_and_prints_the_answer(app, allow_local):
    with receiver(Reply(202, "已收到".encode())) as server:
        result = send_test(app, "--url", server.url, "--secret", SECRET)
        [got] = server.requests
    assert result.exit_code == 0, result.output
    assert "HTTP 202" in result.output and "响应：已收到" in result.output
    assert f"webhook-id: {got.headers['webhook-id']}" in result.output
    body = verify(SECRET, got)
    assert body["type"] == "webhook.test" and "测试事件" in body["data"]["message"]


@pytest.mark.parametrize(
    ("code", "text"), [(500, b"boom"), (404, b"no such hook"), (410, b"gone"), (301, b"")]
)
def test_a_non_2xx_exits_1(app, allow_local, code, text):
    with receiver(Reply(code, text, {"Location": "/elsewhere"} if code == 301 else {})) as server:
        result = send_test(app, "--url", server.url, "--secret", SECRET)
        assert [r.path for r in server.requests] == ["/hooks"]  # a redirect is not followed
    assert result.exit_code == 1
    assert f"HTTP {code}" in result.output
    if text:
        assert f"响应：{text.decode()}" in result.output


def test_an_unreachable_receiver_exits_1(app, allow_local):
    result = send_test(app, "--url", f"http://127.0.0.1:{free_port()}/hooks", "--secret", SECRET)
    assert result.exit_code == 1
    assert "连接失败" in result.output


def test_a_loopback_receiver_that_is_not_allow_listed_is_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", "")
    with receiver() as server:
        result = send_test(app, "--url", server.url, "--secret", SECRET)
        assert server.requests == []
    assert result.exit_code == 1
    assert "目标地址被拒绝" in result.output and "回环地址" in result.output


@pytest.mark.parametrize("secret", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_%%%", "whsec_c2hvcnQ="])
def test_a_bad_secret_is_a_usage_error(app, allow_local, secret):
    result = send_test(app, "--url", "http://127.0.0.1:9/hooks", "--secret", secret)
    assert result.exit_code == 2
    assert "--secret" in result.output


def test_a_bad_url_exits_1(app, allow_local):
    result = send_test(app, "--url", "ftp://127.0.0.1/hooks", "--secret", SECRET)
    assert result.exit_code == 1 and "只支持 http:// 或 https://" in result.output


def test_the_real_command_line(tmp_path, repo_root):
    """The command as people run it: ``flask --app wsgi webhooks send-test``, in its own process."""
    env = {
        **os.environ,
        "APP_ENV": "development",
        "INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "SEARCH_INDEX_DIR": str(tmp_path / "search"),
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    }
    env.pop("REDIS_URL", None)
    secret = signing.new_secret()
    with receiver(Reply(200, b"ok"), Reply(503, b"later")) as server:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "webhooks", "send-test"]
        ok = subprocess.run(
            [*command, "--url", server.url, "--secret", secret],
            cwd=repo_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        failing = subprocess.run(
            [*command, "--url", server.url, "--secret", secret],
            cwd=repo_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        verify(secret, server.requests[0])
    assert ok.returncode == 0, ok.stderr
    assert "HTTP 200" in ok.stdout and "响应：ok" in ok.stdout
    assert failing.returncode == 1 and "HTTP 503" in failing.stdout
