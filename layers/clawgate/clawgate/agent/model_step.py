"""CallModel: load the prompt, the session and the tools from PostgreSQL, call the model, persist its answer and
usage, and tell the state machine what comes next (tools, or delivery). An overloaded, rate-limited or timed-out
model is retried here, within the state's timeout, on the agent's fallback models in order (so the state's worst
case stays one timeout); a step only starts when the turn's time budget allows it (agent/deadline.py)."""

from __future__ import annotations

import random
import time
from typing import Any

from clawgate.agent import deadline
from clawgate.agent.compaction import maybe_compact
from clawgate.agent.data import turns
from clawgate.agent.data.sessions import Rows, append, load_rows, select_transcript, transcript_rows
from clawgate.agent.prompt import PEER_MEMORY, ChannelContext, system_blocks
from clawgate.agent.providers import provider_for, split_model
from clawgate.agent.providers.base import ModelAnswer, ModelOverloaded, ModelRateLimited, ModelRequest, ModelTimeout
from clawgate.agent.tools import channel_profile, offered_tools
from clawgate.agent.transcript import estimate_tokens, to_messages
from clawgate.agent.usage import record_usage
from clawgate.core.channels import TextSink, find_adapter
from clawgate.core.turns import StepInput, Turn
from clawgate.db import tenant_tx
from clawgate.observability import bind, logger
from clawgate.tenancy.model import Agent, TenantFile
from clawgate.tenancy.tenants import cached_tenant

STEP_LIMIT_REPLY = "I had to stop here: this request needed more steps than I am allowed in one turn."
MODEL_ATTEMPTS = 3  # the first model, then the fallbacks (the last one again when there are fewer)
RETRY_WITHIN_S = 20.0  # a retry starts only this soon after the first attempt: the state's timeout is 45 s
RETRYABLE = (ModelOverloaded, ModelRateLimited, ModelTimeout)


def choose_model(agent: Agent, channel: str, attempt: int) -> str:
    models = [agent.model_by_channel.get(channel, agent.model), *agent.fallback_models]
    return models[min(attempt, len(models) - 1)]


def call_model(step: StepInput) -> dict[str, Any]:
    bind(tenant=step.tenant, turn=step.turn_id)
    tenant = cached_tenant(step.tenant)
    with tenant_tx(step.tenant, "ro", pipeline=True) as conn:  # four queries, one round trip
        turn_query = turns.select_turn(conn, step.turn_id)
        age_query = turns.select_seconds_since_start(conn, step.turn_id)
        files_query = turns.select_files(conn, step.turn_id, PEER_MEMORY)
        rows_query = select_transcript(conn, step.turn_id)
        turn = turn_query.fetchone()
        clock = TurnClock(turns.seconds_of(age_query))
        files = turns.files_of(files_query)
        summary, rows = transcript_rows(rows_query.fetchall())
    if turn is None or turn.status != "running":
        return {"next": "done"}  # a redelivered step of a finished turn
    agent = tenant.agent(turn.agent_id)
    if turn.step_count >= agent.max_steps:
        return stop_turn(step.tenant, turn, "step_limit", STEP_LIMIT_REPLY)
    if not deadline.may_call_model(seconds_since_turn(clock)):
        return stop_turn(step.tenant, turn, "time_budget", deadline.TIME_BUDGET_REPLY)
    model, answer = complete_with_fallbacks(tenant, agent, turn, step.attempt, (files, summary, rows))
    return persist_answer(step.tenant, turn, model, answer, clock)


def complete_with_fallbacks(
    tenant: TenantFile, agent: Agent, turn: Turn, first_attempt: int, loaded: tuple[dict[str, str], str | None, Rows]
) -> tuple[str, ModelAnswer]:
    files, summary, rows = loaded
    started = time.monotonic()
    for attempt in range(first_attempt, first_attempt + MODEL_ATTEMPTS):
        model = choose_model(agent, turn.channel, attempt)
        request = build_request(tenant, agent, turn, files, model, (summary, rows))
        try:
            return model, provider_for(tenant, model).complete(request, on_text=text_sink(turn))
        except RETRYABLE as error:
            last = attempt == first_attempt + MODEL_ATTEMPTS - 1
            if last or time.monotonic() - started > RETRY_WITHIN_S:
                raise
            logger.warning("model call failed, trying again", extra={"model": model, "error": str(error)})
            time.sleep(random.uniform(0, 2 ** (attempt - first_attempt)))  # full jitter: 0-1 s, then 0-2 s
    raise AssertionError("unreachable")


class TurnClock:
    """The turn's age: the database's reading, taken with the turn itself (no round trip of its own), advanced by
    this process's monotonic clock since then."""

    def __init__(self, seconds_at_load: float) -> None:
        self._started = time.monotonic() - seconds_at_load

    def seconds(self) -> float:
        return time.monotonic() - self._started


def seconds_since_turn(clock: TurnClock) -> float:
    return clock.seconds()


def stop_turn(tenant: str, turn: Turn, reason: str, reply: str) -> dict[str, Any]:
    """End the turn with a fixed reply, delivered as any other; the time budget also tells the operator."""
    with tenant_tx(tenant) as conn:
        turns.set_reply(conn, turn.id, reply, stop_reason=reason)
    if reason == "time_budget":
        from clawgate.core.notify import notify_operator
        from clawgate.observability import count

        count("TurnsOverTimeBudget")
        logger.warning("turn stopped by its time budget")
        notify_operator(tenant, f"Turn {turn.id} ({turn.channel} {turn.peer_id}) ran out of time and was stopped.")
    return {"next": "deliver", "tool_use_ids": []}


def text_sink(turn: Turn) -> TextSink | None:
    """Where the channel wants the reply's text while the model writes it (web chat: `chat.delta` events)."""
    adapter = find_adapter(turn.channel)
    return adapter.stream(turn) if adapter else None


def build_request(
    tenant: TenantFile, agent: Agent, turn: Turn, files: dict[str, str], model: str, transcript: tuple[str | None, Rows]
) -> ModelRequest:
    profile = channel_profile(turn.channel, turn.context.get("account_config"))
    context = ChannelContext(turn.channel, profile, turn.peer_id, turn.context.get("sender_name"),
                             bool(turn.context.get("is_group")))  # fmt: skip
    system = system_blocks(tenant, agent, files, context)
    tools = [t.schema() for t in offered_tools(agent, turn.channel, profile)]
    summary, rows = transcript
    if maybe_compact(tenant, turn, model, rows, budget_tokens=agent.context_tokens - estimate_tokens([system, tools])):
        with tenant_tx(tenant.slug, "ro") as conn:
            summary, rows = load_rows(conn, turn.id)
    messages = to_messages(summary, rows)
    _, model_id = split_model(model)
    return ModelRequest(model=model_id, system=system, messages=messages, tools=tools, max_tokens=agent.max_tokens)


def persist_answer(tenant: str, turn: Turn, model: str, answer: ModelAnswer, clock: TurnClock) -> dict[str, Any]:
    provider, model_id = split_model(model)
    tool_uses = answer.tool_uses
    if tool_uses and not deadline.may_run_tools(seconds_since_turn(clock), len(tool_uses)):
        with tenant_tx(tenant, pipeline=True) as conn:  # the tool_use without results is dropped when loaded
            record_usage(conn, turn.id, turn.agent_id, provider, answer.model or model_id, answer.usage)
            append(conn, turn.session_id, turn.id, "tool_use", answer.content)
        return stop_turn(tenant, turn, "time_budget", deadline.TIME_BUDGET_REPLY)
    with tenant_tx(tenant, pipeline=True) as conn:
        record_usage(conn, turn.id, turn.agent_id, provider, answer.model or model_id, answer.usage)
        append(conn, turn.session_id, turn.id, "tool_use" if tool_uses else "assistant", answer.content)
        turns.count_step(conn, turn.id, model, answer.stop_reason)
        if not tool_uses:
            turns.set_reply(conn, turn.id, answer.text)
            return {"next": "deliver", "tool_use_ids": []}
        turns.record_tool_calls(conn, turn.id, turn.step_count + 1, tool_uses)
    logger.info("model asked for tools", extra={"tools": [u["name"] for u in tool_uses]})
    return {"next": "tools", "tool_use_ids": [use["id"] for use in tool_uses]}
