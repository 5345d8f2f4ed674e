"""The timeout bounds the whole answer, not each byte: a receiver dripping its body a byte at a time
cannot hold a worker past its lease."""

from __future__ import annotations

import socket
import threading
import time

from app.webhooks.transport import build_session, send


def _dripping_server() -> tuple[int, threading.Event]:
    """Answers 500 with an 8-byte body, one byte a second."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    done = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 8\r\n\r\n")
            for _ in range(8):
                if done.is_set():
                    break
                try:
                    conn.sendall(b"x")
                except OSError:
                    break
                time.sleep(1)
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], done


def test_a_dripping_answer_is_cut_at_the_timeout():
    port, done = _dripping_server()
    session = build_session(frozenset({"127.0.0.1"}))
    started = time.monotonic()
    result = send(session, f"http://127.0.0.1:{port}/hook", body=b"{}", headers={}, timeout=2)
    elapsed = time.monotonic() - started
    done.set()
    assert elapsed < 3.5, elapsed  # eight bytes at one a second would take 8 s
    assert result.status_code == 500 and not result.ok
    assert result.error.startswith("响应超时")
