"""Agent-turn overhead with a fake model that answers at once: our own time per turn (the steps invoked directly,
model time subtracted), the same through the local state machine and through the HTTP run API, database round trips
per turn, prompt size per channel profile, and memory over 1,000 turns."""

from __future__ import annotations

import json
import os
import resource
import statistics
import time
from pathlib import Path
from typing import Any

from clawgate.agent.delivery import deliver
from clawgate.agent.ingest import RunRequest, ingest
from clawgate.agent.model_step import build_request, call_model
from clawgate.agent.providers.anthropic import AnthropicProvider
from clawgate.agent.tool_step import ToolStepInput, run_tool
from clawgate.agent.tools.builtin import workspace_files
from clawgate.core.turns import StepInput, Turn
from clawgate.local.fakes import FakeAnthropic
from clawgate.observability import metrics
from clawgate.settings import reset_settings
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import parse_tenant
from clawgate.tenancy.tenants import cached_tenant

from bench.database import bench_database_url
from bench.pgtrace import RoundTrips, traced_pool

TURNS = int(os.environ.get("BENCH_TURNS", "200"))
SLUG = "bench_turns"
TENANT = {
    "slug": SLUG, "name": "Bench Dental", "timezone": "Asia/Almaty", "budget": {"daily_usd": 1_000_000},
    "agents": [{"id": "assistant", "name": "Aliya", "model": "anthropic/claude-haiku-4-5"},
               {"id": "director", "name": "Klod", "model": "anthropic/claude-opus-4-1"}],
    "channels": {"whatsapp": [{"phone_number_id": "700000000001", "waba_id": "1", "agent": "assistant",
                               "access_token": "secret:bench/wa"}]},
}  # fmt: skip


class TimedModel:
    """Measures the time spent inside the model call, to subtract it from the turn."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._complete = AnthropicProvider.complete

    def install(self) -> None:
        timed = self

        def complete(provider: AnthropicProvider, request: Any, on_text: Any = None) -> Any:
            started = time.perf_counter()
            try:
                return timed._complete(provider, request, on_text)
            finally:
                timed.seconds += time.perf_counter() - started

        AnthropicProvider.complete = complete  # type: ignore[method-assign, assignment]


def one_turn(i: int, fake: FakeAnthropic) -> None:
    fake.script_tool_use([("memory_note", {"note": f"fact {i}"})])
    fake.script_text("done")
    run = {"source": "api", "tenant": SLUG, "agent": "assistant", "text": f"hello {i}", "peer": f"p{i % 20}",
           "request_id": f"bench-{time.time_ns()}-{i}"}  # fmt: skip
    ref = ingest(RunRequest.model_validate(run))["turns"][0]
    step = StepInput(tenant=SLUG, turn_id=ref["turn_id"])
    first = call_model(step)
    for tool_use_id in first["tool_use_ids"]:
        run_tool(ToolStepInput(tenant=SLUG, turn_id=step.turn_id, tool_use_id=tool_use_id))
    call_model(step)
    deliver(step)
    metrics.flush_metrics()  # as each handler's @metrics.log_metrics does after its invocation


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)]


def own_time(fake: FakeAnthropic, trips: RoundTrips) -> None:
    timer = TimedModel()
    timer.install()
    for i in range(20):  # warm: imports, pool, prepared plans
        one_turn(i, fake)
    trips.take()
    own, total, round_trips = [], [], []
    for i in range(TURNS):
        timer.seconds = 0.0
        started = time.perf_counter()
        one_turn(i, fake)
        elapsed = time.perf_counter() - started
        total.append(elapsed)
        own.append(elapsed - timer.seconds)
        round_trips.append(trips.take())
    print(f"turn with one tool call, steps invoked directly ({TURNS} turns):")
    print(f"  our own time   p50 {percentile(own, 0.5) * 1000:6.1f} ms   p95 {percentile(own, 0.95) * 1000:6.1f} ms")
    print(
        f"  with the model p50 {percentile(total, 0.5) * 1000:6.1f} ms   p95 {percentile(total, 0.95) * 1000:6.1f} ms"
    )
    low, high = min(round_trips), max(round_trips)
    print(f"  database round trips per turn: {statistics.median(round_trips):.0f} (min {low}, max {high})")


def through_workflow(fake: FakeAnthropic) -> None:
    """The same turn started the way the run API starts it: the AgentTurn ASL in moto's interpreter, then HTTP."""
    import httpx
    from clawgate.local.background import running_runtime
    from clawgate.tenancy.tokens import create_token

    token = create_token(SLUG)
    with running_runtime() as running:
        machine, http = [], []
        for i in range(min(TURNS, 100)):
            fake.script_tool_use([("memory_note", {"note": f"fact {i}"})])
            fake.script_text("done")
            run = {"source": "api", "tenant": SLUG, "agent": "assistant", "text": "hi", "peer": "wf",
                   "request_id": f"wf-{time.time_ns()}"}  # fmt: skip
            started = time.perf_counter()
            running.runtime.state_machines.run("agent_turn", run)
            machine.append(time.perf_counter() - started)
            fake.script_tool_use([("memory_note", {"note": f"fact {i}"})])
            fake.script_text("done")
            started = time.perf_counter()
            httpx.post(f"{running.url}/api/v1/tenants/{SLUG}/agents/assistant/run", json={"message": "hi"},
                       headers={"authorization": f"Bearer {token}"}, timeout=30).raise_for_status()  # fmt: skip
            http.append(time.perf_counter() - started)
    print("the same turn through the local AgentTurn state machine (moto's ASL interpreter):")
    p50, p95 = percentile(machine, 0.5) * 1000, percentile(machine, 0.95) * 1000
    print(f"  state machine p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    print(f"  HTTP run API  p50 {percentile(http, 0.5) * 1000:6.1f} ms   p95 {percentile(http, 0.95) * 1000:6.1f} ms")


def memory_over_turns(fake: FakeAnthropic) -> None:
    """RSS of one process running every turn step, sampled over 1,000 turns: it must stay flat."""
    page = os.sysconf("SC_PAGE_SIZE")

    def rss_mb() -> float:
        return int(Path("/proc/self/statm").read_text().split()[1]) * page / 2**20

    samples = {}
    for i in range(1, 1_001):
        fake.reset()  # the fake model shares this process and records every request: not our memory
        one_turn(i, fake)
        if i in (10, 100, 250, 500, 750, 1_000):
            samples[i] = rss_mb()
    trail = "  ".join(f"{n}: {mb:.0f} MB" for n, mb in samples.items())
    print(f"RSS of a process running all turn steps, after N turns: {trail}")


def db_query_cost() -> None:
    """The model's SQL runs on a connection of its own, as the tenant's query login: what one db_query costs."""
    from clawgate.db.readonly import run_query

    run_query(SLUG, "SELECT 1")
    times = []
    for _ in range(50):
        started = time.perf_counter()
        run_query(SLUG, "SELECT source, count(*) FROM leads GROUP BY source")
        times.append(time.perf_counter() - started)
    print("db_query (own connection as the query login: connect, then one pipelined round trip), 50 calls:")
    print(f"  p50 {percentile(times, 0.5) * 1000:6.1f} ms   p95 {percentile(times, 0.95) * 1000:6.1f} ms")


def prompt_sizes() -> None:
    tenant = cached_tenant(SLUG)
    print("prompt size per channel profile (system + tool schemas; tokens ≈ characters / 4):")
    cases = [("whatsapp customer", "whatsapp", {}), ("telegram operator", "telegram", {"operator": True}),
             ("webchat operator", "webchat", {})]  # fmt: skip
    for label, channel, account in cases:
        turn = Turn(0, 0, "assistant", channel, "700000000001", "p", "running", "inbound", 0, None,
                    {"account_config": account})  # fmt: skip
        files = workspace_files(SLUG, "assistant")
        request = build_request(tenant, tenant.agent("assistant"), turn, files, "anthropic/x", (None, []))
        chars = len(json.dumps(request.system)) + len(json.dumps(request.tools))
        print(f"  {label:<18} {chars:>7} chars  ≈{chars // 4:>6} tokens  ({len(request.tools)} tools)")


def main() -> None:
    bench_database_url()
    with FakeAnthropic() as fake:
        os.environ.update(ANTHROPIC_API_KEY="bench", ANTHROPIC_BASE_URL=fake.url)
        reset_settings()
        apply_tenant(parse_tenant(TENANT))
        print("== agent turns ==")
        with traced_pool() as trips:
            own_time(fake, trips)
        prompt_sizes()
        db_query_cost()
        if os.environ.get("BENCH_MEMORY", "1") == "1":
            memory_over_turns(fake)
        if os.environ.get("BENCH_WORKFLOW", "1") == "1":
            through_workflow(fake)
        print(f"  peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
