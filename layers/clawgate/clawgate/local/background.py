"""The local runtime served from a background thread on a free port: for tests and benchmarks."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from clawgate.local.runtime import LocalRuntime
from clawgate.local.server import build_app


@dataclass
class RunningRuntime:
    runtime: LocalRuntime
    url: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_runtime() -> Iterator[RunningRuntime]:
    runtime = LocalRuntime(namespace=uuid.uuid4().hex[:8])  # its queues are its own
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(runtime), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the local runtime did not start")
        time.sleep(0.02)
    try:
        httpx.get(url + "/healthz", timeout=10).raise_for_status()
        yield RunningRuntime(runtime, url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        runtime.close()
