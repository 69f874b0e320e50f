"""The built-in tools. Each runs under the tenant's role, in its own transaction."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from clawgate.agent.data import workspace
from clawgate.agent.skills import merged_skills
from clawgate.core.tools import ToolContext, ToolFailure, tool
from clawgate.db import tenant_tx
from clawgate.db.readonly import ROW_CAP
from clawgate.tenancy.workspace import WORKSPACE_FILES

DB_RESULT_CHARS = 8_000


def workspace_files(tenant: str, agent_id: str) -> dict[str, str]:
    with tenant_tx(tenant, "ro") as conn:
        return workspace.files(conn, agent_id)


class ReadSkill(BaseModel):
    name: str = Field(description="the skill's name from the skills index")


@tool("read_skill", "Load the full instructions of a skill listed in the skills index.", "safe")
def read_skill(ctx: ToolContext, args: ReadSkill) -> str:
    skills = merged_skills(workspace_files(ctx.tenant, ctx.agent_id))
    skill = skills.get(args.name)
    if skill is None or not skill.available_on(ctx.channel):
        raise ToolFailure(
            f"no skill {args.name!r}; available: {sorted(n for n, s in skills.items() if s.available_on(ctx.channel))}"
        )
    return skill.body


def _write_memory(ctx: ToolContext, text: str, append: bool) -> str:
    with tenant_tx(ctx.tenant, pipeline=True) as conn:
        length = workspace.write_memory(conn, ctx.agent_id, text, append=append)
    return f"MEMORY.md saved ({length} characters)"


PEER_MEMORY_CHARS = 8_000  # a customer's notes: the newest kept when they grow past it


def _write_peer_memory(ctx: ToolContext, text: str) -> str:
    """A customer's conversation writes only that customer's notes: never a file an operator prompt loads."""
    with tenant_tx(ctx.tenant, pipeline=True) as conn:
        length = workspace.add_peer_note(conn, ctx.agent_id, ctx.channel, ctx.peer_id, text, PEER_MEMORY_CHARS)
    return f"noted for this conversation ({length} characters)"


class MemoryNote(BaseModel):
    note: str = Field(min_length=1, max_length=2_000, description="a durable fact worth remembering")


@tool(
    "memory_note",
    "Note a short durable fact (preferences, decisions). With a customer it is remembered for that customer only.",
    "safe",
)
def memory_note(ctx: ToolContext, args: MemoryNote) -> str:
    if ctx.profile == "customer":
        return _write_peer_memory(ctx, f"- {args.note}")
    return _write_memory(ctx, f"- {args.note}", append=True)


class MemoryReplace(BaseModel):
    content: str = Field(max_length=20_000, description="the whole new MEMORY.md")


@tool("memory_replace", "Rewrite MEMORY.md entirely (to reorganise or remove outdated notes).", "operator")
def memory_replace(ctx: ToolContext, args: MemoryReplace) -> str:
    return _write_memory(ctx, args.content, append=False)


class WorkspaceRead(BaseModel):
    name: str = Field(description="e.g. SOUL.md, AGENTS.md, MEMORY.md, skills/<name>/SKILL.md")


@tool("workspace_read", "Read one of this agent's workspace files.", "operator")
def workspace_read(ctx: ToolContext, args: WorkspaceRead) -> str:
    files = workspace_files(ctx.tenant, ctx.agent_id)
    if args.name not in files:
        raise ToolFailure(f"no workspace file {args.name!r}; files: {sorted(files)}")
    return files[args.name]


class WorkspaceWrite(BaseModel):
    name: str = Field(description=f"one of {', '.join(WORKSPACE_FILES)} or skills/<name>/SKILL.md")
    content: str = Field(max_length=50_000)


@tool("workspace_write", "Replace one of this agent's workspace files (persona, rules, notes, own skills).", "operator")
def workspace_write(ctx: ToolContext, args: WorkspaceWrite) -> str:
    if args.name not in WORKSPACE_FILES and not (args.name.startswith("skills/") and args.name.endswith("/SKILL.md")):
        raise ToolFailure(f"{args.name!r} is not a workspace file name")
    with tenant_tx(ctx.tenant, pipeline=True) as conn:
        workspace.write_file(conn, ctx.agent_id, args.name, args.content)
    return f"{args.name} saved"


class DbQuery(BaseModel):
    sql: str = Field(description="one read-only SQL query over this tenant's tables (leads, wa_dialogs, …)")


@tool("db_query", f"Run a read-only SQL query on the tenant's data (first {ROW_CAP} rows).", "data")
def db_query(ctx: ToolContext, args: DbQuery) -> dict[str, Any]:
    from clawgate.db.readonly import QueryError, run_query

    try:
        result = run_query(ctx.tenant, args.sql)
    except QueryError as error:
        raise ToolFailure(f"query failed: {error}") from error
    text = json.dumps([dict(zip(result.columns, row, strict=False)) for row in result.rows], default=str)
    truncated = result.truncated or len(text) > DB_RESULT_CHARS
    return {"columns": result.columns, "rows": text[:DB_RESULT_CHARS], "truncated": truncated}


class SendMessage(BaseModel):
    channel: Literal["whatsapp", "telegram"]
    peer_id: str = Field(description="WhatsApp user id / wa_id, or Telegram chat id")
    text: str = Field(min_length=1, max_length=4_000)
    account_id: str | None = Field(default=None, description="sending account; default: the tenant's first")


def send_key(ctx: ToolContext, args: SendMessage) -> str:
    """Once per turn, recipient and text: a retried tool call sends nothing twice, a second recipient is not
    skipped."""
    recipient = json.dumps([args.channel, args.account_id, args.peer_id, args.text])
    return f"tool:{ctx.turn_id}:{hashlib.sha256(recipient.encode()).hexdigest()[:32]}"


@tool("send_message", "Send a message to a customer or colleague on WhatsApp or Telegram.", "operator")
def send_message(ctx: ToolContext, args: SendMessage) -> str:
    from clawgate.agent.delivery import send_to_peer
    from clawgate.tenancy.apply import default_account

    account = args.account_id or default_account(ctx.tenant, args.channel, None)
    sent = send_to_peer(ctx.tenant, args.channel, account, args.peer_id, args.text, send_key(ctx, args))
    return f"sent {sent} message(s)"


class Handoff(BaseModel):
    reason: str = Field(min_length=1, max_length=1_000)


@tool("handoff", "Hand this conversation to a human operator, with the reason: you are paused until they give it "
      "back, so tell the customer a colleague will answer.", "safe")  # fmt: skip
def handoff(ctx: ToolContext, args: Handoff) -> str:
    from clawgate.conversations.handoff import hand_over
    from clawgate.tenancy.tenants import cached_tenant

    inbox_url = cached_tenant(ctx.tenant).handoff.inbox_url
    return hand_over(ctx.tenant, ctx.channel, ctx.account_id, ctx.peer_id, "agent", args.reason, inbox_url)
