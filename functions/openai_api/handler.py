from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clawgate.edge import apigw
from clawgate.gateway import openai_api
from clawgate.observability import logger, metrics
from clawgate.tracing import tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return apigw.serve(event, openai_api.receive)
