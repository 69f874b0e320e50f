"""The control plane with the fake model (it streams its answer at once): time from `chat.send` to the first
`chat.delta` and to `chat.final`, over the local runtime's WebSocket, the inbound queue and the AgentTurn state
machine; and the size of the web UI's files (raw and gzipped)."""

from __future__ import annotations

import gzip
import os
import time

from clawgate.db import registry_tx
from clawgate.gateway.client import ControlClient
from clawgate.gateway.data import devices
from clawgate.local.background import running_runtime
from clawgate.local.fakes import FakeAnthropic
from clawgate.settings import PROJECT_ROOT, reset_settings
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import parse_tenant
from clawgate.tenancy.tokens import create_token

from bench.database import bench_database_url
from bench.turns import percentile

TURNS = int(os.environ.get("BENCH_CHATS", "50"))
SLUG = "bench_control"
DEVICE = "bench-device-0001"
TENANT = {
    "slug": SLUG, "name": "Bench Control", "timezone": "UTC", "budget": {"daily_usd": 1_000_000},
    "agents": [{"id": "director", "name": "Klod", "model": "anthropic/claude-opus-4-1"}],
}  # fmt: skip
REPLY = "Spend is on plan; cost per lead fell 8% week over week, driven by the whitening ad. " * 4


def one_chat(ws: ControlClient, fake: FakeAnthropic, i: int) -> tuple[float, float]:
    """Seconds from sending chat.send to the first chat.delta and to chat.final."""
    fake.script_text(REPLY)
    started = time.perf_counter()
    ws.call("chat.send", {"agent": "director", "text": f"How are the ads today? ({i})"})
    first_delta = None
    while True:
        name = ws.events.popleft()["event"] if ws.events else ws.receive().get("event")
        if name == "chat.delta" and first_delta is None:
            first_delta = time.perf_counter() - started
        if name == "chat.final":
            final = time.perf_counter() - started
            return (first_delta if first_delta is not None else final), final


def chat_latency(fake: FakeAnthropic) -> None:
    token = create_token(SLUG)
    with registry_tx() as conn:
        devices.register(conn, SLUG, DEVICE, "bench", approve=True)
    with running_runtime() as running, ControlClient(running.ws_url) as ws:
        assert ws.connect(SLUG, token, DEVICE)["ok"]
        cold = one_chat(ws, fake, 0)
        for i in range(1, 6):  # warm: imports, pool, prepared plans
            one_chat(ws, fake, i)
        samples = [one_chat(ws, fake, i) for i in range(TURNS)]
    firsts, finals = [s[0] for s in samples], [s[1] for s in samples]
    print(f"chat.send -> events over the local WebSocket, fake model streaming {len(REPLY)} characters:")
    print(
        f"  first turn of the process: first chat.delta {cold[0] * 1000:6.1f} ms   chat.final {cold[1] * 1000:6.1f} ms"
    )
    for label, values in (("first chat.delta", firsts), ("chat.final      ", finals)):
        p50, p95 = percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000
        print(f"  {label}  p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   max {max(values) * 1000:6.1f} ms  ({TURNS} chats)")


def ui_sizes() -> None:
    files = sorted(p for p in (PROJECT_ROOT / "web").iterdir() if p.is_file())
    print("web UI files (no build step, no runtime dependency):")
    raw_total = gz_total = 0
    for path in files:
        raw = path.read_bytes()
        packed = len(gzip.compress(raw, 9))
        raw_total, gz_total = raw_total + len(raw), gz_total + packed
        print(f"  {path.name:<12} {len(raw) / 1024:6.1f} KiB   gzip {packed / 1024:5.1f} KiB")
    print(f"  {'total':<12} {raw_total / 1024:6.1f} KiB   gzip {gz_total / 1024:5.1f} KiB")


def main() -> None:
    print("== control plane ==")
    ui_sizes()
    bench_database_url()
    with FakeAnthropic() as fake:
        os.environ.update(ANTHROPIC_API_KEY="bench", ANTHROPIC_BASE_URL=fake.url)
        reset_settings()
        apply_tenant(parse_tenant(TENANT))
        chat_latency(fake)


if __name__ == "__main__":
    main()
