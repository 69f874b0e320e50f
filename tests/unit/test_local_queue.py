"""The local queue keeps SQS FIFO semantics: order within a group, one batch in flight per group, deduplication,
retries then a dead letter — and other groups are not held up by a slow one."""

from __future__ import annotations

import threading
import time

from clawgate.core.ports import QueueMessage
from clawgate.local.queue import LocalQueue


def test_order_is_kept_per_group_and_one_batch_is_in_flight_per_group() -> None:
    seen: list[str] = []
    in_flight: dict[str, int] = {}
    overlaps: list[str] = []
    lock = threading.Lock()

    def consume(batch: list[QueueMessage]) -> None:
        group = batch[0].group_id or ""
        with lock:
            in_flight[group] = in_flight.get(group, 0) + 1
            if in_flight[group] > 1:
                overlaps.append(group)
        time.sleep(0.002)
        with lock:
            seen.extend(m.body for m in batch)
            in_flight[group] -= 1

    queue = LocalQueue("q", consume, batch_size=3)
    for i in range(50):
        queue.send([QueueMessage(f"g{i % 10}:{i}", group_id=f"g{i % 10}", dedup_id=str(i))])
    assert queue.wait_idle(30)
    assert overlaps == []
    for group in range(10):
        bodies = [b for b in seen if b.startswith(f"g{group}:")]
        assert bodies == [f"g{group}:{i}" for i in range(group, 50, 10)]
    queue.close()


def test_a_deduplication_id_is_delivered_once() -> None:
    delivered: list[str] = []
    queue = LocalQueue("q", lambda batch: delivered.extend(m.body for m in batch))
    for _ in range(3):
        queue.send([QueueMessage("hello", group_id="g", dedup_id="wamid.1")])
    assert queue.wait_idle(10)
    assert delivered == ["hello"] and queue.stats.deduplicated == 2
    queue.close()


def test_a_failing_batch_is_retried_then_dead_lettered_and_the_group_moves_on() -> None:
    attempts: list[str] = []

    def consume(batch: list[QueueMessage]) -> None:
        attempts.append(batch[0].body)
        if batch[0].body == "poison":
            raise RuntimeError("cannot process")

    queue = LocalQueue("q", consume, batch_size=1, max_receives=3, retry_delay_s=0.001)
    queue.send([QueueMessage("poison", group_id="g"), QueueMessage("next", group_id="g")])
    assert queue.wait_idle(10)
    assert attempts == ["poison", "poison", "poison", "next"]
    assert [m.body for m in queue.dead_letters] == ["poison"]
    queue.close()


def test_a_slow_group_does_not_hold_up_another() -> None:
    release = threading.Event()
    fast_done = threading.Event()

    def consume(batch: list[QueueMessage]) -> None:
        if batch[0].group_id == "slow":
            release.wait(10)
        else:
            fast_done.set()

    queue = LocalQueue("q", consume)
    queue.send([QueueMessage("a", group_id="slow"), QueueMessage("b", group_id="fast")])
    assert fast_done.wait(10)
    release.set()
    assert queue.wait_idle(10)
    queue.close()
