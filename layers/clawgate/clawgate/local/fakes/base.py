"""Loopback HTTP fake base: a stdlib ThreadingHTTPServer in a daemon thread that records every request.

Subclasses implement `handle(request) -> Response`. Tests program failures with `fail_next(...)`, which answer the
next N matching requests with an error before normal behaviour resumes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

JSON = Any


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart/form-data body."""

    name: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class RecordedRequest:
    """What the fake received. Header names are lower-case; `query` keeps the last value of repeated keys."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: JSON | None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, Any]:
        """Query, form fields and top-level JSON object keys merged (body wins)."""
        merged: dict[str, Any] = dict(self.query)
        merged.update(self.form)
        if isinstance(self.json, dict):
            merged.update(self.json)
        return merged

    @property
    def bearer_token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None


@dataclass
class Response:
    """An answer from a fake: status, body bytes and headers."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: JSON, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        merged = {"content-type": "application/json"}
        merged.update(headers or {})
        return cls(status, json.dumps(payload).encode(), merged)


@dataclass
class _Failure:
    status: int
    body: JSON | None
    remaining: int
    path_contains: str | None
    headers: dict[str, str]
    method: str | None = None


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """Split a multipart/form-data body into plain fields and file parts."""
    message = BytesParser(policy=HTTP).parsebytes(b"content-type: " + content_type.encode() + b"\r\n\r\n" + body)
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True)
        payload = data if isinstance(data, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = payload.decode("utf-8", "replace")
        else:
            files[name] = UploadedFile(name, filename, part.get_content_type(), payload)
    return fields, files


def _parse_body(headers: dict[str, str], body: bytes) -> tuple[JSON | None, dict[str, str], dict[str, UploadedFile]]:
    content_type = headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        fields, files = parse_multipart(content_type, body)
        return None, fields, files
    if content_type.startswith("application/x-www-form-urlencoded"):
        return None, dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)), {}
    if not body:
        return None, {}, {}
    try:
        return json.loads(body), {}, {}
    except ValueError:
        return None, {}, {}


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # else every keep-alive response waits ~40 ms for the delayed ACK
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        body = self._read_body()
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        split = urlsplit(self.path)
        parsed, form, files = _parse_body(headers, body)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        request = RecordedRequest(self.command, split.path, query, headers, body, parsed, form, files)
        response = self.server.fake._respond(request)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeServer) -> None:
        self.fake = fake
        super().__init__(address, _Handler)


class FakeServer:
    """Base class: start()/stop() or `with`, `.url`, `.requests`, `fail_next(...)`, `reset()`."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._lock = threading.RLock()
        self._requests: list[RecordedRequest] = []
        self.keep_requests = True  # False for a fake that serves a long-running process: nothing piles up
        self._failures: list[_Failure] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> Self:
        if self._server is None:
            self._server = _Server((self.host, self.port), self)
            self.port = self._server.server_address[1]
            name = f"{type(self).__name__}:{self.port}"
            self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=name, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # recording -------------------------------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path_contains: str, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if path_contains in r.path and (method is None or r.method == method)]

    def wait_for_requests(self, path_contains: str, count: int = 1, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until `count` requests matched `path_contains` (for asynchronous callers); raise on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.requests_to(path_contains)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        raise TimeoutError(f"{type(self).__name__}: {len(found)}/{count} requests to {path_contains!r} in {timeout}s")

    # failures --------------------------------------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        body_json: JSON | None = None,
        times: int = 1,
        path_contains: str | None = None,
        headers: dict[str, str] | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next `times` requests (whose path contains `path_contains` and whose method is `method`, if
        given) with this error.

        `body_json=None` uses the fake's own error envelope for the status (`error_body`).
        """
        with self._lock:
            self._failures.append(_Failure(status, body_json, times, path_contains, dict(headers or {}), method))

    def error_body(self, status: int) -> JSON:
        """The vendor's error envelope for a status; subclasses override."""
        return {"error": {"status": status}}

    def _take_failure(self, request: RecordedRequest) -> Response | None:
        with self._lock:
            for failure in self._failures:
                if failure.method not in (None, request.method):
                    continue
                if failure.path_contains is None or failure.path_contains in request.path:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                    body = failure.body if failure.body is not None else self.error_body(failure.status)
                    return Response.json(body, failure.status, failure.headers)
        return None

    # dispatch --------------------------------------------------------------------------------------------------
    def _respond(self, request: RecordedRequest) -> Response:
        if self.keep_requests:
            with self._lock:
                self._requests.append(request)
        failure = self._take_failure(request)
        if failure is not None:
            return failure
        try:
            return self.handle(request)
        except Exception as exc:  # a bug in a fake must surface as a readable 500, not a dropped connection
            return Response.json({"error": {"message": f"fake crashed: {exc!r}"}}, 500)

    def handle(self, request: RecordedRequest) -> Response:
        return Response.json(self.error_body(404), 404)

    def reset(self) -> None:
        """Forget recorded requests, pending failures and all scripted or registered state."""
        with self._lock:
            self._requests.clear()
            self._failures.clear()
            self._reset_state()

    def _reset_state(self) -> None:
        """Subclasses clear their own state here (called under the lock)."""


def iter_chunks(text: str, size: int) -> Iterator[str]:
    """Split text into pieces of at most `size` characters (at least one piece)."""
    if not text:
        yield ""
        return
    for start in range(0, len(text), size):
        yield text[start : start + size]
