"""SSRF guard: webhooks go to the public internet only.

A URL is refused when its host resolves to a private, loopback, link-local (the cloud metadata
address 169.254.169.254 among them), unspecified, multicast, reserved or otherwise non-global
address — unless the host name, or the address, is listed in ``WEBHOOK_ALLOWED_HOSTS``.

The check runs when an endpoint is saved (a clear form error) and again for every connection the
delivery client opens (DNS may change after the endpoint was saved): the connection goes to the
address that was checked, never to a second lookup, so a rebinding name gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")
MAX_URL_LENGTH = 2000


class UrlRejected(ValueError):
    """A webhook URL that may not be used; the message is for people."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BlockedDestination(UrlRejected):
    """The host resolves to an address webhooks may not reach."""


def allowed_hosts(value: str | Iterable[str] | None) -> frozenset[str]:
    """``WEBHOOK_ALLOWED_HOSTS``: a comma-separated string (from the environment) or a list."""
    if not value:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(normalize_host(item) for item in items if item and item.strip())


def normalize_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))  # one spelling per address (::1, not 0:0::1)
    except ValueError:
        return host


def address_problem(address: IPAddress) -> str | None:
    """Why webhooks may not go to ``address`` (None: a public address)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is not None:
            problem = address_problem(embedded)
            if problem:
                return problem
    if address.is_loopback:
        return "回环地址"
    if address.is_link_local:
        return "链路本地地址（含云主机元数据地址 169.254.169.254）"
    if address.is_unspecified:
        return "未指定地址"
    if address.is_multicast:
        return "组播地址"
    if address.is_reserved:
        return "保留地址"
    if address.is_private:
        return "内网地址"
    if not address.is_global:
        return "非公网地址"
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order (raises ``socket.gaierror``)."""
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def vetted_addresses(host: str, port: int, allowed: frozenset[str]) -> list[IPAddress]:
    """The addresses of ``host`` a webhook may connect to; raises :class:`BlockedDestination` when
    any of them is not public and not allow-listed (and ``socket.gaierror`` when it does not
    resolve). Refusing the whole name when one address is private keeps a name that answers with
    a public and a private address from being used to reach the private one."""
    name = normalize_host(host)
    addresses = resolve(host.strip().strip("[]"), port)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    if name in allowed:
        return addresses
    for address in addresses:
        problem = address_problem(address)
        if problem and str(address) not in allowed:
            shown = name if name == str(address) else f"{name}（解析为 {address}）"
            raise BlockedDestination(
                f"不允许向{problem}发送事件：{shown}。如确需使用，请由系统管理员将该主机加入 "
                "WEBHOOK_ALLOWED_HOSTS 白名单。"
            )
    return addresses


def split_url(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an http(s) URL, or :class:`UrlRejected`."""
    if len(url) > MAX_URL_LENGTH:
        raise UrlRejected(f"地址过长（最多 {MAX_URL_LENGTH} 个字符）。")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise UrlRejected("地址中不能包含空格或控制字符。")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRejected("地址格式不正确（端口或主机名无效）。") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UrlRejected("只支持 http:// 或 https:// 开头的地址。")
    if not parts.hostname:
        raise UrlRejected("地址缺少主机名。")
    if parts.username is not None or parts.password is not None:
        raise UrlRejected("地址中不能包含用户名或密码，请改用签名校验身份。")
    if parts.fragment:
        raise UrlRejected("地址中不能包含 # 片段。")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def check_url(url: str, allowed: frozenset[str]) -> str:
    """Validate a webhook URL now (scheme, shape, and where its host resolves); returns it."""
    url = url.strip()
    _scheme, host, port = split_url(url)
    try:
        vetted_addresses(host, port, allowed)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlRejected(f"无法解析主机名 {host}，请检查地址是否正确。") from exc
    return url
