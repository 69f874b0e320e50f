"""`@connections` for the local runtime: post to and close the live WebSockets of this process."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

CONNECTIONS_PATH = "/@connections"
CONNECTIONS_KEY_HEADER = "x-clawgate-connections-key"


class Socket(Protocol):
    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


@dataclass(frozen=True)
class _Live:
    socket: Socket
    loop: asyncio.AbstractEventLoop


class LocalConnections:
    """Implements ports.ConnectionPoster; handlers call it from worker threads, the sockets live on the event loop."""

    def __init__(self) -> None:
        self._live: dict[str, _Live] = {}
        self._lock = threading.Lock()

    def add(self, connection_id: str, socket: Socket, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            self._live[connection_id] = _Live(socket, loop)

    def remove(self, connection_id: str) -> None:
        with self._lock:
            self._live.pop(connection_id, None)

    def post(self, connection_id: str, data: str) -> bool:
        live = self._get(connection_id)
        if live is None:
            return False  # API Gateway answers 410 Gone
        try:
            asyncio.run_coroutine_threadsafe(live.socket.send_text(data), live.loop).result(timeout=10)
        except Exception:
            self.remove(connection_id)
            return False
        return True

    def delete(self, connection_id: str) -> None:
        live = self._get(connection_id)
        if live is not None:
            asyncio.run_coroutine_threadsafe(live.socket.close(1000), live.loop).result(timeout=10)
            self.remove(connection_id)

    def count(self) -> int:
        with self._lock:
            return len(self._live)

    def _get(self, connection_id: str) -> _Live | None:
        with self._lock:
            return self._live.get(connection_id)


class RemoteConnections:
    """Implements ports.ConnectionPoster for a worker process: the sockets live in the HTTP server, which serves
    `@connections` on loopback (as API Gateway's Management API does over HTTPS), behind a key shared at start."""

    def __init__(self, base_url: str, key: str) -> None:
        import httpx

        self._client = httpx.Client(base_url=base_url, headers={CONNECTIONS_KEY_HEADER: key}, timeout=10)

    def post(self, connection_id: str, data: str) -> bool:
        response = self._client.post(f"{CONNECTIONS_PATH}/{quote(connection_id, safe='')}", content=data.encode())
        if response.status_code == 410:
            return False
        response.raise_for_status()
        return True

    def delete(self, connection_id: str) -> None:
        response = self._client.delete(f"{CONNECTIONS_PATH}/{quote(connection_id, safe='')}")
        if response.status_code != 410:
            response.raise_for_status()

    def close(self) -> None:
        self._client.close()
