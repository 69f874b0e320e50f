"""Changing what runs, each with a required `reason` and an audit row: pause/resume, budgets under the guardrails
of budgets.py (resuming is spending, so it goes through the same confirmation), and creative uploads. Creation
from presets is in create.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from clawgate.core.tools import ToolContext, tool
from clawgate.meta.marketing import budgets, objects, uploads
from clawgate.meta.marketing.tools.support import REASON, actor_of, ads_context, readable_errors


class StatusArgs(BaseModel):
    kind: objects.Kind
    object_id: str
    status: objects.Status = Field(description="PAUSED to pause, ACTIVE to resume")
    reason: str = REASON


@tool("ads_set_status", "Pause or resume a campaign, ad set or ad.", "ads")
def ads_set_status(ctx: ToolContext, args: StatusArgs) -> str:
    ads = ads_context(ctx)
    with readable_errors():
        return objects.set_status(ads, actor_of(ctx), args.kind, args.object_id, args.status, args.reason)


class BudgetArgs(BaseModel):
    adset_id: str
    daily_budget: Decimal = Field(gt=0, description="the new budget per day, account currency (major units)")
    reason: str = REASON


@tool(
    "ads_set_budget",
    "Change an ad set's daily budget. Within the tenant's step limit it is applied; beyond it, above the cap, or"
    " from a scheduled run it waits for the operator's explicit confirmation (ads_confirm_budget_change). At most"
    " 4 changes per ad set per hour.",
    "ads",
)
def ads_set_budget(ctx: ToolContext, args: BudgetArgs) -> str:
    ads = ads_context(ctx)
    with readable_errors():
        return budgets.change_budget(ads, actor_of(ctx), args.adset_id, args.daily_budget, args.reason)


class ConfirmArgs(BaseModel):
    change_id: int
    approve: bool = Field(default=True, description="false cancels the pending change")
    reason: str = REASON


@tool(
    "ads_confirm_budget_change",
    "Apply (or cancel) a pending budget change, only after the operator explicitly confirmed it in their own message.",
    "ads",
)
def ads_confirm_budget_change(ctx: ToolContext, args: ConfirmArgs) -> str:
    ads = ads_context(ctx)
    with readable_errors():
        return budgets.confirm_change(ads, actor_of(ctx), args.change_id, args.approve, args.reason)


class UploadArgs(BaseModel):
    creative_id: int = Field(description="our creatives row (an uploaded file in the blob store)")
    reason: str = REASON


@tool("ads_upload_creative", "Upload a stored image or video to the ad account; returns its image hash or video id.",
      "ads")  # fmt: skip
def ads_upload_creative(ctx: ToolContext, args: UploadArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    with readable_errors():
        return uploads.upload_creative(ads, actor_of(ctx), args.creative_id, args.reason)
