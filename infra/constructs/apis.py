"""API Gateway: an HTTP API with a route per `entrypoints.HTTP_ROUTES` entry (webhooks and the operator API) and a
WebSocket API with `entrypoints.WEBSOCKET_ROUTES`. Each handler authenticates its own requests (signatures, secret
tokens, gateway tokens), so no route has an API Gateway authorizer; both stages are throttled and access-logged.

A WebSocket (v1-style) stage can log only once the account has an API Gateway CloudWatch role
(`AWS::ApiGateway::Account`, one per account and region); a fresh account has none, so the stack sets one and the
stages wait for it. The role is kept when the stack goes: other APIs of the account may log through it."""

from __future__ import annotations

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration, WebSocketLambdaIntegration
from clawgate import entrypoints
from constructs import Construct

from infra import nag
from infra.constructs.functions import Functions, construct_id

WEBSOCKET_STAGE = "prod"
HTTP_THROTTLE = apigw.ThrottleSettings(rate_limit=500, burst_limit=1000)
WEBSOCKET_THROTTLE = apigw.ThrottleSettings(rate_limit=100, burst_limit=200)
# API Gateway cuts an integration at 30 s (HTTP API) or 29 s (WebSocket); ours answer before either.
INTEGRATION_TIMEOUT = Duration.seconds(29)
PUSH_TO_CLOUDWATCH = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"


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


# What the web UI sends the HTTP API from its own origin (web/inbox_media.js: media previews, with the gateway
# token); everything else it does goes over the WebSocket. Webhooks are server to server: CORS never applies to them.
WEB_UI_METHODS = (apigw.CorsHttpMethod.GET,)
WEB_UI_HEADERS = ("authorization", "accept")


def web_ui_cors(web_origin: str) -> apigw.CorsPreflightOptions:
    """API Gateway answers the browser's preflight and adds Access-Control-Allow-Origin for the web UI only."""
    return apigw.CorsPreflightOptions(
        allow_origins=[web_origin],
        allow_methods=list(WEB_UI_METHODS),
        allow_headers=list(WEB_UI_HEADERS),
        max_age=Duration.hours(1),
    )


class Apis(Construct):
    def __init__(self, scope: Construct, id: str, *, functions: Functions, web_origin: str) -> None:
        super().__init__(scope, id)
        self.account = self._cloudwatch_role()
        self.http = apigw.HttpApi(
            self,
            "Http",
            description="Clawgate webhooks and operator API",
            create_default_stage=False,
            cors_preflight=web_ui_cors(web_origin),
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
            integration = WebSocketLambdaIntegration(
                f"Ws{construct_id(function)}", functions.invoke_targets[function], timeout=INTEGRATION_TIMEOUT
            )
            self.websocket.add_route(route_key, integration=integration)
        for stage in (self.http_stage, self.websocket_stage):
            stage.node.add_dependency(self.account)
        nag.acknowledge(self, "AwsSolutions-APIG4")

    def _cloudwatch_role(self) -> apigw_v1.CfnAccount:
        role = iam.Role(
            self,
            "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(PUSH_TO_CLOUDWATCH)],
        )
        role.apply_removal_policy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
        nag.acknowledge(role, f"AwsSolutions-IAM4[{nag.PUSH_TO_CLOUDWATCH_POLICY}]")
        account = apigw_v1.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
        account.node.add_dependency(role)
        return account

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
                    f"Http{construct_id(route.function)}",
                    functions.invoke_targets[route.function],
                    timeout=INTEGRATION_TIMEOUT,
                )
            self.http.add_routes(
                path=route.path, methods=[apigw.HttpMethod(route.method)], integration=integrations[route.function]
            )

    def _access_log(self, id: str) -> apigw.IAccessLogSettings:
        group = logs.LogGroup(self, id, retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY)
        return AccessLogSettings(apigw.LogGroupLogDestination(group))
