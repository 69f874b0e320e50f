"""A day of an agency's inbox, compressed to about a minute, through the local runtime's public surface; the figures
an agency asks for, read back through the product's own metrics (`GET /metrics/conversations`, the Metrics tab's
`metrics.conversations`, and the inbox list), not recomputed here.

Forty customers (seeded, so every run plays the same day) write over WhatsApp (some from Click-to-WhatsApp ads, with
the ad's referral), Telegram and Messenger as signed webhooks; the fake model answers, qualifies bookings through
`update_dialog` and hands complaints to a person through `handoff`; a customer asking for a "manager"/"оператор" is
handed over by the tenant's keyword rule. An operator takes each hand-off after a scripted few seconds, answers
through `POST /conversations/{id}/messages` (retried once with the same Idempotency-Key) and gives it back. A few
write STOP. The ads' spend comes from the fake Graph's insights through the product's metrics sync."""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from clawgate.core.meta_webhooks import sign
from clawgate.local.background import RunningRuntime, running_runtime
from clawgate.local.demo import ad_referral, whatsapp_update
from clawgate.local.fakes import FakeAnthropic, FakeGraph, FakeTelegram
from clawgate.local.fakes.anthropic import Answer

from bench.database import bench_database_url

SLUG = "bench_inbox"
SEED = 15
CUSTOMERS = int(os.environ.get("BENCH_INBOX_CUSTOMERS", "40"))
DAY_SECONDS = float(os.environ.get("BENCH_INBOX_SECONDS", "45"))  # when the last customer starts writing
APP_SECRET, TELEGRAM_KEY, BOT_TOKEN = "bench-app-secret", "bench-telegram-key", "7000000015:AAbenchinbox"
OPERATOR_BOT, OPERATOR_CHAT = "7000000016:AAbenchoperator", 515151515  # the agency's own Telegram
PHONE_NUMBER_ID, WABA_ID, PAGE_ID, ACCOUNT = "700000000015", "102290129340398", "150000000015", "act_900000000015"
ADS = {  # ad -> (its ad set, spend today in the account's currency)
    "120215000000000001": ("23815000000000001", "42.50"),
    "120215000000000002": ("23815000000000001", "27.00"),
    "120215000000000003": ("23815000000000002", "35.75"),
}
DIRECTIONS = {"Implants": "23815000000000001", "Whitening": "23815000000000002"}  # direction -> its ad set
TENANT = {
    "slug": SLUG, "name": "Bench Inbox Day", "timezone": "UTC", "currency": "USD", "budget": {"daily_usd": 1_000_000},
    "agents": [{"id": "assistant", "name": "Aliya", "model": "anthropic/claude-haiku-4-5"},
               {"id": "director", "name": "Klod", "model": "anthropic/claude-sonnet-4-5"}],
    "channels": {
        "whatsapp": [{"phone_number_id": PHONE_NUMBER_ID, "waba_id": WABA_ID, "agent": "assistant",
                      "access_token": f"secret:{SLUG}/whatsapp"}],
        "telegram": [{"agent": "assistant", "bot_token": f"secret:{SLUG}/telegram"},
                     {"agent": "director", "bot_token": f"secret:{SLUG}/operator", "dm_policy": "allowlist",
                      "allow_from": [OPERATOR_CHAT], "operator": True}],
        "messenger": [{"page_id": PAGE_ID, "agent": "assistant", "access_token": f"secret:{SLUG}/page"}],
    },
    "meta": {"ad_account_id": ACCOUNT, "access_token": f"secret:{SLUG}/meta"},
    "ads": {"agent": "director", "account_daily_cap": 1_000_000},
    "handoff": {"keywords": ["manager", "оператор"]},
}  # fmt: skip
SCRIPTS = {  # what each kind of customer writes, one message per turn
    "question": ("Hi! What are your prices?", "Thanks, that helps"),
    "booking": ("Hello, I saw your ad", "Can I book a visit tomorrow at 10?"),
    "keyword": ("Hi there", "Can I talk to a manager please?", "Thank you!"),
    "complaint": ("Hello", "I have a complaint about my last visit", "Thanks"),
    "stop": ("Hi", "STOP"),
}
BOOKING, COMPLAINT = "book a visit", "complaint"


def respond(body: dict[str, Any]) -> Answer:
    """The fake model: qualifies a booking, hands a complaint over, answers everything else."""
    last: dict[str, Any] = next((m for m in reversed(body.get("messages") or []) if m.get("role") == "user"), {})
    content = last.get("content")
    blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
    text = content if isinstance(content, str) else " ".join(str(b.get("text", "")) for b in blocks)
    tools = {str(t.get("name")) for t in body.get("tools") or [] if isinstance(t, dict)}
    if any(b.get("type") == "tool_result" for b in blocks):
        return Answer.text("Done: a colleague will follow up if needed.")
    if BOOKING in text and "update_dialog" in tools:
        return Answer.tool_use([("update_dialog", {"qualification": "scheduled", "summary": "books a visit"})])
    if COMPLAINT in text and "handoff" in tools:
        return Answer.tool_use([("handoff", {"reason": "a complaint about a visit"})])
    return Answer.text(f"Thanks for writing! Our clinic is open 9-19. ({len(text)})")


@dataclass
class Customer:
    n: int
    channel: str  # whatsapp | telegram | messenger
    kind: str  # a key of SCRIPTS
    start: float  # seconds into the day
    pauses: list[float]  # before each message after the first
    operator_delay: float  # how long the operator takes to answer a hand-off
    ad_id: str | None = None
    peer: str = field(init=False)

    def __post_init__(self) -> None:
        self.peer = {"whatsapp": f"7701{self.n:07d}", "telegram": str(880_000_000 + self.n),
                     "messenger": f"2400000{self.n:010d}"}[self.channel]  # fmt: skip


def day_script(count: int = CUSTOMERS, seed: int = SEED) -> list[Customer]:
    """The same day every run: mostly WhatsApp (a third of it from the ads), then Telegram and Messenger."""
    rng = random.Random(seed)
    customers = []
    for n in range(count):
        channel = rng.choices(["whatsapp", "telegram", "messenger"], weights=[7, 2, 1])[0]
        from_ad = channel == "whatsapp" and rng.random() < 0.45
        kinds = ["question", "booking", "keyword", "complaint", "stop"]
        weights = [3, 5, 1, 1, 1] if from_ad else [6, 0, 2, 1, 1]
        kind = rng.choices(kinds, weights=weights)[0]
        if kind == "complaint" and channel != "whatsapp":
            kind = "keyword"  # the model's hand-off, scripted for WhatsApp; elsewhere the customer asks for one
        customers.append(Customer(
            n=n, channel=channel, kind=kind, start=round(rng.uniform(0, DAY_SECONDS), 2),
            pauses=[round(rng.uniform(1.5, 3.5), 2) for _ in SCRIPTS[kind]],
            operator_delay=round(rng.uniform(2.0, 6.0), 2), ad_id=rng.choice(sorted(ADS)) if from_ad else None,
        ))  # fmt: skip
    return customers


class Day:
    """Posts the customers' webhooks and plays the operator, over HTTP only."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.api = httpx.Client(base_url=f"{url}/api/v1/tenants/{SLUG}",
                                headers={"authorization": f"Bearer {token}"}, timeout=30)  # fmt: skip
        self.webhooks = httpx.Client(base_url=url, timeout=30)
        self.failures: list[str] = []
        self.retried_replies = 0

    def write(self, customer: Customer, text: str, first: bool) -> None:
        if customer.channel == "whatsapp":
            referral = ad_referral(customer.ad_id) if first and customer.ad_id else None
            self._signed("/webhooks/whatsapp", whatsapp_update(PHONE_NUMBER_ID, customer.peer, text, referral))
        elif customer.channel == "messenger":
            now = int(time.time() * 1000)
            event = {"sender": {"id": customer.peer}, "recipient": {"id": PAGE_ID}, "timestamp": now,
                     "message": {"mid": f"m_{uuid.uuid4().hex}", "text": text}}  # fmt: skip
            entry = {"id": PAGE_ID, "time": now, "messaging": [event]}
            self._signed("/webhooks/meta", json.dumps({"object": "page", "entry": [entry]}).encode())
        else:
            self._telegram(customer, text)

    def _signed(self, path: str, body: bytes) -> None:
        headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, APP_SECRET)}
        self._check(path, self.webhooks.post(path, content=body, headers=headers))

    def _telegram(self, customer: Customer, text: str) -> None:
        from clawgate.channels.telegram_webhook import webhook_secret

        chat = int(customer.peer)
        message = {"message_id": int(time.time() * 1000) % 10**9, "date": int(time.time()), "text": text,
                   "from": {"id": chat, "is_bot": False, "first_name": f"Guest {customer.n}"},
                   "chat": {"id": chat, "type": "private", "first_name": f"Guest {customer.n}"}}  # fmt: skip
        update = {"update_id": time.time_ns() % 10**12, "message": message}
        account = f"{SLUG}/assistant"
        headers = {"x-telegram-bot-api-secret-token": webhook_secret(account), "content-type": "application/json"}
        path = f"/webhooks/telegram/{account}"
        self._check(path, self.webhooks.post(path, content=json.dumps(update).encode(), headers=headers))

    def _check(self, what: str, response: httpx.Response) -> None:
        if response.status_code >= 300:
            self.failures.append(f"{what}: {response.status_code} {response.text[:200]}")

    def conversations(self, **filters: str) -> list[dict[str, Any]]:
        """Every conversation through the inbox list (cursor pagination)."""
        items: list[dict[str, Any]] = []
        params: dict[str, str] = {"limit": "100", **filters}
        while True:
            page = self.api.get("/conversations", params=params).json()
            items += page["items"]
            if not page.get("next_cursor"):
                return items
            params["cursor"] = page["next_cursor"]

    def handed_over(self, customer: Customer, timeout: float = 30) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in self.conversations(mode="human", channel=customer.channel):
                if customer.peer in (item["peer_id"], item["wa_id"]):
                    return int(item["id"])
            time.sleep(0.25)
        self.failures.append(f"customer {customer.n}: no hand-off seen in {timeout:.0f} s")
        return None

    def operator_answers(self, customer: Customer) -> None:
        conversation = self.handed_over(customer)
        if conversation is None:
            return
        time.sleep(customer.operator_delay)  # reading the transcript, typing
        reply = {"text": f"Hi, this is Anna from the clinic. Sorry for the wait! ({customer.n})", "author": "Anna"}
        key = {"idempotency-key": f"day-{customer.n}"}
        for attempt in range(2):  # the second is a client retry: it must send nothing more
            self._check("operator reply", self.api.post(f"/conversations/{conversation}/messages", json=reply,
                                                        headers=key))  # fmt: skip
            self.retried_replies += attempt
        self._check("give back", self.api.post(f"/conversations/{conversation}/mode", json={"mode": "bot"}))

    def play(self, customer: Customer, started: float) -> None:
        time.sleep(max(0.0, started + customer.start - time.monotonic()))
        for i, text in enumerate(SCRIPTS[customer.kind]):
            if i:
                time.sleep(customer.pauses[i])
            self.write(customer, text, first=i == 0)
            if (customer.kind, i) in (("keyword", 1), ("complaint", 1)):
                self.operator_answers(customer)


def seed_ads(graph: FakeGraph) -> None:
    """Today's spend per ad in the fake Graph, then the product's metrics sync stores it; ad sets in directions."""
    from clawgate.db import tenant_tx
    from clawgate.jobs.metrics import sync_metrics
    from clawgate.meta.marketing.data import directions

    today = date.today().isoformat()
    rows = [{"date_start": today, "date_stop": today, "campaign_id": "c15", "adset_id": adset, "ad_id": ad,
             "ad_name": f"Ad {ad[-1]}", "impressions": "5000", "clicks": "120", "spend": spend,
             "optimization_goal": "CONVERSATIONS"} for ad, (adset, spend) in ADS.items()]  # fmt: skip
    graph.add_insights(ACCOUNT, rows, level="ad")
    graph.add_object(ACCOUNT, "adaccount", name="Bench", currency="USD", timezone_name="UTC", account_status=1)
    sync_metrics(SLUG, date.today(), date.today())
    with tenant_tx(SLUG) as conn:  # what the ads agent's `ads_save_direction` tool stores
        for name, adset in DIRECTIONS.items():
            directions.attach_adset(conn, directions.save(conn, name, None, None, None), adset)


def play_day(running: RunningRuntime, token: str, customers: list[Customer]) -> Day:
    day = Day(running.url, token)
    started = time.monotonic()
    threads = [threading.Thread(target=day.play, args=(c, started), daemon=True) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not running.runtime.queues.wait_idle(120):
        day.failures.append("the queues did not drain in 120 s")
    return day


def report(day: Day, customers: list[Customer], fakes: tuple[FakeGraph, FakeTelegram], wall: float) -> None:
    numbers = day.api.get("/metrics/conversations", params={"days": 1}).json()
    items = day.conversations()
    by_channel = {ch: sum(1 for i in items if i["channel"] == ch) for ch in ("whatsapp", "telegram", "messenger")}
    graph, telegram = fakes
    operator_sends = sum(1 for b in graph.sent_whatsapp() if "this is Anna" in str(b))
    wa_handoffs = sum(1 for c in customers if c.channel == "whatsapp" and c.kind in ("keyword", "complaint"))
    print(f"== a day of an agency's inbox, compressed: {len(customers)} customers over {DAY_SECONDS:.0f} s "
          f"(seed {SEED}); figures from GET /metrics/conversations and the inbox list ==")  # fmt: skip
    print("conversations by channel      " + "   ".join(f"{ch} {n}" for ch, n in by_channel.items()))
    print("  (scripted: " + ", ".join(f"{k} {sum(1 for c in customers if c.kind == k)}" for k in SCRIPTS)
          + f"; {sum(1 for c in customers if c.ad_id)} from ads)")  # fmt: skip
    for who, key in (("bot", "first_response_bot"), ("person", "first_response_human")):
        rt = numbers[key]
        print(f"first response, {who:<6}        p50 {rt['median_seconds']} s   p95 {rt['p95_seconds']} s   average"
              f" {rt['average_seconds']} s   ({rt['count']} conversations)")  # fmt: skip
    print("  real seconds on a compressed day (the model answers at once; the operator waits 2-6 s by script)")
    print(f"resolved without a person     {numbers['resolved_without_human']} of {numbers['conversations']}"
          f" ({(numbers['resolved_share'] or 0) * 100:.0f}%)")  # fmt: skip
    print(
        f"hand-offs                     {sum(d['count'] for d in numbers['handoffs_per_day'])}"
        f"   (operator told on Telegram: {len(telegram.sent_messages(OPERATOR_CHAT))})"
    )
    print(f"  each operator reply posted twice with one Idempotency-Key ({day.retried_replies} retries): WhatsApp"
          f" operator replies at the fake Graph {operator_sends} for {wa_handoffs} WhatsApp hand-offs")  # fmt: skip
    print(f"opt-outs                      {sum(1 for i in items if i['opted_out'])}")
    currency = numbers["currency"]
    for by in ("ad", "direction"):
        print(f"leads and cost per lead by {by} ({currency}):")
        for row in numbers["leads_by"][by]:
            cpl = "-" if row["cost_per_lead"] is None else f"{row['cost_per_lead']:.2f}"
            cpql = "-" if row["cost_per_qualified_lead"] is None else f"{row['cost_per_qualified_lead']:.2f}"
            print(
                f"  {row['name'] or row['key'] or '(unmapped)':<22} spend {row['spend']:>7.2f}   leads"
                f" {row['leads']:>2}   qualified {row['qualified']:>2}   per lead {cpl:>6}   per qualified {cpql:>6}"
            )
    print(f"wall time of the whole script {wall:.1f} s")
    for failure in day.failures:
        print(f"  ! {failure}")


def main() -> None:
    from clawgate.observability import logger
    from clawgate.settings import reset_settings
    from clawgate.tenancy.apply import apply_tenant
    from clawgate.tenancy.model import parse_tenant
    from clawgate.tenancy.tokens import create_token

    wall = time.perf_counter()
    logger.setLevel("WARNING")  # a day's worth of INFO lines would bury the figures
    bench_database_url()
    customers = day_script()
    with FakeAnthropic() as model, FakeGraph() as graph, FakeTelegram() as telegram:
        model.responder, model.keep_requests = respond, False
        secret = f"CLAWGATE_SECRET_{SLUG.upper()}_"
        os.environ.update({
            "ANTHROPIC_API_KEY": "bench", "ANTHROPIC_BASE_URL": model.url, "CLAWGATE_GRAPH_URL": graph.url,
            "CLAWGATE_TELEGRAM_API_URL": telegram.url, "CLAWGATE_META_APP_SECRET": APP_SECRET,
            "CLAWGATE_TELEGRAM_WEBHOOK_KEY": TELEGRAM_KEY, f"{secret}WHATSAPP": "EAAG-bench-wa",
            f"{secret}TELEGRAM": BOT_TOKEN, f"{secret}OPERATOR": OPERATOR_BOT,
            f"{secret}PAGE": "EAAG-bench-page", f"{secret}META": "EAAG-bench-meta",
        })  # fmt: skip
        reset_settings()
        apply_tenant(parse_tenant(TENANT))
        seed_ads(graph)
        with running_runtime() as running:
            day = play_day(running, create_token(SLUG), customers)
            report(day, customers, (graph, telegram), time.perf_counter() - wall)


if __name__ == "__main__":
    main()
