"""The single-host runtime's queues, kept in PostgreSQL with the semantics the code relies on in SQS:

- FIFO queues deliver a message group in order, one batch in flight per group (as an EventBridge Pipe with
  REQUEST_RESPONSE holds the group until the turn ends); standard queues deliver in any order.
- A deduplication id seen in the last five minutes is accepted and dropped.
- A received batch is invisible for the visibility timeout; success deletes it, failure makes it visible again after
  a backoff, and after `max_receives` receives it moves to the dead-letter table so its group moves on.
- A message is a row committed before the webhook answers 200: it survives a crash or `kill -9` of the runtime.

Receiving is one statement: the oldest visible message whose group has nothing older (so nothing in flight) is
locked with FOR UPDATE SKIP LOCKED, and it and the next messages of its group form the batch. Any number of consumer
threads and processes can receive at once; a commit sends NOTIFY so idle consumers wake at once instead of polling.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from psycopg import Connection
from psycopg.rows import dict_row, kwargs_row, scalar_row

from clawgate.core.ports import QueueMessage
from clawgate.db import registry_tx
from clawgate.db.tx import GATEWAY_ROLE, REGISTRY_SCHEMA, SET_SCOPE

CHANNEL = "clawgate_queue"
DEDUP_WINDOW = "5 minutes"
MAX_RECEIVES = 5  # the AWS queues' redrive policy (infra/constructs/queues.py)
VISIBILITY_TIMEOUT_S = 360.0  # longer than a turn may run, as in AWS

_SEND = f"""
WITH input AS (
    SELECT * FROM unnest(%(groups)b::text[], %(dedups)b::text[], %(bodies)b::text[]) WITH ORDINALITY
        AS t(group_id, dedup_id, body, n)
), first_of_id AS (
    SELECT DISTINCT ON (dedup_id) dedup_id, n FROM input WHERE dedup_id IS NOT NULL ORDER BY dedup_id, n
), fresh AS (
    INSERT INTO queue_deduplication AS d (queue, dedup_id)
    SELECT %(queue)s, dedup_id FROM first_of_id
    ON CONFLICT (queue, dedup_id) DO UPDATE SET sent_at = now()
        WHERE d.sent_at < now() - interval '{DEDUP_WINDOW}'
    RETURNING dedup_id
), sent AS (
    INSERT INTO queue_messages (queue, group_id, dedup_id, body)
    SELECT %(queue)s, i.group_id, i.dedup_id, i.body FROM input i
    WHERE i.dedup_id IS NULL OR i.n IN (SELECT f.n FROM first_of_id f JOIN fresh USING (dedup_id))
    ORDER BY i.n
    RETURNING 1
)
SELECT count(*) AS sent, pg_notify('{CHANNEL}', %(queue)s) FROM sent
"""

_RECEIVE_FIFO = """
WITH head AS (
    SELECT m.group_id FROM queue_messages m
    WHERE m.queue = %(queue)s AND m.visible_at <= now()
      AND NOT EXISTS (SELECT 1 FROM queue_messages o
                      WHERE o.queue = m.queue AND o.group_id = m.group_id AND o.id < m.id)
    ORDER BY m.id LIMIT 1
    FOR UPDATE SKIP LOCKED
), batch AS (
    SELECT o.id FROM queue_messages o JOIN head USING (group_id)
    WHERE o.queue = %(queue)s ORDER BY o.id LIMIT %(limit)s
    FOR UPDATE
)
UPDATE queue_messages q
SET visible_at = now() + make_interval(secs => %(visibility)s), receive_count = q.receive_count + 1,
    receipt = %(receipt)s, receiver = %(receiver)s
FROM batch WHERE q.id = batch.id
RETURNING q.id, q.group_id, q.dedup_id, q.body, q.receive_count
"""

_RECEIVE_STANDARD = """
WITH batch AS (
    SELECT id FROM queue_messages WHERE queue = %(queue)s AND visible_at <= now()
    ORDER BY id LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE queue_messages q
SET visible_at = now() + make_interval(secs => %(visibility)s), receive_count = q.receive_count + 1,
    receipt = %(receipt)s, receiver = %(receiver)s
FROM batch WHERE q.id = batch.id
RETURNING q.id, q.group_id, q.dedup_id, q.body, q.receive_count
"""

_DEAD_LETTER = """
WITH dead AS (
    DELETE FROM queue_messages WHERE id = ANY(%(ids)s) AND receipt = %(receipt)s AND receive_count >= %(max)s
    RETURNING id, queue, group_id, body, sent_at, receive_count
)
INSERT INTO queue_dead_letters (id, queue, group_id, body, sent_at, receive_count, last_error)
SELECT id, queue, group_id, body, sent_at, receive_count, %(error)s FROM dead
ON CONFLICT (id) DO NOTHING
"""

_RETRY = """
UPDATE queue_messages
SET visible_at = now() + make_interval(secs => %(delay)s), last_error = %(error)s, receiver = NULL
WHERE id = ANY(%(ids)s) AND receipt = %(receipt)s
"""


@contextmanager
def _registry(conn: Connection[Any] | None) -> Iterator[Connection[Any]]:
    """A registry transaction on the consumer's own connection, or on one from the process pool."""
    if conn is None:
        with registry_tx() as pooled:
            yield pooled
        return
    with conn.transaction():
        conn.execute(SET_SCOPE, (GATEWAY_ROLE, REGISTRY_SCHEMA))
        yield conn


@dataclass(frozen=True)
class Received:
    """One message as a consumer gets it: its id (SQS messageId) is stable across receives, the receipt is not."""

    id: int
    group_id: str | None
    dedup_id: str | None
    body: str
    receive_count: int
    receipt: uuid.UUID


@dataclass
class QueueStats:
    """What this process sent (the queue's contents are in the database; see PgQueue.depth)."""

    sent: int = 0
    deduplicated: int = 0


@dataclass
class PgQueue:
    """A queue by its name; `namespace` keeps apart the queues of runtimes that share a database (the tests')."""

    name: str
    fifo: bool = True
    batch_size: int = 10
    max_receives: int = MAX_RECEIVES
    visibility_timeout_s: float = VISIBILITY_TIMEOUT_S
    retry_delay_s: float = 0.2
    stats: QueueStats = field(default_factory=QueueStats)
    namespace: str = ""

    @property
    def key(self) -> str:
        """The queue's name in the tables and in notifications."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def send(self, messages: Sequence[QueueMessage]) -> None:
        """Committed when this returns (a webhook's 200 waits for it). Standard queues ignore group and deduplication
        ids, as SQS refuses them.

        Sending is a webhook's whole acknowledgement, so it costs one round trip: BEGIN, the INSERT and COMMIT go
        down a pipeline together, and the COMMIT is still synchronous (the server answers once the WAL is on disk).
        The arrays go in binary: their text form would escape every quote of a JSON body in Python."""
        if not messages:
            return
        groups = [(m.group_id or f"solo-{uuid.uuid4().hex}") if self.fifo else None for m in messages]
        dedups = [m.dedup_id[:128] if self.fifo and m.dedup_id else None for m in messages]
        params = {"queue": self.key, "groups": groups, "dedups": dedups, "bodies": [m.body for m in messages]}
        with registry_tx(pipeline=True) as conn:
            sending = conn.cursor(row_factory=dict_row).execute(_SEND, params)
        row = sending.fetchone()  # the result came with the COMMIT's
        sent = int(row["sent"]) if row else 0
        self.stats.sent += sent
        self.stats.deduplicated += len(messages) - sent

    def receive(self, receiver: str, limit: int | None = None, conn: Connection[Any] | None = None) -> list[Received]:
        receipt = uuid.uuid4()
        params = {
            "queue": self.key,
            "limit": limit or self.batch_size,
            "visibility": self.visibility_timeout_s,
            "receipt": receipt,
            "receiver": receiver,
        }
        with _registry(conn) as tx, tx.cursor(row_factory=kwargs_row(partial(Received, receipt=receipt))) as cursor:
            rows = cursor.execute(_RECEIVE_FIFO if self.fifo else _RECEIVE_STANDARD, params).fetchall()
        return sorted(rows, key=lambda m: m.id)

    def delete(self, batch: Sequence[Received], conn: Connection[Any] | None = None) -> None:
        """The consumer succeeded: the messages are gone (a stale receipt deletes nothing, as in SQS)."""
        if batch:
            with _registry(conn) as tx:
                tx.execute(
                    "DELETE FROM queue_messages WHERE id = ANY(%s) AND receipt = %s",
                    ([m.id for m in batch], batch[0].receipt),
                )

    def fail(self, batch: Sequence[Received], error: str, conn: Connection[Any] | None = None) -> int:
        """The consumer failed: retry after a backoff, or dead-letter what has been received max_receives times.
        Returns how many were dead-lettered."""
        if not batch:
            return 0
        ids, receipt = [m.id for m in batch], batch[0].receipt
        attempts = max(m.receive_count for m in batch)
        with _registry(conn) as tx:
            dead = tx.execute(
                _DEAD_LETTER, {"ids": ids, "receipt": receipt, "max": self.max_receives, "error": error[:2000]}
            ).rowcount
            delay = self.retry_delay_s * 2 ** (attempts - 1)
            tx.execute(_RETRY, {"ids": ids, "receipt": receipt, "delay": delay, "error": error[:2000]})
            tx.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self.key))
        return dead

    def depth(self) -> dict[str, int]:
        with registry_tx() as conn, conn.cursor(row_factory=dict_row) as cursor:
            row = cursor.execute(
                "SELECT count(*) FILTER (WHERE visible_at <= now()) AS queued,"
                " count(*) FILTER (WHERE visible_at > now()) AS in_flight,"
                " (SELECT count(*) FROM queue_dead_letters WHERE queue = %(q)s) AS dead_lettered"
                " FROM queue_messages WHERE queue = %(q)s",
                {"q": self.key},
            ).fetchone()
        assert row is not None
        return {name: int(value) for name, value in row.items()}

    def pending(self) -> int:
        """Messages waiting, in flight or waiting for a retry."""
        with registry_tx() as conn, conn.cursor(row_factory=scalar_row) as cursor:
            waiting = cursor.execute("SELECT count(*) FROM queue_messages WHERE queue = %s", (self.key,)).fetchone()
        return int(waiting or 0)

    def dead_letters(self) -> list[dict[str, Any]]:
        with registry_tx() as conn:
            rows = conn.execute(
                "SELECT id, group_id, body, receive_count, last_error FROM queue_dead_letters"
                " WHERE queue = %s ORDER BY id",
                (self.key,),
            ).fetchall()
        return [dict(zip(("id", "group_id", "body", "receive_count", "error"), r, strict=True)) for r in rows]

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until nothing is queued, in flight or waiting for a retry (tests and benchmarks use it)."""
        deadline = time.monotonic() + timeout
        while self.pending():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def forget_deduplication(self) -> None:
        """As if SQS's five-minute deduplication window had passed (tests of provider retries use it)."""
        with registry_tx() as conn:
            conn.execute("DELETE FROM queue_deduplication WHERE queue = %s", (self.key,))


def release(receivers: Sequence[str] | None = None) -> int:
    """Make visible again what the given receivers (all, when None) hold: they are gone, their receipts are void.
    The runtime calls it for a worker that died and, at start, for whatever a previous run held."""
    with registry_tx() as conn:
        if receivers is None:
            cursor = conn.execute(
                "UPDATE queue_messages SET visible_at = now(), receiver = NULL WHERE receiver IS NOT NULL"
            )
        else:
            cursor = conn.execute(
                "UPDATE queue_messages SET visible_at = now(), receiver = NULL WHERE receiver = ANY(%s)",
                (list(receivers),),
            )
        conn.execute("SELECT pg_notify(%s, '*')", (CHANNEL,))
        return cursor.rowcount


def expire_deduplication(conn: Connection[Any] | None = None) -> None:
    with _registry(conn) as tx:
        tx.execute(f"DELETE FROM queue_deduplication WHERE sent_at < now() - interval '{DEDUP_WINDOW}'")


class PgQueues:
    """The runtime's queues by name; implements ports.QueueSender."""

    def __init__(self, queues: Sequence[PgQueue]) -> None:
        self._queues = {queue.name: queue for queue in queues}

    def __iter__(self) -> Iterator[PgQueue]:
        return iter(self._queues.values())

    def get(self, name: str) -> PgQueue:
        return self._queues[name]

    def send(self, queue: str, messages: Sequence[QueueMessage]) -> None:
        if queue not in self._queues:
            raise LookupError(f"no local queue {queue!r}; known: {sorted(self._queues)}")
        self._queues[queue].send(messages)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Producers come before their consumers' queues (entrypoints.QUEUE_CONSUMERS), so one pass suffices."""
        deadline = time.monotonic() + timeout
        return all(q.wait_idle(max(deadline - time.monotonic(), 0.0)) for q in self._queues.values())

    def health(self) -> dict[str, dict[str, int]]:
        return {name: queue.depth() for name, queue in self._queues.items()}
