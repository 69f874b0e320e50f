"""Webhook handling time: a one-message WhatsApp POST and a Telegram update, in process (p50 over 1,000 calls, the
queue a no-op) and over HTTP against the local runtime (p50/p95 of 200 sequential posts, the inbound queue's
consumer a no-op so the figure is the webhook's own)."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import socket
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

CALLS = 1_000
POSTS = 200
APP_SECRET = "bench-app-secret"
TELEGRAM_KEY = "bench-telegram-key"
TELEGRAM_PATH = "/webhooks/telegram/acme/director"


class NullQueues:
    def send(self, queue: str, messages: Sequence[Any]) -> None:
        return None


def _whatsapp_body(i: int) -> bytes:
    message = {"from": "16505551234", "from_user_id": "US.13491208655302741918", "id": f"wamid.BENCH{i}",
               "timestamp": "1749416383", "type": "text", "text": {"body": "Is the clinic open tomorrow?"}}  # fmt: skip
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
             "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "16505551234",
                           "user_id": "US.13491208655302741918"}], "messages": [message]}  # fmt: skip
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


def _telegram_body(i: int) -> bytes:
    message = {"message_id": i, "from": {"id": 42, "is_bot": False, "first_name": "Ivan"},
               "chat": {"id": 42, "type": "private"}, "date": 1749416383, "text": "What is the CPL today?"}  # fmt: skip
    return json.dumps({"update_id": 10_000 + i, "message": message}).encode()


def _meta_messaging_body(obj: str, i: int) -> bytes:
    """A Messenger (`page`) or Instagram message from an ad, as the Messenger Platform sends it."""
    referral = {"source": "ADS", "type": "OPEN_THREAD", "ad_id": "120226305854810726",
                "ads_context_data": {"ad_title": "Smile makeover"}}  # fmt: skip
    event = {"sender": {"id": "24000000000000001"}, "recipient": {"id": "153125381133"}, "timestamp": 1749416383000,
             "message": {"mid": f"m_BENCH{i}", "text": "How much are veneers?", "referral": referral}}  # fmt: skip
    return json.dumps({"object": obj, "entry": [{"id": "153125381133", "time": 1, "messaging": [event]}]}).encode()


def _event(
    method: str, body: bytes, headers: dict[str, str], path_parameters: dict[str, str] | None = None
) -> dict[str, Any]:
    return {"version": "2.0", "headers": headers, "body": body.decode(), "isBase64Encoded": False,
            "requestContext": {"http": {"method": method}}, "pathParameters": path_parameters or {}}  # fmt: skip


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def _time(calls: int, run: Callable[[int], Any]) -> tuple[float, float]:
    samples = []
    for i in range(calls):
        started = time.perf_counter()
        run(i)
        samples.append(time.perf_counter() - started)
    return _percentiles(samples)


def in_process() -> None:
    from clawgate.channels import meta_messaging_webhook, telegram_webhook, whatsapp_webhook
    from clawgate.core import ports
    from clawgate.core.meta_webhooks import sign
    from clawgate.edge import apigw
    from clawgate.meta import meta_webhook

    ports.install(ports.Ports(queues=NullQueues()))
    secret = telegram_webhook.webhook_secret("acme/director")
    wa_events = [
        _event("POST", b, {"x-hub-signature-256": sign(b, APP_SECRET)}) for b in map(_whatsapp_body, range(CALLS))
    ]
    tg_events = [_event("POST", b, {"x-telegram-bot-api-secret-token": secret}, {"tenant": "acme", "agent": "director"})
                 for b in map(_telegram_body, range(CALLS))]  # fmt: skip
    meta_receive = functools.partial(meta_webhook.receive, messaging=meta_messaging_webhook.split)
    meta_events = {obj: [_event("POST", b, {"x-hub-signature-256": sign(b, APP_SECRET)})
                         for b in (_meta_messaging_body(obj, i) for i in range(CALLS))]
                   for obj in ("page", "instagram")}  # fmt: skip
    for name, receive, events in (("whatsapp", whatsapp_webhook.receive, wa_events),
                                  ("telegram", telegram_webhook.receive, tg_events),
                                  ("messenger", meta_receive, meta_events["page"]),
                                  ("instagram", meta_receive, meta_events["instagram"])):  # fmt: skip
        handle = functools.partial(apigw.serve, receive=receive)
        with contextlib.redirect_stdout(io.StringIO()):  # Powertools metrics print EMF lines
            p50, p95 = _time(CALLS, lambda i, h=handle, e=events: h(e[i]))  # type: ignore[misc]
        print(f"{name + ' in process':<28}{p50:>9.3f}{p95:>9.3f}   ({CALLS} one-message POSTs, queue no-op)")
    ports.install(ports.Ports())


def over_http() -> None:
    import httpx
    import uvicorn
    from clawgate.channels.telegram_webhook import webhook_secret
    from clawgate.core.meta_webhooks import sign
    from clawgate.local.runtime import LocalRuntime
    from clawgate.local.server import build_app

    runtime = LocalRuntime(role="server")  # the acknowledgement alone: the messages stay queued
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(build_app(runtime), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    secret = webhook_secret("acme/director")
    try:
        wa_bodies = [_whatsapp_body(50_000 + i) for i in range(POSTS)]
        wa_headers = [{"x-hub-signature-256": sign(b, APP_SECRET)} for b in wa_bodies]
        tg_bodies = [_telegram_body(50_000 + i) for i in range(POSTS)]
        tg_headers = {"x-telegram-bot-api-secret-token": secret}
        with httpx.Client(base_url=url) as client, contextlib.redirect_stdout(io.StringIO()):
            wa = _time(POSTS, lambda i: client.post("/webhooks/whatsapp", content=wa_bodies[i], headers=wa_headers[i]))
            tg = _time(POSTS, lambda i: client.post(TELEGRAM_PATH, content=tg_bodies[i], headers=tg_headers))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        runtime.close()
    for name, (p50, p95) in (("whatsapp", wa), ("telegram", tg)):
        print(f"{name + ' over HTTP':<28}{p50:>9.3f}{p95:>9.3f}   ({POSTS} sequential posts, local runtime)")


def main() -> None:
    from clawgate.settings import reset_settings

    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
    os.environ["CLAWGATE_META_APP_SECRET"] = APP_SECRET
    os.environ["CLAWGATE_TELEGRAM_WEBHOOK_KEY"] = TELEGRAM_KEY
    reset_settings()
    print("== webhook handling time (ms) ==")
    print(f"{'':<28}{'p50':>9}{'p95':>9}")
    in_process()
    over_http()


if __name__ == "__main__":
    main()
