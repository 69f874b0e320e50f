"""`@connections` for the local runtime: post to and close the live WebSockets of this process."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Protocol


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
