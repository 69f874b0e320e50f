from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clawgate.channels import slack_webhook
from clawgate.edge import apigw
from clawgate.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return apigw.serve(event, slack_webhook.receive)
