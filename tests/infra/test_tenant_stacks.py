from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match
from clawgate.jobs.schedules import schedules_for
from clawgate.tenancy.model import parse_tenant

from infra.tenant_stack import TENANT_RESOURCE_TYPE, TenantStack
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra


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
    assert custom["Properties"]["ServiceToken"]["Fn::ImportValue"].startswith("Clawgate:")
    assert parse_tenant(json.loads(custom["Properties"]["TenantFile"])) == stack.tenant


def test_removing_the_stack_retains_the_tenant_and_its_secrets(synthesized: Synthesized) -> None:
    for stack in synthesized.built.tenants:
        resources = synthesized.template_json(stack)["Resources"]
        holding_data = [
            r for r in resources.values() if r["Type"] in (TENANT_RESOURCE_TYPE, "AWS::SecretsManager::Secret")
        ]
        assert holding_data
        for resource in holding_data:
            assert resource["DeletionPolicy"] == "Retain"
            assert resource["UpdateReplacePolicy"] == "Retain"


def test_a_placeholder_secret_per_reference(synthesized: Synthesized) -> None:
    template = synthesized.template(tenant_stack(synthesized, "acme"))
    names = {s["Properties"]["Name"] for s in template.find_resources("AWS::SecretsManager::Secret").values()}
    assert names == {"clawgate/acme/whatsapp", "clawgate/acme/telegram-director", "clawgate/acme/meta"}
    template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {"Tags": Match.array_with([{"Key": "clawgate:scope", "Value": "tenant"}])},
    )


def test_schedules_run_in_the_tenants_timezone_against_the_jobs_workflow(synthesized: Synthesized) -> None:
    stack = tenant_stack(synthesized, "acme")
    schedules = synthesized.template(stack).find_resources("AWS::Scheduler::Schedule")
    wanted = schedules_for(stack.tenant)
    assert len(schedules) == len(wanted)
    for schedule in schedules.values():
        properties = schedule["Properties"]
        assert properties["ScheduleExpressionTimezone"] == "Asia/Almaty"
        assert properties["ScheduleExpression"] == wanted[json.loads(properties["Target"]["Input"])["job"]]
        assert properties["Target"]["Arn"]["Fn::ImportValue"].startswith("Clawgate:")
        assert json.loads(properties["Target"]["Input"])["tenant"] == "acme"
    jobs = {json.loads(s["Properties"]["Target"]["Input"])["job"] for s in schedules.values()}
    assert {"metrics_sync", "morning_report"} <= jobs


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
    assert "clawgate channels telegram set-webhook --tenant acme --agent director --url" in command
