"""The SSRF guard: private, loopback, link-local (metadata), unspecified, multicast and reserved
targets are refused — at creation and again at delivery — unless allow-listed."""

from __future__ import annotations

import socket

import pytest

from app.webhooks import guard

REAL_GETADDRINFO = socket.getaddrinfo
FAKE_DNS = {
    "finance.example.gov.cn": ["203.119.25.1"],  # a public address
    "rebind.example.com": ["127.0.0.1"],  # a public-looking name that resolves to loopback
    "metadata.example.com": ["169.254.169.254"],
    "mixed.example.com": ["203.119.25.1", "10.0.0.7"],
    "v6.example.com": ["2400:3200::1"],
}


def fake_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    if host in FAKE_DNS:
        answers = []
        for address in FAKE_DNS[host]:
            af = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if af == socket.AF_INET6 else (address, port)
            answers.append((af, socket.SOCK_STREAM, 6, "", sockaddr))
        return answers
    if host.endswith((".example.com", ".example.gov.cn", ".invalid")):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return REAL_GETADDRINFO(host, port, family, type, proto, flags)


@pytest.fixture(autouse=True)
def dns(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


NONE: frozenset[str] = frozenset()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://localhost/hook", "回环地址"),
        ("http://127.0.0.1/hook", "回环地址"),
        ("http://127.8.9.10:8080/hook", "回环地址"),
        ("http://2130706433/hook", "回环地址"),  # 127.0.0.1 spelled as one number
        ("http://0x7f.1/hook", "回环地址"),
        ("http://10.1.2.3/hook", "内网地址"),
        ("http://172.16.0.1/hook", "内网地址"),
        ("http://192.168.1.1/hook", "内网地址"),
        ("http://[::1]/hook", "回环地址"),
        ("http://[::ffff:127.0.0.1]/hook", "回环地址"),
        ("http://[fd00::1]/hook", "内网地址"),
        ("http://[fe80::1]/hook", "链路本地地址"),
        ("http://169.254.169.254/latest/meta-data/", "链路本地地址"),
        ("http://metadata.example.com/", "链路本地地址"),
        ("http://0.0.0.0/hook", "未指定地址"),
        ("http://224.0.0.1/hook", "组播地址"),
        ("http://240.0.0.1/hook", "保留地址"),
        ("http://100.64.0.1/hook", "非公网地址"),
        ("https://rebind.example.com/hook", "回环地址"),
        ("https://mixed.example.com/hook", "内网地址"),  # one private answer is enough to refuse
    ],
)
def test_non_public_targets_are_refused(url, problem):
    with pytest.raises(guard.BlockedDestination) as refused:
        guard.check_url(url, NONE)
    assert problem in refused.value.message
    assert "WEBHOOK_ALLOWED_HOSTS" in refused.value.message


def test_a_name_resolving_to_loopback_says_where_it_resolved():
    with pytest.raises(guard.BlockedDestination) as refused:
        guard.check_url("https://rebind.example.com/hook", NONE)
    assert "rebind.example.com（解析为 127.0.0.1）" in refused.value.message


@pytest.mark.parametrize(
    "url",
    [
        "https://finance.example.gov.cn/hooks",
        "http://finance.example.gov.cn:8443/x?y=1",
        "https://v6.example.com/",
    ],
)
def test_public_targets_pass(url):
    assert guard.check_url(f"  {url} ", NONE) == url


@pytest.mark.parametrize(
    ("url", "allowed", "ok"),
    [
        ("http://127.0.0.1:9000/hook", {"127.0.0.1"}, True),
        ("http://localhost:9000/hook", {"localhost"}, True),
        ("http://rebind.example.com/hook", {"rebind.example.com"}, True),
        ("http://rebind.example.com/hook", {"127.0.0.1"}, True),  # the address is listed
        ("http://[::1]:9000/hook", {"[::1]"}, True),
        ("http://10.0.0.8/hook", {"10.0.0.7"}, False),
        ("http://mixed.example.com/hook", {"10.0.0.7"}, True),
        ("http://169.254.169.254/", {"127.0.0.1"}, False),
    ],
)
def test_the_allow_list_names_hosts_or_addresses(url, allowed, ok):
    listed = guard.allowed_hosts(",".join(allowed))
    if ok:
        assert guard.check_url(url, listed) == url
    else:
        with pytest.raises(guard.BlockedDestination):
            guard.check_url(url, listed)


def test_allowed_hosts_from_the_environment_string():
    assert guard.allowed_hosts(" Finance.Intranet. , 10.0.0.7,,[::1] ") == {
        "finance.intranet",
        "10.0.0.7",
        "::1",
    }
    assert guard.allowed_hosts("") == frozenset()
    assert guard.allowed_hosts(None) == frozenset()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://finance.example.gov.cn/x", "只支持 http:// 或 https://"),
        ("file:///etc/passwd", "只支持 http:// 或 https://"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "只支持 http:// 或 https://"),
        ("finance.example.gov.cn/hooks", "只支持 http:// 或 https://"),
        ("https:///hooks", "缺少主机名"),
        ("https://user:pw@finance.example.gov.cn/", "不能包含用户名或密码"),
        ("https://finance.example.gov.cn:99999/", "端口或主机名无效"),
        ("https://finance.example.gov.cn/a b", "空格或控制字符"),
        ("https://finance.example.gov.cn/#frag", "不能包含 # 片段"),
        ("https://nowhere.invalid/hooks", "无法解析主机名 nowhere.invalid"),
        ("https://finance.example.gov.cn/" + "a" * 2000, "地址过长"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(url, message):
    with pytest.raises(guard.UrlRejected) as refused:
        guard.check_url(url, NONE)
    assert message in refused.value.message
