"""The one HTTP client the channel adapters share (connection reuse across calls of a warm Lambda).

httpx is imported here and only here, so the webhook functions, which never send, do not pay for it. URLs that carry
a bot token never reach a log: httpx's own request logging is kept at WARNING and our messages never quote a URL.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

TIMEOUT_S = 10.0
_client: httpx.Client | None = None
_lock = threading.Lock()


def client() -> httpx.Client:
    global _client
    with _lock:
        if _client is None:
            import httpx

            logging.getLogger("httpx").setLevel(logging.WARNING)
            logging.getLogger("httpcore").setLevel(logging.WARNING)
            _client = httpx.Client(timeout=httpx.Timeout(TIMEOUT_S, connect=5.0), follow_redirects=False)
        return _client


def close() -> None:
    global _client
    with _lock:
        if _client is not None:
            _client.close()
            _client = None
