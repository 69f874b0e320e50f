from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match
from clawgate.jobs.runner import JobRequest
from clawgate.jobs.schedules import DEFAULT_SCHEDULES, schedules_for
from clawgate.secrets import PLACEHOLDER
from clawgate.tenancy.model import parse_tenant

from infra.tenant_stack import TENANT_RESOURCE_TYPE, TenantStack
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

SCHEDULE = "AWS::Scheduler::Schedule"


def tenant_stack(synthesized: Synthesized, slug: str) -> TenantStack:
    (stack,) = [s for s in synthesized.built.tenants if s.tenant.slug == slug]
    return stack


def test_one_stack_per_tenant_file(synthesized: Synthesized) -> None:
    assert sorted(s.tenant.slug for s in synthesized.built.tenants) == ["acme", "bistro_one"]
    assert sorted(s.stack_name for s in synthesized.built.tenants) == [
        "Clawgate-Tenant-acme",
        "Clawgate-Tenant-bistro-one",
    ]


def test_tenant_is_provisioned_by_the_platform_provider_with_its_file(synthesized: Synthesized) -> None:
    stack = tenant_stack(synthesized, "acme")
    resources = synthesized.template_json(stack)["Resources"]
    (custom,) = [r for r in resources.values() if r["Type"] == TENANT_RESOURCE_TYPE]
    assert platform_parameter(synthesized, stack, custom["Properties"]["ServiceToken"]) == (
        "/clawgate/platform/tenant-provisioner-token"
    )
    assert parse_tenant(json.loads(custom["Properties"]["TenantFile"])) == stack.tenant


def test_removing_the_stack_retains_the_tenant_and_its_secrets(synthesized: Synthesized) -> None:
    """Secrets have fixed names: kept on deletion, but removed when their own creation is rolled back."""
    for stack in synthesized.built.tenants:
        resources = synthesized.template_json(stack)["Resources"]
        (tenant,) = [r for r in resources.values() if r["Type"] == TENANT_RESOURCE_TYPE]
        assert tenant["DeletionPolicy"] == tenant["UpdateReplacePolicy"] == "Retain"
        secrets = [r for r in resources.values() if r["Type"] == "AWS::SecretsManager::Secret"]
        assert secrets
        for secret in secrets:
            assert secret["DeletionPolicy"] == "RetainExceptOnCreate"
            assert secret["UpdateReplacePolicy"] == "Retain"
            assert secret["Properties"]["SecretString"] == PLACEHOLDER  # not a random string that looks real


def test_a_placeholder_secret_per_reference(synthesized: Synthesized) -> None:
    template = synthesized.template(tenant_stack(synthesized, "acme"))
    names = {s["Properties"]["Name"] for s in template.find_resources("AWS::SecretsManager::Secret").values()}
    references = {"clawgate/acme/whatsapp", "clawgate/acme/telegram-director", "clawgate/acme/meta"}
    assert names == references | {"clawgate/acme/gateway-token"}  # the first sign-in token (test_operator_access)
    template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {"Tags": Match.array_with([{"Key": "clawgate:scope", "Value": "tenant"}])},
    )


def platform_parameter(synthesized: Synthesized, stack: TenantStack, value: dict[str, str]) -> str:
    """The SSM parameter name behind a `{"Ref": <template parameter>}` (resolved when the stack deploys)."""
    parameter = synthesized.template_json(stack)["Parameters"][value["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    return str(parameter["Default"])


def schedule_inputs(synthesized: Synthesized, slug: str) -> dict[str, dict[str, object]]:
    """Job name -> the schedule's target input."""
    template = synthesized.template(tenant_stack(synthesized, slug))
    inputs = [json.loads(s["Properties"]["Target"]["Input"]) for s in template.find_resources(SCHEDULE).values()]
    return {str(value["job"]): value for value in inputs}


def test_schedules_run_in_the_tenants_timezone_against_the_jobs_workflow(synthesized: Synthesized) -> None:
    stack = tenant_stack(synthesized, "acme")
    schedules = synthesized.template(stack).find_resources(SCHEDULE)
    wanted = schedules_for(stack.tenant)
    assert len(schedules) == len(wanted)
    for schedule in schedules.values():
        properties = schedule["Properties"]
        assert properties["ScheduleExpressionTimezone"] == "Asia/Almaty"
        assert properties["ScheduleExpression"] == wanted[json.loads(properties["Target"]["Input"])["job"]]
        assert platform_parameter(synthesized, stack, properties["Target"]["Arn"]) == (
            "/clawgate/platform/jobs-state-machine-arn"
        )
        assert json.loads(properties["Target"]["Input"])["tenant"] == "acme"
    assert {"metrics_sync", "morning_report"} <= set(schedule_inputs(synthesized, "acme"))


def test_tenant_overrides_and_the_opt_in_heartbeat_reach_the_schedules(synthesized: Synthesized) -> None:
    stack = tenant_stack(synthesized, "acme")
    jobs = set(schedule_inputs(synthesized, "acme"))
    assert "heartbeat" in jobs  # ads.heartbeat: true
    assert "scoring" not in jobs  # ads.schedules.scoring: off
    expressions = {
        json.loads(s["Properties"]["Target"]["Input"])["job"]: s["Properties"]["ScheduleExpression"]
        for s in synthesized.template(stack).find_resources(SCHEDULE).values()
    }
    assert expressions["morning_report"] == "cron(0 8 ? * MON-FRI *)"
    assert expressions["heartbeat"] == DEFAULT_SCHEDULES["heartbeat"]


def test_every_schedule_says_which_slot_it_fires_for(synthesized: Synthesized) -> None:
    """The jobs table is unique on (name, scheduled_for): a schedule that fires twice runs its job once."""
    inputs = schedule_inputs(synthesized, "acme")
    assert inputs
    for job, value in inputs.items():
        assert value["scheduled_for"] == "<aws.scheduler.scheduled-time>", job
        assert JobRequest.model_validate({**value, "scheduled_for": "2026-05-04T09:00:00Z"}).job == job


def test_tenant_without_an_ad_account_has_no_schedules(synthesized: Synthesized) -> None:
    template = synthesized.template(tenant_stack(synthesized, "bistro_one"))
    template.resource_count_is("AWS::Scheduler::Schedule", 0)


def test_outputs_tell_the_operator_what_to_do(synthesized: Synthesized) -> None:
    outputs = synthesized.template_json(tenant_stack(synthesized, "acme"))["Outputs"]
    assert (
        outputs["SecretsToFill"]["Value"] == "clawgate/acme/whatsapp clawgate/acme/telegram-director clawgate/acme/meta"
    )
    assert "WhatsAppWebhookUrl" in outputs
    telegram_url = json.dumps(outputs["TelegramWebhookUrlDirector"]["Value"])
    assert "webhooks/telegram/acme/director" in telegram_url
    command = json.dumps(outputs["SetTelegramWebhookDirector"]["Value"])
    assert "clawgate --aws channels telegram set-webhook --tenant acme --agent director --url" in command


def test_slack_and_discord_accounts_output_the_commands_that_print_their_urls(synthesized: Synthesized) -> None:
    """Their request URLs carry the tenant's key sealed in (it needs the secret's value): the stack says how."""
    outputs = synthesized.template_json(tenant_stack(synthesized, "bistro_one"))["Outputs"]
    slack = json.dumps(outputs["SlackRequestUrlHost"]["Value"])
    assert "clawgate --aws channels slack request-url --tenant bistro_one --agent host --url" in slack
    discord = json.dumps(outputs["DiscordRegisterCommandsHost"]["Value"])
    assert "clawgate --aws channels discord register-commands --tenant bistro_one --agent host --url" in discord
    assert {"clawgate/bistro_one/slack-bot", "clawgate/bistro_one/slack-signing", "clawgate/bistro_one/discord"} <= set(
        outputs["SecretsToFill"]["Value"].split()
    )
    assert "SlackRequestUrlHost" not in synthesized.template_json(tenant_stack(synthesized, "acme"))["Outputs"]


def test_messenger_and_instagram_tokens_are_tenant_secrets_and_the_subscription_is_an_output(
    synthesized: Synthesized,
) -> None:
    stack = tenant_stack(synthesized, "bistro_one")
    outputs = synthesized.template_json(stack)["Outputs"]
    assert {"clawgate/bistro_one/page", "clawgate/bistro_one/instagram"} <= set(
        outputs["SecretsToFill"]["Value"].split()
    )
    assert "webhooks/meta" in json.dumps(outputs["MetaPageWebhookUrl"]["Value"])
    assert outputs["SubscribeMetaMessaging"]["Value"] == "clawgate --aws channels meta subscribe --tenant bistro_one"
    names = [
        s["Properties"]["Name"]
        for s in synthesized.template(stack).find_resources("AWS::SecretsManager::Secret").values()
    ]
    assert {"clawgate/bistro_one/page", "clawgate/bistro_one/instagram"} <= set(names)
