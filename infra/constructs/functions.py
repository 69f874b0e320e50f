"""Every `functions/<name>/handler.py` as a Lambda function: Python 3.12 on arm64, the two layers, Powertools
environment, X-Ray, a log group with retention, and only the access its settings (function_settings.py) ask for."""

from __future__ import annotations

import json
from collections.abc import Callable

from aws_cdk import (
    AssetHashType,
    Duration,
    RemovalPolicy,
    SecretValue,
    Stack,
    Token,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.aws_apigatewayv2 import WebSocketStage
from constructs import Construct

from infra import nag
from infra.assets import Asset, Assets
from infra.constructs.database import QUERY_KEY_REFERENCE, Database
from infra.constructs.network import Network
from infra.function_settings import PLATFORM_SECRETS, UPLOAD_AREA, FunctionSettings, settings_for

RUNTIME = lambda_.Runtime.PYTHON_3_12
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
TENANT_SECRET_TAG = "clawgate:scope"
SNAPSTART_ALIAS = "live"
LAYER_SKILLS_DIR = "/opt/skills"  # the clawgate layer ships skills/ beside python/


def construct_id(function: str) -> str:
    return "".join(part.capitalize() for part in function.split("_"))


def placeholder_secret(scope: Construct, id: str, *, name: str, description: str) -> secretsmanager.Secret:
    """A secret under a fixed name (the code reads it by name) holding `clawgate.secrets.PLACEHOLDER` until an
    operator pastes the real value; the code treats the placeholder as missing. Kept when the stack goes, removed
    when its own creation is rolled back, so a failed first deploy leaves no name behind to collide with."""
    from clawgate.secrets import PLACEHOLDER

    secret = secretsmanager.Secret(
        scope,
        id,
        secret_name=name,
        description=description,
        secret_string_value=SecretValue.unsafe_plain_text(PLACEHOLDER),
        removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    )
    nag.acknowledge(secret, "AwsSolutions-SMG4")
    return secret


class PlatformSecrets(Construct):
    """Placeholders for the agency's own secrets; operators paste the real values after the first deploy."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.by_name: dict[str, secretsmanager.Secret] = {}
        for spec in PLATFORM_SECRETS.values():
            self.by_name[spec.name] = placeholder_secret(
                self,
                construct_id(spec.name.replace("-", "_")),
                name=spec.secret_name,
                description=f"Clawgate platform: {spec.description}. Fill it after the first deploy.",
            )


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        assets: Assets,
        network: Network,
        database: Database,
        platform_secrets: PlatformSecrets,
    ) -> None:
        super().__init__(scope, id)
        self._network, self._database, self._platform_secrets = network, database, platform_secrets
        self.layers = [
            self._layer("DependenciesLayer", assets.dependencies_layer, "Pinned runtime dependencies of clawgate"),
            self._layer("ClawgateLayer", assets.package_layer, "The clawgate package"),
        ]
        self.by_name: dict[str, lambda_.Function] = {}
        self.invoke_targets: dict[str, lambda_.IFunction] = {}
        for name, asset in assets.functions.items():
            self._add(name, asset)

    def settings(self, name: str) -> FunctionSettings:
        return settings_for(name)

    def grant_queue(self, queue_name: str, queue: sqs.IQueue) -> None:
        for _, function in self._wanting(lambda s: queue_name in s.sends_to):
            function.add_environment(f"CLAWGATE_{queue_name.upper()}_QUEUE_URL", queue.queue_url)
            queue.grant_send_messages(function)

    def grant_workflow(self, workflow: str, state_machine: sfn.StateMachine, express: bool) -> None:
        """Start it, or run it: an Express one synchronously, a Standard one by watching the execution."""
        actions = ["states:StartExecution", "states:StartSyncExecution" if express else None]
        for _, function in self._wanting(lambda s: workflow in s.starts_workflows):
            function.add_environment(f"CLAWGATE_{workflow.upper()}_STATE_MACHINE_ARN", state_machine.state_machine_arn)
            function.add_to_role_policy(
                iam.PolicyStatement(actions=[a for a in actions if a], resources=[state_machine.state_machine_arn])
            )
            if not express:
                state_machine.grant_execution(function, "states:DescribeExecution")
                nag.acknowledge_as(function, "Executions", _executions_finding(state_machine))

    def grant_connections(self, stage: WebSocketStage) -> None:
        for _, function in self._wanting(lambda s: s.posts_to_connections):
            function.add_environment("CLAWGATE_WEBSOCKET_ENDPOINT", stage.callback_url)
            stage.grant_management_api_access(function)
            nag.acknowledge_as(function, "Connections", _connections_finding(stage))

    def grant_blobs(self, blobs: s3.IBucket) -> None:
        """Object access per key area (`<tenant>/<area>/...`); nothing on the bucket itself (no listing)."""
        for name, function in self._wanting(lambda s: bool(s.blob_areas)):
            settings = self.settings(name)
            function.add_environment("CLAWGATE_BLOB_BUCKET", blobs.bucket_name)
            for area in settings.blob_areas:
                actions = blob_actions(settings, area)
                function.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=[area_arn(blobs, area)]))
                nag.acknowledge_as(function, "BucketObjects", nag.resource_finding(blobs, area_suffix(area)))

    def _add(self, name: str, asset: Asset) -> None:
        settings = self.settings(name)
        cid = construct_id(name)
        function = lambda_.Function(
            self,
            cid,
            description=f"clawgate {name}",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(asset.path), asset_hash=asset.key, asset_hash_type=AssetHashType.CUSTOM),
            layers=self.layers,
            memory_size=settings.memory_mb,
            timeout=Duration.seconds(settings.timeout_s),
            environment=_base_environment(name),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=logs.LogGroup(self, f"{cid}Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY),
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if settings.snap_start else None,
            vpc=self._network.vpc if settings.in_vpc else None,
            vpc_subnets=self._network.app_subnets if settings.in_vpc else None,
            security_groups=[self._security_group(settings)] if settings.in_vpc else None,
        )
        self.by_name[name] = function
        self.invoke_targets[name] = function
        if settings.snap_start:
            self.invoke_targets[name] = lambda_.Alias(
                self, f"{cid}Live", alias_name=SNAPSTART_ALIAS, version=function.current_version
            )
            nag.acknowledge(function, "Annotation::@aws-cdk/aws-lambda:snapStartRequirePublish")
        self._grant_settings(function, settings)

    def _security_group(self, settings: FunctionSettings) -> ec2.ISecurityGroup:
        if settings.runs_tenant_sql:
            return self._network.query_clients
        return self._network.database_clients if settings.database else self._network.functions

    def _grant_settings(self, function: lambda_.Function, settings: FunctionSettings) -> None:
        self._grant_database(function, settings)
        for secret_name in settings.platform_secrets:
            spec = PLATFORM_SECRETS[secret_name]
            if spec.env:
                function.add_environment(spec.env, spec.reference)
            self._platform_secrets.by_name[secret_name].grant_read(function)
        stack = Stack.of(self)
        if settings.tenant_secrets:
            function.add_to_role_policy(_tenant_secrets_statement(stack))
            nag.acknowledge_as(function, "TenantSecrets", nag.wildcard_finding(stack, TENANT_SECRETS_ARN))
        if settings.writes_first_tokens:
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                    resources=[_arn(stack, FIRST_TOKEN_SECRETS_ARN)],
                )
            )
            nag.acknowledge_as(function, "FirstTokens", nag.wildcard_finding(stack, FIRST_TOKEN_SECRETS_ARN))
        if settings.bedrock:
            function.add_to_role_policy(_bedrock_statement(stack))
            nag.acknowledge_as(function, "BedrockModels", nag.wildcard_finding(stack, BEDROCK_MODELS_ARN))
            nag.acknowledge_as(function, "BedrockModels", nag.wildcard_finding(stack, BEDROCK_GLOBAL_MODELS_ARN))
            nag.acknowledge_as(function, "BedrockProfiles", nag.wildcard_finding(stack, BEDROCK_PROFILES_ARN))

    def _grant_database(self, function: lambda_.Function, settings: FunctionSettings) -> None:
        """Each login's secret only where it is used (clawgate/db/logins.py reads these variables)."""
        database = self._database
        if not settings.database:
            return
        function.add_environment("CLAWGATE_DATABASE_HOST", database.endpoint)
        owner = settings.owner_login or settings.admin_login  # bootstrap sets the owner's password from its secret
        logins = [
            ("CLAWGATE_DATABASE_APP_SECRET_ARN", database.app_secret, True),
            ("CLAWGATE_DATABASE_OWNER_SECRET_ARN", database.owner_secret, owner),
            ("CLAWGATE_DATABASE_SECRET_ARN", database.secret, settings.admin_login),
        ]
        for variable, secret, wanted in logins:
            if wanted:
                function.add_environment(variable, secret.secret_arn)
                secret.grant_read(function)
        if settings.query_logins:
            function.add_environment("CLAWGATE_DATABASE_QUERY_KEY", QUERY_KEY_REFERENCE)
            database.query_key.grant_read(function)
        if settings.runs_tenant_sql:
            function.add_environment("CLAWGATE_DATABASE_QUERY_HOST", database.cluster_host)

    def _wanting(self, wants: Callable[[FunctionSettings], bool]) -> list[tuple[str, lambda_.Function]]:
        return [(name, fn) for name, fn in self.by_name.items() if wants(self.settings(name))]

    def _layer(self, id: str, asset: Asset, description: str) -> lambda_.LayerVersion:
        return lambda_.LayerVersion(
            self,
            id,
            code=lambda_.Code.from_asset(str(asset.path), asset_hash=asset.key, asset_hash_type=AssetHashType.CUSTOM),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description=description,
        )


# CreateMultipartUpload, UploadPart (presigned) and CompleteMultipartUpload are s3:PutObject; HeadObject is
# s3:GetObject; a completed upload of the wrong size is deleted.
UPLOAD_ACTIONS = (
    "s3:PutObject",
    "s3:GetObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)


def blob_actions(settings: FunctionSettings, area: str) -> list[str]:
    actions: set[str] = set()
    if area in settings.reads_blobs:
        actions.add("s3:GetObject")
    if area in settings.writes_blobs:
        actions.add("s3:PutObject")
    if settings.uploads and area == UPLOAD_AREA:
        actions.update(UPLOAD_ACTIONS)
    return sorted(actions)


def area_suffix(area: str) -> str:
    return f"/*/{area}/*"


def area_arn(bucket: s3.IBucket, area: str) -> str:
    return bucket.arn_for_objects(area_suffix(area).removeprefix("/"))


def _base_environment(name: str) -> dict[str, str]:
    return {
        "POWERTOOLS_SERVICE_NAME": name,
        "POWERTOOLS_METRICS_NAMESPACE": "Clawgate",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",  # responses may hold message text and phone numbers
        "LOG_LEVEL": "INFO",
        "CLAWGATE_SKILLS_DIR": LAYER_SKILLS_DIR,
        "CLAWGATE_DATA_DIR": "/tmp/clawgate",  # the only writable path in Lambda
    }


TENANT_SECRETS_ARN = "arn:{partition}:secretsmanager:{region}:{account}:secret:clawgate/*"
FIRST_TOKEN_SECRETS_ARN = "arn:{partition}:secretsmanager:{region}:{account}:secret:clawgate/*/gateway-token-*"
# A cross-region inference profile (eu., us., apac., global.) is invoked in this region and routes the request to a
# foundation model in any region of its geography (global.: any commercial region, written with an empty region in
# the ARN): the caller needs the profile and the model in every region it may route to.
BEDROCK_MODELS_ARN = "arn:{partition}:bedrock:*::foundation-model/anthropic.*"
BEDROCK_GLOBAL_MODELS_ARN = "arn:{partition}:bedrock:::foundation-model/anthropic.*"
BEDROCK_PROFILES_ARN = "arn:{partition}:bedrock:{region}:{account}:inference-profile/*anthropic.*"


def _arn(stack: Stack, template: str) -> str:
    return template.format(partition=stack.partition, region=stack.region, account=stack.account)


def _tenant_secrets_statement(stack: Stack) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=["secretsmanager:GetSecretValue"],
        resources=[_arn(stack, TENANT_SECRETS_ARN)],
        conditions={"StringEquals": {f"aws:ResourceTag/{TENANT_SECRET_TAG}": "tenant"}},
    )


def _bedrock_statement(stack: Stack) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
        resources=[_arn(stack, arn) for arn in (BEDROCK_MODELS_ARN, BEDROCK_GLOBAL_MODELS_ARN, BEDROCK_PROFILES_ARN)],
    )


def _executions_finding(state_machine: sfn.StateMachine) -> str:
    """As cdk-nag prints the executions ARN `grant_execution` renders: the name cut from the state machine's ARN,
    the partition written out where the region is known."""
    stack = Stack.of(state_machine)
    cut = {"Fn::Select": [6, {"Fn::Split": [":", {"Ref": nag.logical_id(state_machine)}]}]}
    name = json.dumps(cut, separators=(",", ":"))
    partition = "<AWS::Partition>" if Token.is_unresolved(stack.region) else _partition_of(stack.region)
    region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    return f"AwsSolutions-IAM5[Resource::arn:{partition}:states:{region}:{account}:execution:{name}:*]"


def _partition_of(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _connections_finding(stage: WebSocketStage) -> str:
    stack = Stack.of(stage)
    api_id = nag.logical_id(stage.api)
    return nag.wildcard_finding(
        stack, f"arn:{{partition}}:execute-api:{{region}}:{{account}}:<{api_id}>/{stage.stage_name}/*/@connections/*"
    )
