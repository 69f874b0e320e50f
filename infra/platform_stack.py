"""The platform: everything tenants share. One per account and region.

Tenant stacks find what they need of it (the provisioner's service token, the jobs state machine, the HTTP API's
URL) in SSM parameters under PARAMETER_PREFIX, resolved when each tenant stack deploys; a CloudFormation export
would forbid changing or replacing those resources for as long as any tenant stack imports them."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnDeletionPolicy, CfnOutput, Environment, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra import nag
from infra.assets import Assets
from infra.constructs.apis import Apis
from infra.constructs.database import Database
from infra.constructs.functions import Functions, PlatformSecrets
from infra.constructs.monitoring import Monitoring
from infra.constructs.network import Network
from infra.constructs.provisioning import Provisioning
from infra.constructs.queues import Queues
from infra.constructs.storage import Storage, WebUiConfig
from infra.constructs.workflows import JOBS, Workflows
from infra.function_settings import PLATFORM_SECRETS
from infra.project import ADMIN, Project
from infra.web_csp import WebOrigins

PARAMETER_PREFIX = "/clawgate/platform/"
ADMIN_FUNCTION_PARAMETER = PARAMETER_PREFIX + "admin-function-name"  # read by clawgate/cli/admin.py
SHARED_WITH_TENANTS = ("tenant-provisioner-token", "jobs-state-machine-arn", "http-url")

STACK_WIDE_FINDINGS = (
    f"AwsSolutions-IAM4[{nag.BASIC_EXECUTION_POLICY}]",
    f"AwsSolutions-IAM4[{nag.VPC_ACCESS_POLICY}]",
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-L1",
)


class PlatformStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        project: Project,
        assets: Assets,
        availability_zones: Sequence[str],
        rds_proxy: bool = True,
        aurora_version: str | None = None,
        env: Environment | None = None,
    ) -> None:
        super().__init__(
            scope, id, description="Clawgate platform: APIs, functions, queues, workflows, Aurora", env=env
        )
        project.check_functions()
        nag.acknowledge(self, *STACK_WIDE_FINDINGS)
        self.network = Network(self, "Network", availability_zones=availability_zones, rds_proxy=rds_proxy)
        self.database = Database(
            self,
            "Database",
            network=self.network,
            rds_proxy=rds_proxy,
            **({"version": aurora_version} if aurora_version else {}),
        )
        self.storage = Storage(self, "Storage", web_dir=project.web_dir)
        self.platform_secrets = PlatformSecrets(self, "PlatformSecrets")
        self.functions = Functions(
            self,
            "Functions",
            assets=assets,
            network=self.network,
            database=self.database,
            platform_secrets=self.platform_secrets,
        )
        self.queues = Queues(self, "Queues")
        for name, queue in self.queues.by_name.items():
            self.functions.grant_queue(name, queue)
        self.apis = Apis(self, "Apis", functions=self.functions, web_origin=self.storage.web_origin)
        self.web_ui = self.storage.deploy_web_ui(
            WebUiConfig(websocket_url=self.apis.websocket_stage.url, api_url=self.apis.http_url),
            WebOrigins(api=self.apis.http.api_endpoint, websocket=self.apis.websocket.api_endpoint,
                       blobs=self.storage.blob_origin),
        )  # fmt: skip
        self.functions.grant_connections(self.apis.websocket_stage)
        self.functions.grant_blobs(self.storage.blobs)
        self.workflows = Workflows(self, "Workflows", project=project, functions=self.functions)
        self.queues.connect_consumers(self.functions, self.workflows.by_name)
        self.provisioning = Provisioning(
            self, "Provisioning", project=project, functions=self.functions, database=self.database
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            queues=self.queues,
            workflows=self.workflows,
            apis=self.apis,
            database=self.database,
            functions=self.functions,
        )
        self._outputs()
        self._share_with_tenants()
        _no_retained_log_groups(self)

    def _share_with_tenants(self) -> None:
        values = {
            "tenant-provisioner-token": self.provisioning.service_token,
            "jobs-state-machine-arn": self.workflows.by_name[JOBS].state_machine_arn,
            "http-url": self.apis.http_url,
        }
        ssm.StringParameter(
            self,
            "SharedAdminFunctionName",
            parameter_name=ADMIN_FUNCTION_PARAMETER,
            string_value=self.functions.by_name[ADMIN].function_name,
            description="The function `clawgate --aws …` invokes",
        )
        for name in SHARED_WITH_TENANTS:
            ssm.StringParameter(
                self,
                "Shared" + name.title().replace("-", ""),
                parameter_name=PARAMETER_PREFIX + name,
                string_value=values[name],
                description=f"Clawgate platform {name}, read by tenant stacks at deploy time",
            )

    def _outputs(self) -> None:
        CfnOutput(self, "HttpApiUrl", value=self.apis.http_url, description="Base URL of webhooks and operator API")
        CfnOutput(self, "WebSocketUrl", value=self.apis.websocket_stage.url, description="Control plane (wss://)")
        CfnOutput(self, "WebUiUrl", value=f"https://{self.storage.distribution.distribution_domain_name}/")
        CfnOutput(
            self,
            "AdminFunctionName",
            value=self.functions.by_name[ADMIN].function_name,
            description="clawgate --aws … invokes it; grant operators lambda:InvokeFunction on it",
        )
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn, description="Subscribe to get alarms")
        CfnOutput(
            self,
            "PlatformSecretsToFill",
            value=" ".join(spec.secret_name for spec in PLATFORM_SECRETS.values()),
            description="Secrets Manager names to fill after the first deploy",
        )


def _no_retained_log_groups(stack: Stack) -> None:
    """CDK's own helpers (the web UI's bucket deployment) keep their log groups; ours are removed with the stack."""
    for child in stack.node.find_all():
        if isinstance(child, logs.CfnLogGroup) and child.cfn_options.deletion_policy == CfnDeletionPolicy.RETAIN:
            child.cfn_options.deletion_policy = CfnDeletionPolicy.DELETE
            child.cfn_options.update_replace_policy = CfnDeletionPolicy.DELETE
