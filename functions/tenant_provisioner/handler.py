"""CloudFormation custom resource of the tenant stack (CDK provider framework): apply the tenant file."""

from typing import Any

from clawgate.observability import logger, metrics
from clawgate.tenancy.provisioner import on_event


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return on_event(event)
