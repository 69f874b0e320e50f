"""The local queues keep SQS FIFO semantics in PostgreSQL: order within a group and one batch in flight per group
across consumers, deduplication, retries then a dead letter without blocking the group, partial batch failures,
and messages held by a consumer that died are released."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from clawgate.core.ports import QueueMessage
from clawgate.local.consumers import Consumer, Consumers, Target
from clawgate.local.queue import PgQueue, Received, release


@pytest.fixture
def queue(database: str) -> PgQueue:
    return PgQueue(f"test-{uuid.uuid4().hex[:8]}", retry_delay_s=0.01)


@pytest.fixture
def consume(queue: PgQueue) -> Iterator[Callable[..., Consumers]]:
    started: list[Consumers] = []

    def start(target: Target, threads: int = 1) -> Consumers:
        consumers = Consumers([Consumer(queue, target, threads)]).start()
        started.append(consumers)
        return consumers

    yield start
    for consumers in started:
        consumers.stop(timeout=10)


def test_order_is_kept_per_group_and_one_batch_is_in_flight_per_group_across_consumers(
    queue: PgQueue, consume: Callable[..., Consumers]
) -> None:
    seen: list[str] = []
    in_flight: dict[str, int] = {}
    overlaps: list[str] = []
    lock = threading.Lock()

    def target(batch: list[Received]) -> set[int]:
        group = batch[0].group_id or ""
        assert {m.group_id for m in batch} == {group}
        with lock:
            in_flight[group] = in_flight.get(group, 0) + 1
            if in_flight[group] > 1:
                overlaps.append(group)
        time.sleep(0.003)
        with lock:
            seen.extend(m.body for m in batch)
            in_flight[group] -= 1
        return set()

    queue.batch_size = 3
    for _ in range(2):  # two consumers with their own receiver ids, as two worker processes have
        consume(target, threads=3)
    for i in range(60):
        queue.send([QueueMessage(f"g{i % 6}:{i}", group_id=f"g{i % 6}", dedup_id=str(i))])
    assert queue.wait_idle(30)
    assert overlaps == []
    for group in range(6):
        assert [b for b in seen if b.startswith(f"g{group}:")] == [f"g{group}:{i}" for i in range(group, 60, 6)]


def test_a_deduplication_id_is_delivered_once(queue: PgQueue, consume: Callable[..., Consumers]) -> None:
    delivered: list[str] = []
    consume(lambda batch: delivered.extend(m.body for m in batch) or set())
    for _ in range(3):
        queue.send([QueueMessage("hello", group_id="g", dedup_id="wamid.1")])
    queue.send([QueueMessage("twice", group_id="g", dedup_id="wamid.2"), QueueMessage("x", "g", "wamid.2")])
    assert queue.wait_idle(10)
    assert delivered == ["hello", "twice"]
    assert (queue.stats.sent, queue.stats.deduplicated) == (2, 3)


def test_a_poisoned_message_is_dead_lettered_and_its_group_moves_on(
    queue: PgQueue, consume: Callable[..., Consumers]
) -> None:
    attempts: list[str] = []

    def target(batch: list[Received]) -> set[int]:
        attempts.extend(m.body for m in batch)
        if any(m.body == "poison" for m in batch):
            raise ValueError("cannot digest")
        return set()

    queue.batch_size = 1
    consume(target)
    queue.send([QueueMessage("poison", group_id="g"), QueueMessage("next", group_id="g")])
    assert queue.wait_idle(10)
    assert attempts == ["poison"] * queue.max_receives + ["next"]
    [dead] = queue.dead_letters()
    assert (dead["body"], dead["receive_count"], dead["error"]) == ("poison", 5, "ValueError: cannot digest")
    assert queue.depth() == {"queued": 0, "in_flight": 0, "dead_lettered": 1}


def test_only_the_failed_items_of_a_batch_are_retried(queue: PgQueue, consume: Callable[..., Consumers]) -> None:
    queue.fifo = False
    attempts: list[str] = []
    failed_once: set[str] = set()

    def target(batch: list[Received]) -> set[int]:
        attempts.extend(m.body for m in batch)
        bad = {m.id for m in batch if m.body == "flaky" and m.body not in failed_once}
        failed_once.update(m.body for m in batch if m.id in bad)
        return bad

    queue.send([QueueMessage("ok"), QueueMessage("flaky")])
    consume(target)
    assert queue.wait_idle(10)
    assert sorted(attempts) == ["flaky", "flaky", "ok"]


def test_a_slow_group_does_not_hold_up_another(queue: PgQueue, consume: Callable[..., Consumers]) -> None:
    unblock, fast_done = threading.Event(), threading.Event()

    def target(batch: list[Received]) -> set[int]:
        if batch[0].group_id == "slow":
            unblock.wait(10)
        else:
            fast_done.set()
        return set()

    consume(target, threads=2)
    queue.send([QueueMessage("a", group_id="slow"), QueueMessage("b", group_id="fast")])
    assert fast_done.wait(10)
    unblock.set()
    assert queue.wait_idle(10)


def test_what_a_dead_receiver_held_is_delivered_again(queue: PgQueue, consume: Callable[..., Consumers]) -> None:
    queue.send([QueueMessage("held", group_id="g"), QueueMessage("after", group_id="g")])
    [held] = queue.receive("worker-that-dies", limit=1)  # received, then the process is killed
    assert queue.receive("another") == []  # the group is held, as long as the visibility timeout
    assert release(["worker-that-dies"]) == 1
    delivered: list[tuple[str, int]] = []
    consume(lambda batch: delivered.extend((m.body, m.receive_count) for m in batch) or set())
    assert queue.wait_idle(10)
    assert delivered == [("held", 2), ("after", 1)] and held.id
