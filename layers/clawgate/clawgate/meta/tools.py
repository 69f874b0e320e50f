"""Meta's tool for the customer-facing agent: `update_dialog` records a conversation's qualification (the contract
name skills rely on). Registered in `clawgate.core.tools`; offered on the channels that have dialogs (WhatsApp,
Messenger, Instagram)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from clawgate.conversations.handoff import hand_over
from clawgate.core.tools import ToolContext, tool
from clawgate.meta.dialogs import DIALOG_CHANNELS, update_qualification
from clawgate.tenancy.tenants import cached_tenant


class UpdateDialog(BaseModel):
    qualification: Literal["new", "interested", "scheduled", "not_interested"]
    summary: str | None = Field(default=None, max_length=2_000)


@tool("update_dialog", "Record this conversation's qualification and a short summary.", "safe", set(DIALOG_CHANNELS))
def update_dialog(ctx: ToolContext, args: UpdateDialog) -> str:
    result = update_qualification(
        ctx.tenant, ctx.account_id or "", ctx.peer_id, args.qualification, args.summary, channel=ctx.channel
    )
    handoff = cached_tenant(ctx.tenant).handoff
    if args.qualification in handoff.on_qualification:  # the tenant's rule: a lead this far goes to a person
        reason = f"qualified as {args.qualification}" + (f": {args.summary}" if args.summary else "")
        by = "rule:qualification"
        result += "; " + hand_over(ctx.tenant, ctx.channel, ctx.account_id, ctx.peer_id, by, reason, handoff.inbox_url)
    return result
