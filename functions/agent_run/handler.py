"""`POST /api/v1/tenants/{tenant}/agents/{agent}/run`: the operator API's resolver (bearer middleware, validation,
one error shape) in a function of its own, whose timeout waits for the whole turn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clawgate.gateway.operator_api import app
from clawgate.observability import logger, metrics
from clawgate.tracing import tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
