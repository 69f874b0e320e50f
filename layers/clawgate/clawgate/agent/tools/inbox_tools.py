"""Operator-only tools for re-engaging customers on WhatsApp: send an approved template now (allowed outside the
24-hour window), or schedule one for when a customer has stayed silent ("no answer for 23 h → remind with template
X"), which the `inbox` job sends once, unless they opted out or the daily budget is spent."""

from __future__ import annotations

from pydantic import BaseModel, Field

from clawgate.core.tools import ToolContext, ToolFailure, tool


class TemplateArgs(BaseModel):
    conversation_id: int = Field(description="the inbox conversation (db_query: SELECT id, name FROM conversations)")
    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$", description="an approved template")
    language: str = Field(min_length=2, max_length=15, description="its language code, e.g. en, ru, kk")
    parameters: list[str] = Field(default=[], max_length=20, description="values for {{1}}, {{2}}… in order")


@tool("send_template", "Send an approved WhatsApp template to a conversation now (works after the 24-hour window).",
      "operator")  # fmt: skip
def send_template(ctx: ToolContext, args: TemplateArgs) -> str:
    from clawgate.agent import followups

    try:
        sent = followups.send_now(ctx.tenant, args.conversation_id, args.name, args.language, args.parameters,
                                  key=f"tool:{ctx.turn_id}:{args.conversation_id}:{args.name}")  # fmt: skip
    except followups.FollowUpError as error:
        raise ToolFailure(str(error)) from None
    return "template sent" if sent else "this template went out already in this turn"


class FollowUpArgs(TemplateArgs):
    silent_hours: float = Field(gt=0, le=720, description="send when the customer has not written for this long")


@tool("schedule_follow_up", "Schedule a WhatsApp template for when the customer stays silent (e.g. 23 hours).",
      "operator")  # fmt: skip
def schedule_follow_up(ctx: ToolContext, args: FollowUpArgs) -> str:
    from clawgate.agent import followups

    try:
        minutes = round(args.silent_hours * 60)
        follow_up_id, due = followups.schedule(ctx.tenant, args.conversation_id, args.name, args.language,
                                               args.parameters, minutes, f"agent:{ctx.agent_id}")  # fmt: skip
    except followups.FollowUpError as error:
        raise ToolFailure(str(error)) from None
    return f"follow-up {follow_up_id} scheduled for {due.isoformat()} if the customer stays silent until then"
