"""The HTTP client of webhook deliveries: ``requests`` with keep-alive, a timeout, no redirects, no
proxies from the environment, and the SSRF guard at every new connection.

:func:`send` never raises for what a receiver does; it answers a :class:`SendResult` — the status
code, how long it took, at most 1 KB of the answer, the error, and a ``Retry-After`` in seconds.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from app.webhooks.guard import BlockedDestination, UrlRejected, split_url, vetted_addresses

USER_AGENT = "gp-emall-webhooks/1.0 (+Standard Webhooks)"
EXCERPT_BYTES = 1024  # what the attempt log keeps of an answer
DRAIN_BYTES = 64 * 1024  # read this much of an answer to keep the connection; close it beyond
RETRY_AFTER_CAP = 24 * 3600  # a receiver may ask us to wait, up to a day
COALESCE_BYTES = 64 * 1024  # bodies up to this size are written together with the request head


@dataclass
class SendResult:
    status_code: int | None = None
    duration_ms: int = 0
    excerpt: str | None = None
    error: str | None = None
    retry_after: int | None = None  # seconds

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# -- the guarded connection ---------------------------------------------------------------------


def _guarded(base: type[HTTPConnection], allowed: frozenset[str]) -> type[HTTPConnection]:
    class GuardedConnection(base):  # type: ignore[valid-type,misc]
        """Connects only to addresses the guard accepted, found by one lookup made right here."""

        def _new_conn(self) -> socket.socket:
            try:
                addresses = vetted_addresses(self._dns_host, self.port, allowed)
            except socket.gaierror as exc:
                raise NameResolutionError(self.host, self, exc) from exc
            error: OSError | None = None
            for address in addresses:
                try:
                    return urllib3_connection.create_connection(
                        (str(address), self.port),
                        self.timeout,
                        source_address=self.source_address,
                        socket_options=self.socket_options,
                    )
                except TimeoutError as exc:
                    raise ConnectTimeoutError(
                        self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                    ) from exc
                except OSError as exc:
                    error = exc
            raise NewConnectionError(self, f"Failed to establish a new connection: {error}")

        # The request head and its body leave in one write: a head written alone makes the body
        # wait on the receiver's delayed ACK (Nagle), and every write is a system call.
        _head: bytes | None = None
        _holding = False

        def endheaders(self, message_body=None, *, encode_chunked=False):
            self._holding = message_body is None
            try:
                super().endheaders(message_body, encode_chunked=encode_chunked)
            finally:
                self._holding = False

        def send(self, data):
            if self._holding and self._head is None and isinstance(data, bytes):
                self._head = data  # http.client writes the head here; the body follows
                return
            if self._head is not None:
                head, self._head = self._head, None
                if isinstance(data, bytes | bytearray) and len(data) <= COALESCE_BYTES:
                    data = head + data
                else:
                    super().send(head)
            super().send(data)

        def getresponse(self, *args, **kwargs):
            if self._head is not None:  # a request without a body
                head, self._head = self._head, None
                super().send(head)
            return super().getresponse(*args, **kwargs)

        def close(self) -> None:
            self._head = None
            super().close()

    GuardedConnection.__name__ = f"Guarded{base.__name__}"
    return GuardedConnection


class GuardedAdapter(HTTPAdapter):
    def __init__(self, allowed: frozenset[str], **kwargs):
        self.allowed = allowed
        super().__init__(max_retries=0, **kwargs)  # retries are the delivery schedule's business

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)
        http_pool = type(
            "GuardedHTTPConnectionPool",
            (HTTPConnectionPool,),
            {"ConnectionCls": _guarded(HTTPConnection, self.allowed)},
        )
        https_pool = type(
            "GuardedHTTPSConnectionPool",
            (HTTPSConnectionPool,),
            {"ConnectionCls": _guarded(HTTPSConnection, self.allowed)},
        )
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise requests.exceptions.InvalidProxyURL("webhooks are never sent through a proxy")


def build_session(allowed: frozenset[str], *, pool_size: int = 4) -> requests.Session:
    """A client whose connections are kept alive per host (so per endpoint) between deliveries."""
    session = requests.Session()
    session.trust_env = False  # no proxy or .netrc from the environment
    adapter = GuardedAdapter(allowed, pool_connections=16, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({"User-Agent": USER_AGENT, "Content-Type": "application/json"})
    return session


# -- one request ----------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime | None = None) -> int | None:
    """``Retry-After`` as whole seconds from now: delta-seconds or an HTTP date; capped at a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = int(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = int((when - (now or datetime.now(UTC))).total_seconds() + 0.999)
    return max(0, min(seconds, RETRY_AFTER_CAP))


def _excerpt(data: bytes) -> str:
    text = data[:EXCERPT_BYTES].decode("utf-8", "ignore").replace("\x00", "")
    while len(text.encode("utf-8")) > EXCERPT_BYTES:
        text = text[:-1]
    return text


def _short(exc: BaseException) -> str:
    """The innermost, most telling part of a requests/urllib3 error."""
    reason = exc
    for _ in range(6):
        inner = getattr(reason, "reason", None) or (reason.args[0] if reason.args else None)
        if isinstance(inner, BaseException):
            reason = inner
        else:
            break
    text = str(reason) or type(reason).__name__
    return text[:300]


def _read_answer(response: requests.Response, deadline: float) -> tuple[bytes, bool]:
    """Up to :data:`DRAIN_BYTES` of the answer within the deadline; ``True`` when it all came.

    The read timeout bounds each wait for a byte, not the whole answer: a receiver dripping a byte
    at a time could hold the worker past its lease. A watchdog shuts the socket at the deadline."""
    data = bytearray()
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _shut, [sock]) if sock else None
    if watchdog is not None:
        watchdog.daemon = True
        watchdog.start()
    try:
        for chunk in response.iter_content(8192):
            data.extend(chunk)
            if len(data) > DRAIN_BYTES or time.monotonic() > deadline:
                return bytes(data), False
    except requests.RequestException:
        if time.monotonic() >= deadline:
            return bytes(data), False
        raise
    finally:
        if watchdog is not None:
            watchdog.cancel()
    return bytes(data), True


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _template(session: requests.Session, url: str) -> requests.PreparedRequest:
    """The prepared POST to ``url`` with the session's headers, made once per session and URL
    (preparing a request from scratch costs more than sending it to a local receiver)."""
    templates = session.__dict__.setdefault("_webhook_templates", {})
    template = templates.get(url)
    if template is None:
        template = templates[url] = session.prepare_request(requests.Request("POST", url))
    return template


def send(
    session: requests.Session, url: str, *, body: bytes, headers: dict[str, str], timeout: float
) -> SendResult:
    """POST ``body`` to ``url``. Redirects are answers (not followed); only 2xx counts."""
    started = time.monotonic()
    result = SendResult()
    try:
        split_url(url)  # http(s) only, no credentials — checked again at delivery time
        request = _template(session, url).copy()
        request.body = body
        request.headers["Content-Length"] = str(len(body))
        request.headers.update(headers)
        response = session.send(request, timeout=timeout, allow_redirects=False, stream=True, proxies={})
    except BlockedDestination as exc:
        result.error = "目标地址被拒绝：" + exc.message
    except UrlRejected as exc:
        result.error = "地址无效：" + exc.message
    except requests.Timeout:
        result.error = f"超时：{timeout:g} 秒内未连接或未收到响应"
    except requests.ConnectionError as exc:
        result.error = "连接失败：" + _short(exc)
    except requests.RequestException as exc:
        result.error = "请求失败：" + _short(exc)
    else:
        result.status_code = response.status_code
        try:
            data, complete = _read_answer(response, started + timeout)
            if not complete and len(data) <= DRAIN_BYTES and not result.ok:
                result.error = f"响应超时：{timeout:g} 秒内未收完响应"
        except requests.RequestException as exc:
            data = b""
            result.error = "读取响应失败：" + _short(exc)
        finally:
            response.close()  # back to the pool if it was read to the end, closed otherwise
        result.excerpt = _excerpt(data)
        if 300 <= response.status_code < 400 and not result.error:
            location = response.headers.get("Location", "")
            result.error = f"收到重定向（{response.status_code} → {location[:200]}），未跟随：请配置最终地址"
        if not result.ok:
            result.retry_after = parse_retry_after(response.headers.get("Retry-After"))
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result
