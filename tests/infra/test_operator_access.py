"""The deployed system's operator path: the admin function is reachable only through lambda:Invoke (IAM), runs
workflows, and is where `clawgate --aws` finds it; each tenant stack leaves a first gateway token in a secret only
the provisioner may write and no traffic-serving function may read."""

from __future__ import annotations

import json

import pytest
from clawgate.cli.admin import FUNCTION_PARAMETER
from clawgate.tenancy.first_token import first_token_secret

from infra.nag import logical_id
from infra.platform_stack import ADMIN_FUNCTION_PARAMETER
from infra.project import ADMIN
from tests.infra.conftest import Synthesized
from tests.infra.test_function_access import statements_of
from tests.infra.test_iam import actions_of

pytestmark = pytest.mark.infra


def test_the_admin_function_has_no_route_and_no_resource_policy(synthesized: Synthesized) -> None:
    platform = synthesized.built.platform
    resources = synthesized.template_json(platform)["Resources"]
    admin = logical_id(platform.functions.by_name[ADMIN])
    for resource in resources.values():
        if resource["Type"] in ("AWS::Lambda::Permission", "AWS::ApiGatewayV2::Integration"):
            assert admin not in json.dumps(resource)
    assert FUNCTION_PARAMETER == ADMIN_FUNCTION_PARAMETER
    (parameter,) = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::SSM::Parameter" and r["Properties"]["Name"] == ADMIN_FUNCTION_PARAMETER
    ]
    assert parameter["Properties"]["Value"] == {"Ref": admin}


def test_the_admin_function_runs_turn_replays_and_jobs(synthesized: Synthesized) -> None:
    actions = actions_of(statements_of(synthesized, ADMIN))
    assert {"states:StartSyncExecution", "states:StartExecution", "states:DescribeExecution"} <= actions
    assert not {a for a in actions if a.startswith(("s3:", "sqs:", "bedrock:"))}


def test_the_run_api_starts_turns_instead_of_waiting_on_them(synthesized: Synthesized) -> None:
    actions = actions_of(statements_of(synthesized, "agent_run"))
    assert "states:StartExecution" in actions


def test_each_tenant_stack_outputs_where_its_first_token_is(synthesized: Synthesized) -> None:
    for stack in synthesized.built.tenants:
        template = synthesized.template_json(stack)
        name = first_token_secret(stack.tenant.slug)
        (secret,) = [
            r
            for r in template["Resources"].values()
            if r["Type"] == "AWS::SecretsManager::Secret" and r["Properties"]["Name"] == name
        ]
        assert "clawgate:scope" not in json.dumps(secret.get("Properties", {}).get("Tags", []))  # no turn reads it
        (tenant,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::ClawgateTenant"]
        assert tenant["Properties"]["FirstTokenSecret"] == name
        assert name in template["Outputs"]["FirstGatewayToken"]["Value"]


def test_only_the_provisioner_may_write_first_tokens(synthesized: Synthesized) -> None:
    for name in synthesized.built.platform.functions.by_name:
        writes = "secretsmanager:PutSecretValue" in actions_of(statements_of(synthesized, name))
        assert writes == (name == "tenant_provisioner"), name
    statements = statements_of(synthesized, "tenant_provisioner")
    (put,) = [s for s in statements if "secretsmanager:PutSecretValue" in s["Action"]]
    assert json.dumps(put["Resource"]).endswith(':secret:clawgate/*/gateway-token-*"]]}')
