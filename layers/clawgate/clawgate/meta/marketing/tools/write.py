"""Changing what runs, each with a required `reason` and an audit row: pause/resume, budgets under the guardrails
of budgets.py (resuming is spending, so it goes through the same confirmation), and creative uploads. Creation
from presets is in create.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, model_validator

from clawgate.core.tools import ToolContext, tool
from clawgate.meta.marketing import approvals, budgets, objects, status, uploads
from clawgate.meta.marketing.tools.support import REASON, actor_of, ads_context, readable_errors


class StatusArgs(BaseModel):
    kind: objects.Kind
    object_id: str = Field(pattern=r"^\d+$")
    status: objects.Status = Field(description="PAUSED to pause (applied now), ACTIVE to resume (needs approval)")
    reason: str = REASON


@tool("ads_set_status", "Pause a campaign, ad set or ad at once, or ask to resume one (resuming is spending: it waits"
      " for the operator's approval and must fit the account-wide daily cap).", "ads")  # fmt: skip
def ads_set_status(ctx: ToolContext, args: StatusArgs) -> str:
    ads = ads_context(ctx)
    with readable_errors():
        return status.set_status(ads, actor_of(ctx), args.kind, args.object_id, args.status, args.reason)


class BudgetArgs(BaseModel):
    adset_id: str | None = Field(default=None, pattern=r"^\d+$", description="the ad set (ad-set budgets)")
    campaign_id: str | None = Field(default=None, pattern=r"^\d+$", description="a campaign with a campaign budget")
    daily_budget: Decimal = Field(gt=0, description="the new budget per day, account currency (major units)")
    reason: str = REASON

    @model_validator(mode="after")
    def _one(self) -> BudgetArgs:
        if (self.adset_id is None) == (self.campaign_id is None):
            raise ValueError("give exactly one of adset_id and campaign_id")
        return self


@tool(
    "ads_set_budget",
    "Change the daily budget of an ad set, or of a campaign with a campaign budget. Within the tenant's step limit"
    " (measured from the budget the day started with) it is applied; beyond it, above the cap per ad set, or from"
    " a scheduled run it waits for the operator's approval. Increases must fit the account-wide daily cap. At most"
    " 4 changes per object per hour.",
    "ads",
)
def ads_set_budget(ctx: ToolContext, args: BudgetArgs) -> str:
    ads = ads_context(ctx)
    kind: budgets.BudgetKind = "adset" if args.adset_id else "campaign"
    with readable_errors():
        return budgets.change_budget(ads, actor_of(ctx), kind, args.adset_id or args.campaign_id or "",
                                     args.daily_budget, args.reason)  # fmt: skip


class ConfirmArgs(BaseModel):
    change_id: int
    approve: bool = Field(default=True, description="false cancels the pending change")
    reason: str = REASON


@tool(
    "ads_confirm_budget_change",
    "Apply (or cancel) a pending change (budget or resume), only after the operator explicitly confirmed it in their"
    " own later message.",
    "ads",
)
def ads_confirm_budget_change(ctx: ToolContext, args: ConfirmArgs) -> str:
    ads = ads_context(ctx)
    with readable_errors():
        return approvals.decide(ads, actor_of(ctx), args.change_id, args.approve, args.reason)


class UploadArgs(BaseModel):
    creative_id: int = Field(description="our creatives row (an uploaded file in the blob store)")
    reason: str = REASON


@tool("ads_upload_creative", "Upload a stored image or video to the ad account; returns its image hash or video id.",
      "ads")  # fmt: skip
def ads_upload_creative(ctx: ToolContext, args: UploadArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    with readable_errors():
        return uploads.upload_creative(ads, actor_of(ctx), args.creative_id, args.reason)
