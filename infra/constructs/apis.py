"""API Gateway: an HTTP API with a route per `entrypoints.HTTP_ROUTES` entry (webhooks and the operator API) and a
WebSocket API with `entrypoints.WEBSOCKET_ROUTES`. Each handler authenticates its own requests (signatures, secret
tokens, gateway tokens), so no route has an API Gateway authorizer; both stages are throttled and access-logged."""

from __future__ import annotations

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration, WebSocketLambdaIntegration
from clawgate import entrypoints
from constructs import Construct

from infra import nag
from infra.constructs.functions import Functions, construct_id

WEBSOCKET_STAGE = "prod"
HTTP_THROTTLE = apigw.ThrottleSettings(rate_limit=500, burst_limit=1000)
WEBSOCKET_THROTTLE = apigw.ThrottleSettings(rate_limit=100, burst_limit=200)


@jsii.implements(apigw.IAccessLogSettings)
class AccessLogSettings:
    """API Gateway access logs in the default format, to a log group."""

    def __init__(self, destination: apigw.IAccessLogDestination) -> None:
        self._destination = destination

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> None:
        return None


class Apis(Construct):
    def __init__(self, scope: Construct, id: str, *, functions: Functions) -> None:
        super().__init__(scope, id)
        self.http = apigw.HttpApi(
            self, "Http", description="Clawgate webhooks and operator API", create_default_stage=False
        )
        self.http_stage = apigw.HttpStage(
            self,
            "HttpStage",
            http_api=self.http,
            stage_name="$default",
            auto_deploy=True,
            throttle=HTTP_THROTTLE,
            access_log_settings=self._access_log("HttpAccessLogs"),
        )
        self._add_http_routes(functions)
        self.websocket = apigw.WebSocketApi(self, "WebSocket", description="Clawgate control plane")
        self.websocket_stage = apigw.WebSocketStage(
            self,
            "WebSocketStage",
            web_socket_api=self.websocket,
            stage_name=WEBSOCKET_STAGE,
            auto_deploy=True,
            throttle=WEBSOCKET_THROTTLE,
            access_log_settings=self._access_log("WebSocketAccessLogs"),
        )
        for route_key, function in entrypoints.WEBSOCKET_ROUTES.items():
            integration = WebSocketLambdaIntegration(f"Ws{construct_id(function)}", functions.invoke_targets[function])
            self.websocket.add_route(route_key, integration=integration)
        nag.acknowledge(self, "AwsSolutions-APIG4")

    @property
    def http_url(self) -> str:
        """The base URL, ending in a slash."""
        url: str = self.http_stage.url
        return url

    def _add_http_routes(self, functions: Functions) -> None:
        integrations: dict[str, HttpLambdaIntegration] = {}
        for route in entrypoints.HTTP_ROUTES:
            if route.function not in integrations:
                integrations[route.function] = HttpLambdaIntegration(
                    f"Http{construct_id(route.function)}", functions.invoke_targets[route.function]
                )
            self.http.add_routes(
                path=route.path, methods=[apigw.HttpMethod(route.method)], integration=integrations[route.function]
            )

    def _access_log(self, id: str) -> apigw.IAccessLogSettings:
        group = logs.LogGroup(self, id, retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY)
        return AccessLogSettings(apigw.LogGroupLogDestination(group))
