"""cdk-nag (AwsSolutions) acknowledgements. Every finding we accept is named here once, with the reason a reviewer
reads in the validation report; constructs call `acknowledge(scope, FINDING)`."""

from __future__ import annotations

from typing import cast

from aws_cdk import Acknowledgment, App, CfnElement, Stack, Token, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PACK = "AwsSolutions"
BASIC_EXECUTION_POLICY = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VPC_ACCESS_POLICY = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
PUSH_TO_CLOUDWATCH_POLICY = (
    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
)

REASONS: dict[str, str] = {
    f"AwsSolutions-IAM4[{BASIC_EXECUTION_POLICY}]": (
        "AWSLambdaBasicExecutionRole only allows writing the function's own CloudWatch Logs; an inline copy would be "
        "identical and drift from AWS's maintained version."
    ),
    f"AwsSolutions-IAM4[{VPC_ACCESS_POLICY}]": (
        "AWSLambdaVPCAccessExecutionRole only manages the ENIs Lambda needs to attach the function to the VPC "
        "(ec2:*NetworkInterface* on *), which cannot be scoped to resources that do not exist yet."
    ),
    f"AwsSolutions-IAM4[{PUSH_TO_CLOUDWATCH_POLICY}]": (
        "The account's API Gateway CloudWatch role is what AWS documents for API Gateway logging; its managed policy "
        "only creates and writes log groups and streams, and is AWS-maintained."
    ),
    "AwsSolutions-RDS10": (
        "Deletion protection would block CloudFormation from removing the cluster when its own creation is rolled "
        "back, so a failed first deploy could not be retried. The cluster is kept on stack deletion and replacement "
        "(DeletionPolicy RetainExceptOnCreate); docs/deploy.md shows how to turn protection on after the first deploy."
    ),
    "AwsSolutions-IAM5[Resource::*]": (
        "Only X-Ray (PutTraceSegments/PutTelemetryRecords) and Step Functions' CloudWatch Logs delivery APIs are "
        "granted on *: those APIs do not support resource-level permissions."
    ),
    "AwsSolutions-L1": (
        "Functions run Python 3.12 on purpose: the dependency layer's wheels and the shipped __pycache__ are built "
        "for 3.12, and SnapStart supports it. CDK-provided helper functions use the runtime CDK pins."
    ),
    "AwsSolutions-SMG4": (
        "Tenant and platform secrets are tokens issued by Meta, Telegram and Anthropic: they are rotated at the "
        "provider and pasted in; a rotation Lambda cannot mint them."
    ),
    "AwsSolutions-APIG4": (
        "Webhook routes are called by Meta and Telegram, which cannot present AWS credentials or JWTs: each handler "
        "authenticates the request itself (X-Hub-Signature-256 HMAC, Telegram secret token, bearer gateway token) "
        "before anything is enqueued."
    ),
    "AwsSolutions-CFR1": "The web UI is for the agency's operators wherever they travel; access needs a gateway token.",
    "AwsSolutions-CFR2": (
        "The web UI is static files; every data request goes over the WebSocket API with a gateway token and "
        "throttling. WAF ($5/month + rules) can be added when a custom domain is set up."
    ),
    "AwsSolutions-CFR4": (
        "The distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes the TLS policy; "
        "a custom domain with TLSv1.2_2021 is a documented follow-up in docs/deploy.md."
    ),
    "AwsSolutions-SMG4[database]": (
        "The master secret is read once per warm container by the connection pool, which does not refresh "
        "credentials yet; rotation would break new connections until containers recycle. Enable it with the pool "
        "change (tracked in docs/deploy.md)."
    ),
    "TenantSecrets": (
        "Tenant secrets are created by tenant stacks after the platform exists, so their ARNs are unknown here; the "
        "statement is limited to names under clawgate/ AND to secrets tagged clawgate:scope=tenant."
    ),
    "FirstTokens": (
        "The tenant provisioner writes each new tenant's first gateway token into that tenant's "
        "clawgate/<slug>/gateway-token secret, whose ARN suffix is random: only those secrets, read and put."
    ),
    "Executions": (
        "Running a Standard workflow synchronously means watching its execution; execution names are generated, "
        "so the grant is DescribeExecution on this one state machine's executions."
    ),
    "BedrockModels": "The model is chosen per agent in tenant files; only Anthropic models on Bedrock may be invoked.",
    "BedrockProfiles": "Cross-region inference profiles are named by the tenant's model choice; invoke only.",
    "Connections": (
        "@connections ids exist only at run time; the grant is limited to this API's stage and its @connections routes."
    ),
    "BucketObjects": (
        "Object keys are <tenant>/<area>/<name>, known only at run time; each grant is one key area (media, reports "
        "or creatives) of this one bucket, with only the object actions the function performs there."
    ),
    "BucketDeployment": (
        "CDK's BucketDeployment copies the web UI asset from the CDK asset bucket into the web bucket; its role is "
        "limited to those two buckets, and the wildcards are object keys and read/write action groups there."
    ),
    "ProviderInvoke": (
        "The CDK provider framework invokes the tenant provisioner (any published version); it can invoke nothing else."
    ),
    "Annotation::@aws-cdk/aws-lambda:snapStartRequirePublish": (
        "The function is invoked only through its `live` alias, which publishes a version on every code change."
    ),
}


def acknowledge(scope: IConstruct, *findings: str) -> None:
    """Acknowledge known findings on a construct (and everything below it) with their recorded reasons."""
    for finding in findings:
        acknowledge_as(scope, finding, finding)


def acknowledge_as(scope: IConstruct, reason_key: str, *findings: str) -> None:
    """For findings whose id embeds a logical id or an ARN (IAM5 wildcards), with a recorded reason.

    The `AwsSolutions::` prefix makes CDK (not cdk-nag) apply the acknowledgement, so the validation report keeps
    each suppressed finding with its reason: the audit trail a reviewer reads."""
    for finding in findings:
        qualified = f"{PACK}::{finding}" if finding.startswith(f"{PACK}-") else finding
        Validations.of(scope).acknowledge(Acknowledgment(id=qualified, reason=REASONS[reason_key]))


def wildcard_finding(stack: Stack, arn: str) -> str:
    """The IAM5 finding id cdk-nag reports for a resource ARN written with {partition}, {region}, {account}."""
    rendered = arn.format(
        partition=_literal_or(stack.partition, "<AWS::Partition>"),
        region=_literal_or(stack.region, "<AWS::Region>"),
        account=_literal_or(stack.account, "<AWS::AccountId>"),
    )
    return f"AwsSolutions-IAM5[Resource::{rendered}]"


def _literal_or(value: str, placeholder: str) -> str:
    return placeholder if Token.is_unresolved(value) else value


def resource_finding(construct: IConstruct, suffix: str) -> str:
    """`AwsSolutions-IAM5[Resource::<LogicalId.Arn>/*]` for a wildcard under a construct's ARN."""
    return f"AwsSolutions-IAM5[Resource::<{logical_id(construct)}.Arn>{suffix}]"


def logical_id(construct: IConstruct) -> str:
    """The logical id of a construct's CloudFormation resource, as cdk-nag prints it."""
    stack = Stack.of(construct)
    return str(stack.resolve(stack.get_logical_id(cast(CfnElement, construct.node.default_child))))


def enable_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
