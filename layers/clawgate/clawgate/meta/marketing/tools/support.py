"""What every ads tool does the same way: resolve the tenant's ads context, name the actor for the audit log, and
turn Marketing API and guardrail errors into messages the model reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import Field

from clawgate.core.tools import ToolContext, ToolFailure
from clawgate.meta.marketing.audit import Actor
from clawgate.meta.marketing.calls import GraphAuthError, GraphError, GraphRateLimited
from clawgate.meta.marketing.context import AdsContext, AdsNotConfigured, load_context
from clawgate.meta.marketing.objects import WriteRefused

REASON = Field(min_length=3, max_length=500, description="why: the operator's request or the data behind the change")


def actor_of(ctx: ToolContext) -> Actor:
    return Actor(ctx.agent_id, ctx.channel, ctx.peer_id, ctx.account_id, ctx.turn_id)


def ads_context(ctx: ToolContext) -> AdsContext:
    try:
        return load_context(ctx.tenant)
    except AdsNotConfigured as error:
        raise ToolFailure(str(error)) from None


@contextmanager
def readable_errors() -> Iterator[None]:
    try:
        yield
    except GraphRateLimited as error:
        minutes = max(1, round(error.retry_after_s / 60))
        raise ToolFailure(f"{error}; Meta asks us to wait: try again in about {minutes} minute(s)") from None
    except GraphAuthError as error:
        raise ToolFailure(f"{error}; tell the operator the Meta token must be renewed") from None
    except (GraphError, WriteRefused, ValueError) as error:
        raise ToolFailure(str(error)) from None
