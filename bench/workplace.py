"""Slack and Discord webhook handling time in process (p50/p95 over 1,000 calls, the queue a no-op): opening the
request URL's seal, the signature check (HMAC-SHA256 for Slack, Ed25519 for Discord) and building the envelope.
Discord wants its deferred answer within 3 s and Slack its 200 within 3 s; this is our share of that."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.webhooks import CALLS, NullQueues, _time

KEY = "bench-webhook-key"
SIGNING_SECRET = "bench-slack-signing-secret"
PATH = {"tenant": "acme", "agent": "director"}


def _event(body: bytes, headers: dict[str, str], seal: str) -> dict[str, Any]:
    return {"version": "2.0", "headers": headers, "body": body.decode(), "isBase64Encoded": False,
            "requestContext": {"http": {"method": "POST"}}, "pathParameters": PATH,
            "queryStringParameters": {"k": seal}}  # fmt: skip


def _seal(channel: str, material: str) -> str:
    from clawgate.channels.webhook_seal import request_url

    return parse_qs(urlsplit(request_url("https://x", channel, "acme", "director", material)).query)["k"][0]


def slack_events() -> list[dict[str, Any]]:
    from clawgate.channels.slack_webhook import signature

    seal, now, events = _seal("slack", SIGNING_SECRET), str(int(time.time())), []
    for i in range(CALLS):
        event = {"type": "app_mention", "user": "U0MEMBER", "text": "<@U0BOT> how are the ads?", "ts": f"1.{i}",
                 "channel": "C0GENERAL"}  # fmt: skip
        body = json.dumps({"type": "event_callback", "team_id": "T0", "event_id": f"Ev{i}", "event": event}).encode()
        headers = {"x-slack-request-timestamp": now, "x-slack-signature": signature(SIGNING_SECRET, now, body)}
        events.append(_event(body, headers, seal))
    return events


def discord_events() -> list[dict[str, Any]]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.generate()
    seal = _seal("discord", key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex())
    now, events = str(int(time.time())), []
    for i in range(CALLS):
        ask = {"name": "ask", "options": [{"name": "message", "value": "how are the ads?"}]}
        interaction = {"type": 2, "id": str(10**17 + i), "application_id": "1", "token": f"t{i}", "channel_id": "7",
                       "guild_id": "8", "member": {"user": {"id": "9"}}, "data": ask}  # fmt: skip
        body = json.dumps(interaction).encode()
        headers = {"x-signature-timestamp": now, "x-signature-ed25519": key.sign(now.encode() + body).hex()}
        events.append(_event(body, headers, seal))
    return events


def main() -> None:
    from clawgate.channels import discord_webhook, slack_webhook
    from clawgate.core import ports
    from clawgate.edge import apigw
    from clawgate.settings import reset_settings

    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
    os.environ["CLAWGATE_TELEGRAM_WEBHOOK_KEY"] = KEY
    reset_settings()
    ports.install(ports.Ports(queues=NullQueues()))
    print("== Slack and Discord webhook handling time (ms) ==")
    print(f"{'':<28}{'p50':>9}{'p95':>9}")
    for name, receive, events in (("slack in process", slack_webhook.receive, slack_events()),
                                  ("discord in process", discord_webhook.receive, discord_events())):  # fmt: skip
        handle = functools.partial(apigw.serve, receive=receive)
        statuses = {handle(events[0])["statusCode"]}
        with contextlib.redirect_stdout(io.StringIO()):  # Powertools metrics print EMF lines
            p50, p95 = _time(CALLS, lambda i, h=handle, e=events: h(e[i]))  # type: ignore[misc]
        print(f"{name:<28}{p50:>9.3f}{p95:>9.3f}   ({CALLS} signed events, queue no-op; status {statuses})")
    ports.install(ports.Ports())
