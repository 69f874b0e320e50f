"""Attribution and conversions: what Ingest pays for a Click-to-WhatsApp message (database round trips and time,
p50, for the attribution hook alone and for the whole Ingest step), and the Conversions API sender's throughput
against the fake Graph (events/s, one event per request vs. one request per SQS batch)."""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Sequence
from typing import Any

from clawgate.agent.ingest import ingest
from clawgate.channels.whatsapp_webhook import split_updates
from clawgate.core import ports
from clawgate.core.channels import Envelope, get_adapter
from clawgate.core.ports import QueueMessage
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeGraph
from clawgate.meta.attribution import on_message
from clawgate.meta.capi_sender import send_batch
from clawgate.settings import reset_settings
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import parse_tenant

from bench.database import bench_database_url
from bench.pgtrace import RoundTrips, traced_pool

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "200"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "500"))
SLUG = "bench_attr"
PHONE_NUMBER_ID = "700000000077"
AD_ID = "120226305854810726"
TENANT = {
    "slug": SLUG, "name": "Bench Attribution", "timezone": "Asia/Almaty", "budget": {"daily_usd": 1_000_000},
    "agents": [{"id": "assistant", "name": "Aliya", "model": "anthropic/claude-haiku-4-5"},
               {"id": "ads", "name": "Ads", "model": "anthropic/claude-haiku-4-5"}],
    "channels": {"whatsapp": [{"phone_number_id": PHONE_NUMBER_ID, "waba_id": "1", "agent": "assistant",
                               "access_token": "secret:bench/wa"}]},
    "meta": {"ad_account_id": "act_1", "page_id": "1530000077", "access_token": "secret:bench/meta"},
    "capi": {"dataset_id": "1234567890", "threshold": 3},
    "ads": {"account_daily_cap": 1_000_000, "agent": "ads"},  # scheduled ads turns never run as Aliya
}  # fmt: skip


class CollectingQueues:
    def __init__(self) -> None:
        self.sent: dict[str, list[QueueMessage]] = {}

    def send(self, queue: str, messages: Sequence[QueueMessage]) -> None:
        self.sent.setdefault(queue, []).extend(messages)


def ctwa_body(user: str, with_referral: bool) -> bytes:
    message: dict[str, Any] = {"from": user, "from_user_id": f"US.{user}", "id": f"wamid.{uuid.uuid4().hex}",
                               "timestamp": "1749416383", "type": "text", "text": {"body": "Hi"}}  # fmt: skip
    if with_referral:
        message["referral"] = {"source_url": "https://fb.me/3cr4Wqqkv", "source_id": AD_ID, "source_type": "ad",
                               "headline": "Chat with us", "ctwa_clid": f"clid-{user}"}  # fmt: skip
    contact = {"profile": {"name": "Sheena"}, "wa_id": user, "user_id": f"US.{user}"}
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_NUMBER_ID},
             "contacts": [contact], "messages": [message]}  # fmt: skip
    change = {"field": "messages", "value": value}
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}).encode()


def p50_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def hook_cost(trips: RoundTrips) -> None:
    """The attribution hook in its own transaction (Ingest runs it inside its transaction: subtract 2 for that)."""
    channel = get_adapter("whatsapp")
    for label, referral in (("ad-referral first message", True), ("follow-up message", False)):
        seconds, counts = [], []
        for i in range(MESSAGES):
            user = f"7701{'1' if referral else '2'}{i:06d}"
            [message] = channel.parse(Envelope.model_validate_json(split_updates(ctwa_body(user, referral))[0].body))
            if not referral:  # a follow-up: the dialog exists already
                first = channel.parse(Envelope.model_validate_json(split_updates(ctwa_body(user, True))[0].body))
                with tenant_tx(SLUG) as conn:
                    on_message(conn, SLUG, {}, first[0])
            trips.take()
            started = time.perf_counter()
            with tenant_tx(SLUG) as conn:
                on_message(conn, SLUG, {}, message)
            seconds.append(time.perf_counter() - started)
            counts.append(trips.take())
        print(f"  hook, {label:<26} p50 {p50_ms(seconds):5.2f} ms   round trips {statistics.median(counts):.0f}"
              " (incl. 2 for its own transaction)")  # fmt: skip


def ingest_cost(trips: RoundTrips) -> None:
    for label, referral in (("ad-referral first message", True), ("plain first message", False)):
        seconds, counts = [], []
        for i in range(MESSAGES):
            body = split_updates(ctwa_body(f"7703{int(referral)}{i:06d}", referral))[0].body
            trips.take()
            started = time.perf_counter()
            ingest([body])
            seconds.append(time.perf_counter() - started)
            counts.append(trips.take())
        print(f"  Ingest step, {label:<26} p50 {p50_ms(seconds):5.2f} ms   round trips {statistics.median(counts):.0f}"
              " (the whole step: registry lookup, dialog, lead, turn, session)")  # fmt: skip


def pending_events(count: int) -> list[tuple[str, str]]:
    """`count` level-1 events waiting to be sent, as the capi queue would carry them."""
    with tenant_tx(SLUG) as conn:
        rows = conn.execute(
            "WITH d AS (INSERT INTO wa_dialogs (phone_number_id, user_id, wa_id, ctwa_clid, ad_id)"
            " SELECT %s, 'US.bench' || g || %s, '7705' || lpad(g::text, 7, '0'), 'clid-' || g, %s"
            " FROM generate_series(1, %s) g RETURNING id)"
            " INSERT INTO capi_events_log (dialog_id, level, event_name, event_id, status)"
            " SELECT id, 1, 'LeadSubmitted', md5(random()::text || id), 'pending' FROM d RETURNING id, event_id",
            (PHONE_NUMBER_ID, uuid.uuid4().hex[:6], AD_ID, count),
        ).fetchall()
    return [(str(uuid.uuid4()), json.dumps({"tenant": SLUG, "log_id": i, "event_id": e})) for i, e in rows]


def sender_throughput(graph: FakeGraph) -> None:
    for batch_size in (1, 10, 100):
        records = pending_events(EVENTS)
        before = len(graph.requests_to("/events"))
        started = time.perf_counter()
        for start in range(0, len(records), batch_size):
            assert send_batch(records[start : start + batch_size]) == []
        elapsed = time.perf_counter() - started
        requests = len(graph.requests_to("/events")) - before
        with tenant_tx(SLUG) as conn:
            sent = conn.execute("SELECT count(*) FROM capi_events_log WHERE status = 'sent'").fetchone()
        print(f"  batches of {batch_size:>3}: {EVENTS / elapsed:7.0f} events/s  ({requests} requests to Graph,"
              f" {sent[0] if sent else 0} events sent so far)")  # fmt: skip


def main() -> None:
    bench_database_url()
    os.environ.update(CLAWGATE_SECRET_BENCH_WA="bench-wa-token", CLAWGATE_SECRET_BENCH_META="bench-meta-token")
    queues = CollectingQueues()
    with FakeGraph() as graph:
        os.environ["CLAWGATE_GRAPH_URL"] = graph.url
        reset_settings()
        ports.install(ports.Ports(queues=queues))
        apply_tenant(parse_tenant(TENANT))
        with tenant_tx(SLUG) as conn:
            conn.execute("INSERT INTO ad_creative_mapping (ad_id, adset_id) VALUES (%s, 'a') ON CONFLICT DO NOTHING",
                         (AD_ID,))  # fmt: skip
        print("== attribution: Ingest cost of a Click-to-WhatsApp message ==")
        with traced_pool() as trips:
            ingest_cost(trips)  # also warms imports, the pool and the plans
            hook_cost(trips)
        print(f"== Conversions API sender against the fake Graph ({EVENTS} events per run) ==")
        sender_throughput(graph)
        ports.install(ports.Ports())


if __name__ == "__main__":
    main()
