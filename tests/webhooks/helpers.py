"""Webhook test helpers: endpoints and deliveries as records, and a real local HTTP receiver."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from app.auth.models import Organization, OrgKind
from app.extensions import db
from app.webhooks import signing
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.webhooks.outbox import emit
from tests import factories


def endpoint(
    organization: Organization | None = None,
    url: str = "https://finance.example.gov.cn/hooks",
    *,
    event_types: list[str] | None = None,
    enabled: bool = True,
    secret: str | None = None,
    **kw,
) -> WebhookEndpoint:
    """An endpoint written straight to the database (no DNS check: the tests resolve nothing)."""
    record = WebhookEndpoint(
        organization=organization or factories.org(OrgKind.FINANCE),
        url=url,
        secret=secret or signing.new_secret(),
        event_types=event_types or [],
        enabled=enabled,
        **kw,
    )
    db.session.add(record)
    db.session.flush()
    return record


def emit_one(event_type: str = "order.confirmed", **payload) -> tuple[str, list[WebhookDelivery]]:
    """Emit an event (fanned out to every subscribed endpoint) and flush; its id and deliveries."""
    event = emit(event_type, payload or {"order_no": "DD-TEST-1", "total": "100.00"}, subject="DD-TEST-1")
    db.session.flush()
    deliveries = db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.event_id == event.id).order_by(WebhookDelivery.id)
    ).all()
    return event.id, list(deliveries)


def attempts_of(delivery_id: int) -> list[WebhookAttempt]:
    return list(
        db.session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.number)
        )
    )


def fresh(record):
    db.session.expire_all()
    return db.session.get(type(record), record.id)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    """A threaded HTTP/1.1 server on 127.0.0.1 recording every request. ``replies`` are used in
    order (the last one repeats); ``respond`` may compute a reply from the request instead."""

    def __init__(self, replies: list[Reply] | None = None, port: int = 0):
        self.replies = list(replies or [Reply()])
        self.respond: Callable[[Received], Reply] | None = None
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stall)

            def log_message(self, *_args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
                with receiver._lock:
                    receiver.requests.append(got)
                    index = len(receiver.requests) - 1
                    reply = (
                        receiver.respond(got)
                        if receiver.respond
                        else receiver.replies[min(index, len(receiver.replies) - 1)]
                    )
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the sender went away (a killed worker)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"{len(self.requests)} of {count} requests after {timeout} s"
            time.sleep(0.02)
        return self.requests


@contextlib.contextmanager
def receiver(*replies: Reply) -> Iterator[Receiver]:
    server = Receiver(list(replies) or None).start()
    try:
        yield server
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def verify(secret: str, got: Received) -> dict:
    return signing.verify(secret, got.body, got.headers, now=time.time())
