"""A small synchronous client of the control plane (tests, benchmarks, scripts; not used by any Lambda): request /
response by id, events kept in arrival order, chunk frames split and joined both ways. Needs `websockets`."""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

from clawgate.core import protocol


class ControlClient:
    def __init__(self, url: str, *, source_address: str | None = None, timeout: float = 30.0) -> None:
        from websockets.sync.client import connect

        parts = urlsplit(url)
        sock = None
        if source_address:  # e.g. 127.0.0.7: failures are counted per source address
            sock = socket.create_connection((parts.hostname, parts.port or 80), timeout, (source_address, 0))
        self.ws = connect(url, sock=sock, open_timeout=timeout, max_size=None)
        self.timeout = timeout
        self.events: deque[dict[str, Any]] = deque()
        self._ids = itertools.count(1)
        self._pieces: dict[str, dict[int, str]] = {}
        self.chunks_received = 0

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.ws.close()

    def send_raw(self, text: str) -> None:
        self.ws.send(text)

    def send(self, frame: dict[str, Any]) -> None:
        for piece in protocol.split_frame(json.dumps(frame)):
            self.ws.send(piece)

    def receive(self, timeout: float | None = None) -> dict[str, Any]:
        """The next whole frame (chunk frames joined)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            frame: dict[str, Any] = json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.001)))
            if frame.get("type") != "chunk":
                return frame
            self.chunks_received += 1
            pieces = self._pieces.setdefault(frame["id"], {})
            pieces[int(frame["index"])] = frame["data"]
            if len(pieces) == int(frame["count"]):
                del self._pieces[frame["id"]]
                whole: dict[str, Any] = json.loads("".join(pieces[i] for i in range(len(pieces))))
                return whole

    def request(
        self, method: str, params: dict[str, Any] | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a request; return its response frame (events that come first are kept in `events`)."""
        request_id = str(next(self._ids))
        self.send({"type": "req", "id": request_id, "method": method, "params": params or {}})
        return self.response(request_id, timeout)

    def response(self, request_id: str, timeout: float | None = None) -> dict[str, Any]:
        while True:
            frame = self.receive(timeout)
            if frame.get("type") == "res" and frame.get("id") == request_id:
                return frame
            if frame.get("type") == "event":
                self.events.append(frame)

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """The payload of a successful response; raises ProtocolError on an error frame."""
        answer = self.request(method, params)
        if not answer["ok"]:
            raise protocol.ProtocolError(answer["error"]["code"], answer["error"]["message"])
        return answer.get("payload")

    def connect(self, tenant: str, token: str, device: str, name: str | None = None) -> dict[str, Any]:
        params = {"tenant": tenant, "token": token, "device": device, **({"name": name} if name else {})}
        return self.request("connect", params)

    def events_until(self, name: str, timeout: float | None = None) -> list[dict[str, Any]]:
        """Every event up to and including the next one called `name`."""
        seen: list[dict[str, Any]] = []
        while True:
            frame = self.events.popleft() if self.events else self.receive(timeout)
            if frame.get("type") == "event":
                seen.append(frame)
                if frame["event"] == name:
                    return seen

    def event(self, name: str, timeout: float | None = None) -> dict[str, Any]:
        return self.events_until(name, timeout)[-1]
