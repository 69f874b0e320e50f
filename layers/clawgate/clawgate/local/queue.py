"""An in-process queue with SQS FIFO semantics: messages of one group are delivered in order, one batch in flight
per group (as an EventBridge Pipe with REQUEST_RESPONSE holds the group); a deduplication id seen in the last five
minutes is dropped; a failed batch is retried with backoff and then dead-lettered, and the group moves on."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from clawgate.core.ports import QueueMessage
from clawgate.observability import logger

DEDUP_WINDOW_S = 300.0
Consumer = Callable[[list[QueueMessage]], Any]


@dataclass
class QueueStats:
    sent: int = 0
    deduplicated: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    dead_lettered: int = 0


@dataclass
class LocalQueue:
    name: str
    consumer: Consumer
    batch_size: int = 10
    max_receives: int = 3
    retry_delay_s: float = 0.05
    stats: QueueStats = field(default_factory=QueueStats)
    dead_letters: list[QueueMessage] = field(default_factory=list)
    _groups: dict[str, deque[QueueMessage]] = field(default_factory=dict)
    _busy: set[str] = field(default_factory=set)
    _seen: dict[str, float] = field(default_factory=dict)
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8, thread_name_prefix="queue"))

    def send(self, messages: Sequence[QueueMessage]) -> None:
        with self._lock:
            now = time.monotonic()
            self._seen = {k: t for k, t in self._seen.items() if now - t < DEDUP_WINDOW_S}
            for message in messages:
                key = message.dedup_id
                if key and key in self._seen:
                    self.stats.deduplicated += 1
                    continue
                if key:
                    self._seen[key] = now
                group = message.group_id or f"nogroup-{id(message)}"
                self._groups.setdefault(group, deque()).append(message)
                self.stats.sent += 1
                self._schedule(group)

    def _schedule(self, group: str) -> None:
        if group not in self._busy and self._groups.get(group):
            self._busy.add(group)
            self._pool.submit(self._drain, group)

    def _drain(self, group: str) -> None:
        while True:
            with self._lock:
                pending = self._groups.get(group)
                if not pending:
                    self._groups.pop(group, None)
                    self._busy.discard(group)
                    self._lock.notify_all()
                    return
                batch = [pending.popleft() for _ in range(min(self.batch_size, len(pending)))]
            self._deliver(batch)

    def _deliver(self, batch: list[QueueMessage]) -> None:
        for attempt in range(1, self.max_receives + 1):
            try:
                self.consumer(batch)
            except Exception:
                self.stats.failed_attempts += 1
                logger.exception("queue consumer failed", extra={"queue": self.name, "attempt": attempt})
                time.sleep(self.retry_delay_s * 2 ** (attempt - 1))
                continue
            self.stats.delivered += len(batch)
            return
        self.stats.dead_lettered += len(batch)
        self.dead_letters.extend(batch)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until nothing is queued or in flight (tests and shutdown use it)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._busy or any(self._groups.values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
        return True

    def depth(self) -> dict[str, int]:
        with self._lock:
            return {"queued": sum(len(q) for q in self._groups.values()), "in_flight_groups": len(self._busy)}

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class LocalQueues:
    """The queues of the local runtime by name; implements ports.QueueSender."""

    def __init__(self) -> None:
        self._queues: dict[str, LocalQueue] = {}

    def add(self, queue: LocalQueue) -> LocalQueue:
        self._queues[queue.name] = queue
        return queue

    def get(self, name: str) -> LocalQueue:
        return self._queues[name]

    def send(self, queue: str, messages: Sequence[QueueMessage]) -> None:
        if queue not in self._queues:
            raise LookupError(f"no local queue {queue!r}; known: {sorted(self._queues)}")
        self._queues[queue].send(messages)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        return all(q.wait_idle(timeout) for q in self._queues.values())

    def health(self) -> dict[str, Any]:
        return {
            name: {**q.depth(), "dead_lettered": q.stats.dead_lettered, "delivered": q.stats.delivered}
            for name, q in self._queues.items()
        }

    def close(self) -> None:
        for queue in self._queues.values():
            queue.close()
