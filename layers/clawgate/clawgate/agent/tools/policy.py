"""Least privilege for the model: which tools an agent is offered on a channel, and the re-check of every call.
A customer writing on WhatsApp (or to a public Telegram bot) can never reach operator, data or ads tools, whatever
the model is talked into; a tool the model names but was not offered is refused."""

from __future__ import annotations

from typing import Any

from clawgate.core.tools import Profile, Risk, Tool, all_tools
from clawgate.tenancy.model import Agent

PROFILE_RISKS: dict[Profile, frozenset[Risk]] = {
    "customer": frozenset({"safe"}),
    "operator": frozenset({"safe", "operator", "data", "ads"}),
}
OPERATOR_CHANNELS = frozenset({"webchat", "api", "schedule"})
# Channels whose turn context says `operator`: a Telegram bot the tenant file marks so, and Slack and Discord, where
# Ingest puts the adapter's decision for the sender there (`sender_profile`).
SENDER_PROFILE_CHANNELS = frozenset({"telegram", "slack", "discord"})


class ToolRefused(Exception):
    pass


def channel_profile(channel: str, account_config: dict[str, Any] | None) -> Profile:
    """Operator channels: the control UI, the token-authenticated API, schedules, operator Telegram bots, and the
    Slack and Discord senders their adapter vouched for."""
    if channel in OPERATOR_CHANNELS:
        return "operator"
    if channel in SENDER_PROFILE_CHANNELS and (account_config or {}).get("operator"):
        return "operator"
    return "customer"


def offered_tools(agent: Agent, channel: str, profile: Profile) -> list[Tool]:
    allowed_risks = PROFILE_RISKS[profile]
    tools = [
        t
        for t in all_tools().values()
        if t.risk in allowed_risks and (t.channels is None or channel in t.channels) and t.name not in agent.tools.deny
    ]
    if agent.tools.allow:
        tools = [t for t in tools if t.name in agent.tools.allow]
    return sorted(tools, key=lambda t: t.name)


def check_call(name: str, agent: Agent, channel: str, profile: Profile) -> Tool:
    """The same decision as `offered_tools`, made again at call time."""
    for offered in offered_tools(agent, channel, profile):
        if offered.name == name:
            return offered
    raise ToolRefused(f"tool {name!r} is not available here")
