"""S3: blobs (inbound media, report charts, operator creative uploads up to 500 MB as presigned multipart PUTs; the
package keeps them in one store, `CLAWGATE_BLOB_BUCKET`) and the web UI, which CloudFront serves through origin
access control, with a `config.json` naming the WebSocket and HTTP APIs. All private, encrypted, TLS-only,
access-logged and retained."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import (
    Duration,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from infra import nag
from infra.web_csp import WebOrigins, deployed_index

BUCKET_DEPLOYMENT_ACTIONS = ("s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:Abort*", "s3:DeleteObject*")
WEB_CONFIG_FILE = "config.json"


@dataclass(frozen=True)
class WebUiConfig:
    """config.json beside the web UI (tokens resolved at deploy time): web/app.js connects to `websocket_url`;
    `api_url` is the base of the operator API for HTTP calls."""

    websocket_url: str  # wss://... of the WebSocket stage
    api_url: str  # https://... of the HTTP API, ending in a slash

    def as_json(self) -> dict[str, str]:
        return {"websocket_url": self.websocket_url, "api_url": self.api_url}


class Storage(Construct):
    def __init__(self, scope: Construct, id: str, *, web_dir: Path) -> None:
        super().__init__(scope, id)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,  # CloudFront standard logs are written with ACLs
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.web = self._bucket("WebUi")
        self.distribution = cloudfront.Distribution(
            self,
            "WebUiDistribution",
            comment="Clawgate web control UI",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.web),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            ),
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self.access_logs,
            log_file_prefix="cloudfront/",
        )
        nag.acknowledge(self.distribution, "AwsSolutions-CFR1", "AwsSolutions-CFR2", "AwsSolutions-CFR4")
        # Blobs: inbound media, report charts, and operator creative uploads. The browser PUTs each part to its
        # presigned URL and reads the part's ETag for CompleteMultipartUpload, so CORS allows PUT from the web UI
        # and exposes ETag. The inbox reads media previews with fetch() from their presigned URLs: GET from the web
        # UI, no request header needed (the URL is the credential).
        self.blobs = self._bucket(
            "Blobs",
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.PUT],
                    allowed_origins=[self.web_origin],
                    allowed_headers=["*"],
                    exposed_headers=["ETag"],
                    max_age=3600,
                ),
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                    allowed_origins=[self.web_origin],
                    max_age=3600,
                ),
            ],
            lifecycle_rules=[s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(2))],
        )
        self._web_dir = web_dir

    @property
    def web_origin(self) -> str:
        """The web UI's origin, as a browser sends it in `Origin`."""
        return f"https://{self.distribution.distribution_domain_name}"

    def _bucket(
        self, id: str, cors: list[s3.CorsRule] | None = None, lifecycle_rules: list[s3.LifecycleRule] | None = None
    ) -> s3.Bucket:
        return s3.Bucket(
            self,
            id,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"s3/{id.lower()}/",
            removal_policy=RemovalPolicy.RETAIN,
            cors=cors,
            lifecycle_rules=lifecycle_rules,
        )

    @property
    def blob_origin(self) -> str:
        """The origin of the blob bucket's presigned URLs (its regional virtual host: core/blobs.py signs on it)."""
        return f"https://{self.blobs.bucket_regional_domain_name}"

    def deploy_web_ui(self, config: WebUiConfig, origins: WebOrigins) -> s3_deployment.BucketDeployment | None:
        """`web/` and, beside it, the `config.json` that tells the UI where the control plane is, with index.html's
        CSP naming the deployed origins (infra/web_csp.py). One deployment: a second one would prune the other's
        files. CloudFront is invalidated after each change."""
        index = self._web_dir / "index.html"
        if not index.is_file():
            return None
        deployment = s3_deployment.BucketDeployment(
            self,
            "WebUiFiles",
            sources=[
                s3_deployment.Source.asset(str(self._web_dir), exclude=[index.name]),
                s3_deployment.Source.data(index.name, deployed_index(index.read_text(), origins)),
                s3_deployment.Source.json_data(WEB_CONFIG_FILE, config.as_json()),
            ],
            destination_bucket=self.web,
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=256,
        )
        stack = Stack.of(self)
        findings = [f"AwsSolutions-IAM5[Action::{action}]" for action in BUCKET_DEPLOYMENT_ACTIONS]
        findings += [
            nag.resource_finding(self.web, "/*"),
            nag.wildcard_finding(stack, "arn:{partition}:s3:::cdk-hnb659fds-assets-{account}-{region}/*"),
        ]
        nag.acknowledge_as(deployment.handler_role, "BucketDeployment", *findings)
        return deployment
