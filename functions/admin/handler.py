"""The admin function: `clawgate --aws …` runs an operator command here (clawgate/cli/admin.py); IAM guards it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clawgate.cli import main
from clawgate.cli.admin import AdminRequest, run
from clawgate.observability import logger, metrics
from clawgate.tracing import tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = AdminRequest.model_validate(event)
    logger.info("admin command", extra={"command": request.argv[:2]})
    return run(request, main).model_dump()
