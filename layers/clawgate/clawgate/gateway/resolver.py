"""The Powertools HTTP resolver, safe to resolve several requests at once.

Powertools keeps the request being resolved on the resolver: `current_event` and `lambda_context` on the router
class itself, the route's `context` on the instance. Lambda resolves one request per execution environment at a
time, so that is fine there; `clawgate dev` and `clawgate serve` run the same handlers in threads, where a second
request would overwrite the first one's route and headers mid-flight (seen as 404 `'_route'` under 4 concurrent
clients). Here that state is per thread."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext


class ThreadSafeHttpResolver(APIGatewayHttpResolver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._request = threading.local()  # before super().__init__, which assigns self.context
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEventV2:
        event: APIGatewayProxyEventV2 = self._request.event
        return event

    @current_event.setter
    def current_event(self, event: APIGatewayProxyEventV2) -> None:
        self._request.event = event

    @property
    def lambda_context(self) -> LambdaContext:
        context: LambdaContext = self._request.lambda_context
        return context

    @lambda_context.setter
    def lambda_context(self, context: LambdaContext) -> None:
        self._request.lambda_context = context

    @property
    def context(self) -> dict[str, Any]:
        if not hasattr(self._request, "context"):
            self._request.context = {}
        routing: dict[str, Any] = self._request.context
        return routing

    @context.setter
    def context(self, routing: dict[str, Any]) -> None:
        self._request.context = routing

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.current_event = APIGatewayProxyEventV2(dict(event))
        self.lambda_context = context
        return super().resolve(event, context)
