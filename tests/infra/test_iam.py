"""Least privilege, read off the synthesised template: what each function's role may do."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import aws_lambda as lambda_
from clawgate import entrypoints

from infra.function_settings import PLATFORM_SECRETS, settings_for
from infra.nag import logical_id
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

WEBHOOKS = sorted({route.function for route in entrypoints.HTTP_ROUTES if route.path.startswith("/webhooks/")})
WEBHOOK_ACTIONS = {
    "sqs:SendMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}


def role_statements(synthesized: Synthesized, function: lambda_.Function) -> list[dict[str, Any]]:
    resources = synthesized.template_json(synthesized.built.platform)["Resources"]
    role = logical_id(function.role)  # type: ignore[arg-type]
    return [
        statement
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in _listed(s["Action"])}


def resources_of(statement: dict[str, Any]) -> list[Any]:
    return _listed(statement["Resource"])


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def database_secret_ids(synthesized: Synthesized) -> set[str]:
    """Every database credential: the master secret (and its attachment), each login's, the query key."""
    resources = synthesized.template_json(synthesized.built.platform)["Resources"]
    attachments = {k: v for k, v in resources.items() if v["Type"] == "AWS::SecretsManager::SecretTargetAttachment"}
    database = synthesized.built.platform.database
    logins = {logical_id(s) for s in (database.owner_secret, database.app_secret, database.query_key)}
    return set(attachments) | {a["Properties"]["SecretId"]["Ref"] for a in attachments.values()} | logins


@pytest.mark.parametrize("name", WEBHOOKS)
def test_webhook_cannot_read_the_database_secret(synthesized: Synthesized, name: str) -> None:
    function = synthesized.built.platform.functions.by_name[name]
    statements = json.dumps(role_statements(synthesized, function))
    assert database_secret_ids(synthesized)
    for secret in database_secret_ids(synthesized):
        assert secret not in statements
    assert "clawgate/*" not in statements  # no tenant secrets either


@pytest.mark.parametrize("name", WEBHOOKS)
def test_webhook_only_sends_to_its_queue_and_reads_its_secret(synthesized: Synthesized, name: str) -> None:
    platform = synthesized.built.platform
    function = platform.functions.by_name[name]
    statements = role_statements(synthesized, function)
    assert actions_of(statements) <= WEBHOOK_ACTIONS
    queues = [{"Fn::GetAtt": [logical_id(platform.queues.by_name[q]), "Arn"]} for q in settings_for(name).sends_to]
    sends = [s for s in statements if "sqs:SendMessage" in s["Action"]]
    assert queues and sends and all(resources_of(s) == queues for s in sends)
    readable = {
        json.dumps(r) for s in statements if "secretsmanager:GetSecretValue" in s["Action"] for r in resources_of(s)
    }
    platform_secrets = {logical_id(secret) for secret in platform.platform_secrets.by_name.values()}
    assert readable and all(any(secret in r for secret in platform_secrets) for r in readable)


@pytest.mark.parametrize("name", WEBHOOKS)
def test_webhook_runs_outside_the_vpc(synthesized: Synthesized, name: str) -> None:
    function = synthesized.built.platform.functions.by_name[name]
    resources = synthesized.template_json(synthesized.built.platform)["Resources"]
    properties = resources[logical_id(function)]["Properties"]
    assert "VpcConfig" not in properties
    assert "CLAWGATE_DATABASE_SECRET_ARN" not in properties["Environment"]["Variables"]


@pytest.mark.parametrize("name", sorted(entrypoints.MODEL_FUNCTIONS))
def test_model_function_can_read_the_model_key(synthesized: Synthesized, name: str) -> None:
    platform = synthesized.built.platform
    statements = role_statements(synthesized, platform.functions.by_name[name])
    model_key = logical_id(platform.platform_secrets.by_name["anthropic"])
    assert PLATFORM_SECRETS["anthropic"].secret_name == "clawgate/platform/anthropic"
    assert any(
        "secretsmanager:GetSecretValue" in s["Action"] and {"Ref": model_key} in resources_of(s) for s in statements
    )


def test_tenant_secrets_are_limited_to_tenant_tagged_secrets(synthesized: Synthesized) -> None:
    platform = synthesized.built.platform
    statements = role_statements(synthesized, platform.functions.by_name["turn_deliver"])
    (tenant,) = [s for s in statements if "clawgate/*" in json.dumps(resources_of(s))]
    assert tenant["Action"] == "secretsmanager:GetSecretValue"
    assert tenant["Condition"] == {"StringEquals": {"aws:ResourceTag/clawgate:scope": "tenant"}}


def test_state_machine_may_invoke_only_its_task_functions(synthesized: Synthesized) -> None:
    platform = synthesized.built.platform
    state_machine = platform.workflows.by_name["agent_turn"]
    resources = synthesized.template_json(platform)["Resources"]
    role = logical_id(state_machine.role)
    invoke = [
        statement
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "lambda:InvokeFunction"
    ]
    tasks = set(entrypoints.WORKFLOW_TASKS["agent_turn"].values())
    if not tasks:
        assert not invoke
        return
    (statement,) = invoke
    assert len(resources_of(statement)) == len(tasks)
    assert "*" not in json.dumps(resources_of(statement))
