"""S3: blobs (inbound media, report charts, operator creative uploads up to 500 MB as presigned multipart PUTs; the
package keeps them in one store, `CLAWGATE_BLOB_BUCKET`) and the web UI, which CloudFront serves through origin
access control. All private, encrypted, TLS-only, access-logged and retained."""

from __future__ import annotations

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

BUCKET_DEPLOYMENT_ACTIONS = ("s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:Abort*", "s3:DeleteObject*")


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
        # Blobs: inbound media, report charts, and operator creative uploads (presigned multipart PUTs from the UI).
        self.blobs = self._bucket(
            "Blobs",
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.PUT],
                    allowed_origins=["*"],  # the presigned URL is the credential
                    allowed_headers=["*"],
                    exposed_headers=["ETag"],
                )
            ],
            lifecycle_rules=[s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(2))],
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
        if (web_dir / "index.html").is_file():
            self._deploy_web_ui(web_dir)

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

    def _deploy_web_ui(self, web_dir: Path) -> None:
        deployment = s3_deployment.BucketDeployment(
            self,
            "WebUiFiles",
            sources=[s3_deployment.Source.asset(str(web_dir))],
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
