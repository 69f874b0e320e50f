"""One stack per `tenants/<slug>.yaml`: the tenant provisioned by the same code as `clawgate tenants apply`,
placeholders for its secrets, its scheduled jobs in its own timezone, and outputs that tell the operator what to
do next. Removing the stack keeps the schema, its data and the secrets."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from aws_cdk import CfnOutput, CustomResource, Environment, RemovalPolicy, Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from clawgate import entrypoints
from clawgate.jobs.schedules import schedules_for
from clawgate.secrets import is_reference, secret_id
from clawgate.tenancy.first_token import first_token_secret
from clawgate.tenancy.model import TenantFile
from clawgate.tenancy.provisioner import FIRST_TOKEN_PROPERTY, TENANT_FILE_PROPERTY
from constructs import Construct

from infra.constructs.functions import TENANT_SECRET_TAG, placeholder_secret
from infra.platform_stack import PARAMETER_PREFIX, PlatformStack

TENANT_RESOURCE_TYPE = "Custom::ClawgateTenant"
WEBHOOK_PREFIX = "/webhooks/"


# EventBridge Scheduler fills this in with the time the schedule fired (ISO 8601).
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


def stack_name_for(slug: str) -> str:
    return f"Clawgate-Tenant-{slug.replace('_', '-')}"


def secret_references(tenant: TenantFile) -> list[str]:
    """Every `secret:<name>` the tenant file mentions, in order, once."""

    def walk(value: object) -> Iterator[str]:
        if isinstance(value, str) and is_reference(value):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    return list(dict.fromkeys(walk(tenant.model_dump(mode="json"))))


class TenantStack(Stack):
    def __init__(
        self, scope: Construct, id: str, *, tenant: TenantFile, platform: PlatformStack, env: Environment | None = None
    ) -> None:
        super().__init__(scope, id, description=f"Clawgate tenant {tenant.slug}: {tenant.name}", env=env)
        self.add_stack_dependency(platform)  # deployed after it (`cdk deploy --all`), without an export between them
        Tags.of(self).add("clawgate:tenant", tenant.slug)
        self.tenant = tenant
        self.secrets = [self._secret(reference) for reference in secret_references(tenant)]
        # The provisioner writes the first gateway token here, once; not tagged as a tenant secret, so no function
        # that serves traffic can read it.
        self.first_token = placeholder_secret(
            self,
            "FirstGatewayTokenSecret",
            name=first_token_secret(tenant.slug),
            description=f"Clawgate tenant {tenant.slug}: the first gateway token (sign-in), written by the platform",
        )
        self.provisioned = CustomResource(
            self,
            "Tenant",
            service_token=self._platform_value("tenant-provisioner-token"),
            resource_type=TENANT_RESOURCE_TYPE,
            properties={
                TENANT_FILE_PROPERTY: json.dumps(tenant.model_dump(mode="json"), sort_keys=True),
                FIRST_TOKEN_PROPERTY: first_token_secret(tenant.slug),
            },
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.provisioned.node.add_dependency(self.first_token)
        self._schedules()
        self._outputs(self._platform_value("http-url"))

    def _platform_value(self, name: str) -> str:
        """A value the platform stack published in SSM, resolved when this stack deploys (no export to lock it)."""
        return ssm.StringParameter.value_for_string_parameter(self, PARAMETER_PREFIX + name)

    def _secret(self, reference: str) -> secretsmanager.Secret:
        name = secret_id(reference)
        secret = placeholder_secret(
            self,
            "Secret" + re.sub(r"[^A-Za-z0-9]", "", name.title()),
            name=name,
            description=f"Clawgate tenant {self.tenant.slug}: {reference}. Placeholder: paste the real value.",
        )
        Tags.of(secret).add(TENANT_SECRET_TAG, "tenant")
        return secret

    def _schedules(self) -> None:
        jobs = schedules_for(self.tenant)  # the same table `clawgate dev` schedules from
        if not jobs:
            return
        state_machine_arn = self._platform_value("jobs-state-machine-arn")
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": self.account}}
            ),
        )
        role.add_to_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[state_machine_arn]))
        group = scheduler.CfnScheduleGroup(self, "Schedules", name=f"clawgate-{self.tenant.slug.replace('_', '-')}")
        for job, cron in jobs.items():
            scheduler.CfnSchedule(
                self,
                "Schedule" + _alphanumeric(job),
                name=job.replace("_", "-"),
                group_name=group.ref,
                description=f"{job} for {self.tenant.slug}",
                schedule_expression=cron,
                schedule_expression_timezone=self.tenant.timezone,
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=state_machine_arn,
                    role_arn=role.role_arn,
                    input=json.dumps({"tenant": self.tenant.slug, "job": job, "scheduled_for": SCHEDULED_TIME}),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_event_age_in_seconds=3600, maximum_retry_attempts=3
                    ),
                ),
            )

    def _outputs(self, http_url: str) -> None:
        CfnOutput(self, "Schema", value=f"tenant_{self.tenant.slug}")
        secret_names = " ".join(secret_id(reference) for reference in secret_references(self.tenant))
        CfnOutput(
            self,
            "SecretsToFill",
            value=secret_names or "(none)",
            description="Secrets Manager names to paste values into",
        )
        CfnOutput(
            self,
            "FirstGatewayToken",
            value=f"aws secretsmanager get-secret-value --secret-id {first_token_secret(self.tenant.slug)}"
            " --query SecretString --output text",
            description="The first gateway token: sign in to the web UI with it, then approve the device",
        )
        for output_id, url in webhook_urls(self.tenant, http_url).items():
            CfnOutput(self, output_id, value=url)
        if self.tenant.channels.messenger or self.tenant.channels.instagram:
            CfnOutput(
                self,
                "SubscribeMetaMessaging",
                value=f"clawgate --aws channels meta subscribe --tenant {self.tenant.slug}",
                description="Subscribes the app to the Pages' messaging webhooks; lists the Instagram fields to enable",
            )
        command = f"clawgate --aws channels telegram set-webhook --tenant {self.tenant.slug}"
        for agent in sorted({account.agent for account in self.tenant.channels.telegram}):
            CfnOutput(
                self,
                "SetTelegramWebhook" + _alphanumeric(agent),
                value=f"{command} --agent {agent} --url {http_url}",
                description="Registers the bot's webhook (and its secret token) with Telegram",
            )
        self._sealed_url_outputs(http_url)

    def _sealed_url_outputs(self, http_url: str) -> None:
        """Slack's Request URL and Discord's endpoint URL carry the tenant's key sealed in them, which needs the
        secret's value: the stack outputs the command that prints them."""
        slug, command = self.tenant.slug, "clawgate --aws channels"
        for agent in sorted({account.agent for account in self.tenant.channels.slack}):
            CfnOutput(
                self,
                "SlackRequestUrl" + _alphanumeric(agent),
                value=f"{command} slack request-url --tenant {slug} --agent {agent} --url {http_url}",
                description="Prints the Events API Request URL to paste into the Slack app",
            )
        for agent in sorted({account.agent for account in self.tenant.channels.discord}):
            CfnOutput(
                self,
                "DiscordRegisterCommands" + _alphanumeric(agent),
                value=f"{command} discord register-commands --tenant {slug} --agent {agent} --url {http_url}",
                description="Registers /ask and prints the Interactions Endpoint URL to paste into Discord",
            )


def webhook_urls(tenant: TenantFile, http_url: str) -> dict[str, str]:
    """Output id -> URL, for the webhook routes of the catalogue that this tenant's channels use."""
    urls: dict[str, str] = {}
    telegram_agents = sorted({account.agent for account in tenant.channels.telegram})
    for path in sorted({route.path for route in entrypoints.HTTP_ROUTES if route.path.startswith(WEBHOOK_PREFIX)}):
        channel = path.removeprefix(WEBHOOK_PREFIX).split("/")[0]
        relative = path.removeprefix("/")
        if channel == "whatsapp" and tenant.channels.whatsapp:
            urls["WhatsAppWebhookUrl"] = http_url + relative
        elif channel == "meta" and (
            (tenant.meta and tenant.meta.page_id) or tenant.channels.messenger or tenant.channels.instagram
        ):
            urls["MetaPageWebhookUrl"] = http_url + relative
        elif channel == "telegram":
            for agent in telegram_agents:
                filled = relative.replace("{tenant}", tenant.slug).replace("{agent}", agent)
                urls["TelegramWebhookUrl" + _alphanumeric(agent)] = http_url + filled
    return urls


def _alphanumeric(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text.title())
