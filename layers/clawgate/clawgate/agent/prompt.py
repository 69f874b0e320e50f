"""The system prompt: the stable part first (persona, rules, identity, user, tools notes, memory, skills index),
marked for prompt caching; then the volatile part (channel, who is writing, local time). Each workspace file is
capped, and so is their total, with a visible marker where text was cut."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from clawgate.agent.skills import merged_skills, skills_index
from clawgate.tenancy.model import Agent, TenantFile
from clawgate.tenancy.workspace import WORKSPACE_FILES

FILE_CAP = 6_000
TOTAL_CAP = 20_000
# Loaded with the workspace files under this name: the notes of the customer a turn is with (peer_memories). Only
# customer-profile prompts get them, in the volatile part; no workspace file can be named so.
PEER_MEMORY = "peer:MEMORY.md"


@dataclass(frozen=True)
class ChannelContext:
    channel: str
    profile: str
    peer_id: str
    sender_name: str | None = None
    is_group: bool = False


def truncated(name: str, text: str, cap: int) -> str:
    if len(text) <= cap:
        return text
    return text[:cap] + f"\n…[truncated: {len(text) - cap} more characters of {name}]"


def workspace_section(files: dict[str, str]) -> str:
    parts: list[str] = []
    budget = TOTAL_CAP
    for name in WORKSPACE_FILES:
        content = files.get(name, "").strip()
        if not content:
            continue
        text = truncated(name, content, min(FILE_CAP, max(budget, 0)))
        budget -= len(content)
        parts.append(f'<file name="{name}">\n{text}\n</file>')
    return "\n\n".join(parts)


def stable_prompt(tenant: TenantFile, agent: Agent, files: dict[str, str], channel: str) -> str:
    index = skills_index(merged_skills(files), channel)
    skills = f"\n\n# Skills\nLoad one with read_skill before you follow it.\n{index}" if index else ""
    return (
        f"You are {agent.name}, an AI agent of {tenant.name}. Your workspace files define who you are and how you"
        f" work; follow them.\n\n{workspace_section(files)}{skills}"
    )


def volatile_prompt(
    tenant: TenantFile, context: ChannelContext, now: datetime | None = None, peer_memory: str = ""
) -> str:
    local = (now or datetime.now(ZoneInfo("UTC"))).astimezone(ZoneInfo(tenant.timezone))
    who = context.sender_name or "unknown name"
    audience = "an operator of the business" if context.profile == "operator" else "a customer"
    group = " in a group chat" if context.is_group else ""
    notes = peer_memory.strip()
    remembered = (
        f'\n\n# Your notes about this customer\n<file name="MEMORY.md" scope="this customer">\n{notes}\n</file>'
    )
    return (
        f"# Context\nChannel: {context.channel}{group}. You are talking to {audience} ({who}).\n"
        f"Local time: {local:%A %Y-%m-%d %H:%M} ({tenant.timezone}).{remembered if notes else ''}"
    )


def system_blocks(
    tenant: TenantFile, agent: Agent, files: dict[str, str], context: ChannelContext, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The customer's own notes enter a customer-profile prompt only; an operator-profile prompt loads the workspace
    files alone, which only operator-profile turns, people and templates write."""
    workspace = {name: content for name, content in files.items() if name != PEER_MEMORY}
    peer_memory = files.get(PEER_MEMORY, "") if context.profile == "customer" else ""
    return [
        {"type": "text", "text": stable_prompt(tenant, agent, workspace, context.channel),
         "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": volatile_prompt(tenant, context, now, peer_memory)},
    ]  # fmt: skip
