"""A ``requests`` transport adapter that hands requests to a WSGI application in this process.

The embedded default mounts the payment stub this way (``session.mount(base_url, WSGIAdapter(stub))``)
so the payments client runs its real code path — encoding, headers, timeouts, retries, error
parsing — with no server and no socket. The stub mounts the e-mall itself the same way to deliver
its events. A read timeout is honoured: the application runs in a thread of its own and a call that
takes longer raises :class:`requests.exceptions.ReadTimeout`, as a slow server would; an exception
escaping the application looks like a dropped connection (:class:`requests.exceptions.ConnectionError`).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ReadTimeout
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from werkzeug.test import EnvironBuilder

WSGIApp = Callable


class WSGIAdapter(BaseAdapter):
    def __init__(self, app: WSGIApp):
        super().__init__()
        self.app = app

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout=None,
        verify=True,
        cert=None,
        proxies=None,
    ) -> Response:
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        outcome: dict = {}

        def call() -> None:
            try:
                outcome["response"] = self._call(request)
            except BaseException as exc:  # handed to the caller's thread below
                outcome["error"] = exc

        if read_timeout is None:
            call()
        else:
            worker = threading.Thread(target=call, name="wsgi-adapter", daemon=True)
            worker.start()
            worker.join(read_timeout)
            if worker.is_alive():
                raise ReadTimeout(
                    f"in-process call to {request.url} timed out after {read_timeout}s", request=request
                )
        if "error" in outcome:
            error = outcome["error"]
            raise RequestsConnectionError(
                f"in-process call to {request.url} failed: {error!r}", request=request
            ) from error
        return outcome["response"]

    def _call(self, request: PreparedRequest) -> Response:
        url = urlsplit(request.url or "")
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = dict(request.headers)
        builder = EnvironBuilder(
            path=url.path or "/",
            base_url=f"{url.scheme}://{url.netloc}",
            query_string=url.query,
            method=request.method or "GET",
            headers=headers,
            data=body or b"",
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        status_line: list[str] = []
        response_headers: list[tuple[str, str]] = []

        def start_response(status, headers, exc_info=None):
            status_line[:] = [status]
            response_headers[:] = headers
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        iterable = self.app(environ, start_response)
        try:
            chunks.extend(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        content = b"".join(chunks)
        code, _, reason = status_line[0].partition(" ")
        response = Response()
        response.status_code = int(code)
        response.reason = reason
        response.headers = CaseInsensitiveDict(response_headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = content
        response.raw = io.BytesIO(content)
        response.url = request.url or ""
        response.request = request
        response.connection = self
        return response

    def close(self) -> None:
        """Nothing to release: there is no connection pool."""
