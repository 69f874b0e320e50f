"""Queue consumers: threads that receive batches from the PostgreSQL queues and hand them to a target (a state
machine or a Lambda handler), then delete them or report their failure. They sleep on LISTEN/NOTIFY, so a message
is picked up as soon as its sender commits; a one-second timeout catches retries whose backoff has passed.

Targets answer the set of message ids that failed (a Lambda's `batchItemFailures`); an exception fails the batch."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from clawgate.db.logins import login_url
from clawgate.local.queue import CHANNEL, PgQueue, Received, expire_deduplication
from clawgate.observability import logger

Target = Callable[[list[Received]], set[int]]
IDLE_WAIT_S = 1.0


def receiver_id() -> str:
    """Names this process's receives, so what it holds can be released if it dies."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Wakeup:
    """One LISTEN connection per process; wakes whoever watches the key named in each notification (a queue's
    consumers, a caller waiting on a run). Every process hears every notification, so only the keys watched here
    are counted: `version` starts watching a key, `forget` stops (a run's key is watched only while it is awaited).
    A '*' (anything may have changed: a reconnection, released receipts) counts for every key but those watched
    `exact`ly, whose count must mean that their own notification came."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._versions: dict[str, int] = {}
        self._exact: set[str] = set()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="queue-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def version(self, queue: str, *, exact: bool = False) -> int:
        with self._changed:
            if exact:
                self._exact.add(queue)
            return self._versions.setdefault(queue, 0)

    def forget(self, key: str) -> None:
        with self._changed:
            self._versions.pop(key, None)
            self._exact.discard(key)

    def watched(self) -> frozenset[str]:
        with self._changed:
            return frozenset(self._versions)

    def wait(self, queue: str, seen: int, timeout: float) -> None:
        with self._changed:
            self._changed.wait_for(
                lambda: self._versions.get(queue, 0) != seen or self._stopping.is_set(), timeout=timeout
            )

    def poke(self, queue: str) -> None:
        with self._changed:
            if queue == "*":
                names = [name for name in self._versions if name not in self._exact]
            else:
                names = [queue] if queue in self._versions else []
            for name in names:
                self._versions[name] += 1
            self._changed.notify_all()

    def stop(self) -> None:
        self._stopping.set()
        self.poke("*")

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(login_url("app"), autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.poke("*")  # anything sent while we were not listening
                    while not self._stopping.is_set():
                        for notify in conn.notifies(timeout=IDLE_WAIT_S):
                            self.poke(notify.payload)
            except psycopg.OperationalError:
                logger.warning("queue listener lost its connection; reconnecting")
                self._stopping.wait(IDLE_WAIT_S)


@dataclass
class Consumer:
    queue: PgQueue
    target: Target
    threads: int = 1


class Consumers:
    """Runs each consumer's threads until stop(), which lets batches in flight finish."""

    def __init__(self, consumers: Iterable[Consumer], receiver: str | None = None) -> None:
        self.receiver = receiver or receiver_id()
        self._consumers = list(consumers)
        self._wakeup = Wakeup()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def consumer(self, queue: str) -> Consumer:
        return next(c for c in self._consumers if c.queue.name == queue)

    def start(self) -> Consumers:
        self._wakeup.start()
        for consumer in self._consumers:
            name = consumer.queue.name
            self._threads += [
                threading.Thread(target=self._loop, args=(consumer,), name=f"{name}-{n}", daemon=True)
                for n in range(consumer.threads)
            ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 330.0) -> None:
        """Receive nothing more; wait for the batches in flight (a turn runs up to five minutes)."""
        self._stopping.set()
        self._wakeup.stop()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self, consumer: Consumer) -> None:
        """Receives on a connection of its own (like an SQS long poll), so consumers never wait on the pool that
        the handlers use, and an idle process still holds no pooled connection."""
        while not self._stopping.is_set():
            try:
                with psycopg.connect(login_url("app"), autocommit=True, prepare_threshold=None) as conn:
                    self._consume(consumer, conn)
            except psycopg.OperationalError:
                logger.warning("queue consumer lost its connection; reconnecting", extra={"queue": consumer.queue.name})
                self._stopping.wait(IDLE_WAIT_S)

    def _consume(self, consumer: Consumer, conn: psycopg.Connection[Any]) -> None:
        queue, idle_rounds = consumer.queue, 0
        while not self._stopping.is_set():
            seen = self._wakeup.version(queue.key)
            batch = queue.receive(self.receiver, conn=conn)
            if not batch:
                idle_rounds += 1
                if idle_rounds % 60 == 0:
                    expire_deduplication(conn)
                self._wakeup.wait(queue.key, seen, IDLE_WAIT_S)
                continue
            self._deliver(consumer, batch, conn)

    def _deliver(self, consumer: Consumer, batch: list[Received], conn: psycopg.Connection[Any]) -> None:
        queue = consumer.queue
        try:
            failed_ids = consumer.target(batch)
            error = "reported as a batch item failure"
        except Exception as exc:
            logger.exception("queue consumer failed", extra={"queue": queue.name, "receives": batch[0].receive_count})
            failed_ids, error = {m.id for m in batch}, f"{type(exc).__name__}: {exc}"
        failed = [m for m in batch if m.id in failed_ids]
        queue.delete([m for m in batch if m.id not in failed_ids], conn)
        if failed and queue.fail(failed, error, conn):
            logger.error("dead-lettered", extra={"queue": queue.name, "ids": [m.id for m in failed]})
