"""What a first `cdk deploy --all` in a fresh account needs, read from the synthesized templates: each test here
is a deploy failure (or a stuck retry) that the templates alone would otherwise only show in an AWS account."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.constructs.database import engine_version
from infra.constructs.queues import PIPE_BATCH_SIZE
from infra.function_settings import settings_for
from infra.nag import logical_id
from infra.platform_stack import ADMIN_FUNCTION_PARAMETER, PARAMETER_PREFIX, SHARED_WITH_TENANTS
from infra.project import REPO_ROOT
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

# Properties that give a resource a physical name of our choosing (a retry after a failed create collides on them).
FIXED_NAME_PROPERTIES = {
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::SSM::Parameter": "Name",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
}


def resources(synthesized: Synthesized, stack: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = synthesized.template_json(stack)["Resources"]
    return found


def all_stacks(synthesized: Synthesized) -> list[Any]:
    return [synthesized.built.platform, *synthesized.built.tenants]


def depends_on(resource: dict[str, Any]) -> set[str]:
    value = resource.get("DependsOn", [])
    return {value} if isinstance(value, str) else set(value)


def test_access_logged_stages_wait_for_the_accounts_cloudwatch_role(synthesized: Synthesized) -> None:
    """API Gateway refuses access logging until the account has a CloudWatch role; fresh accounts have none."""
    found = resources(synthesized, synthesized.built.platform)
    logged = {k: r for k, r in found.items() if r["Type"].startswith("AWS::ApiGateway") and _logs(r)}
    assert logged, "the stages log access"
    (account_id,) = [k for k, r in found.items() if r["Type"] == "AWS::ApiGateway::Account"]
    role_ref = found[account_id]["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = found[role_ref]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    assert "AmazonAPIGatewayPushToCloudWatchLogs" in json.dumps(role["Properties"]["ManagedPolicyArns"])
    assert role["DeletionPolicy"] != "Delete"  # other APIs of the account may log through it
    for stage_id, stage in logged.items():
        assert account_id in depends_on(stage), stage_id


def _logs(resource: dict[str, Any]) -> bool:
    return bool(resource["Properties"].get("AccessLogSettings") or resource["Properties"].get("AccessLogSetting"))


def test_a_pipe_is_created_after_its_roles_policy(synthesized: Synthesized) -> None:
    """Pipes validates the role's permissions when the Pipe is created: the policy must exist by then."""
    found = resources(synthesized, synthesized.built.platform)
    pipes = {k: r for k, r in found.items() if r["Type"] == "AWS::Pipes::Pipe"}
    assert pipes
    for pipe_id, pipe in pipes.items():
        role = pipe["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        policies = [k for k, r in found.items() if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in _roles(r)]
        assert policies, pipe_id
        assert set(policies) <= depends_on(pipe), pipe_id


def _roles(policy: dict[str, Any]) -> list[Any]:
    roles: list[Any] = policy["Properties"].get("Roles", [])
    return roles


def test_fixed_names_are_never_retained_when_their_creation_fails(synthesized: Synthesized) -> None:
    """A `Retain` resource with a fixed name outlives a rolled-back first deploy, and the retry then fails with
    "already exists". Such resources are retained on deletion only (RetainExceptOnCreate), or deleted."""
    checked = 0
    for stack in all_stacks(synthesized):
        for resource_id, resource in resources(synthesized, stack).items():
            name = FIXED_NAME_PROPERTIES.get(resource["Type"])
            if name is None or name not in resource.get("Properties", {}):
                continue
            checked += 1
            assert resource.get("DeletionPolicy", "Delete") != "Retain", f"{stack.stack_name} {resource_id}"
    assert checked >= 10  # the platform and tenant secrets, parameters, schedules


def test_no_log_group_is_left_behind(synthesized: Synthesized) -> None:
    for stack in all_stacks(synthesized):
        for resource_id, resource in resources(synthesized, stack).items():
            if resource["Type"] == "AWS::Logs::LogGroup":
                assert resource.get("DeletionPolicy", "Delete") == "Delete", resource_id


def test_the_master_secret_is_kept_with_the_cluster(synthesized: Synthesized) -> None:
    """A kept cluster whose master secret went with the stack is a database nobody can log in to."""
    found = resources(synthesized, synthesized.built.platform)
    (cluster,) = [r for r in found.values() if r["Type"] == "AWS::RDS::DBCluster"]
    assert "DBClusterIdentifier" not in cluster["Properties"]  # generated: a retry never collides
    password = json.dumps(cluster["Properties"]["MasterUserPassword"])
    (secret_id,) = set(re.findall(r'"Ref": "([A-Za-z0-9]+)"', password))
    secret = found[secret_id]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert "Name" not in secret["Properties"]
    kept = ("DeletionPolicy", "UpdateReplacePolicy")
    assert [secret.get(k) for k in kept] == [cluster.get(k) for k in kept] == ["RetainExceptOnCreate", "Retain"]
    attachments = [r for r in found.values() if r["Type"] == "AWS::SecretsManager::SecretTargetAttachment"]
    assert all(a.get("DeletionPolicy") == "RetainExceptOnCreate" for a in attachments)
    # Deletion protection would make CloudFormation's rollback of a failed create fail in turn.
    assert cluster["Properties"]["DeletionProtection"] is False


def test_the_aurora_version_is_a_setting_not_a_pin(synthesized: Synthesized) -> None:
    found = resources(synthesized, synthesized.built.platform)
    (cluster,) = [r for r in found.values() if r["Type"] == "AWS::RDS::DBCluster"]
    configured = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["clawgate:auroraVersion"]
    assert cluster["Properties"]["EngineVersion"] == configured == synthesized.built.platform.database.version
    assert engine_version("16.9").to_string() if hasattr(engine_version("16.9"), "to_string") else True
    with pytest.raises(ValueError):
        engine_version("latest")


def test_tenant_stacks_depend_on_the_platform_without_exports(synthesized: Synthesized) -> None:
    """`cdk deploy --all` deploys the platform first; no export locks the platform while tenant stacks exist."""
    platform = synthesized.built.platform
    assert not [o for o in synthesized.template_json(platform).get("Outputs", {}).values() if "Export" in o]
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())["artifacts"]
    parameters = {
        r["Properties"]["Name"] for r in resources(synthesized, platform).values() if r["Type"] == "AWS::SSM::Parameter"
    }
    assert parameters == {PARAMETER_PREFIX + name for name in SHARED_WITH_TENANTS} | {ADMIN_FUNCTION_PARAMETER}
    for stack in synthesized.built.tenants:
        text = json.dumps(synthesized.template_json(stack))
        assert "Fn::ImportValue" not in text, stack.stack_name
        assert platform.artifact_id in manifest[stack.artifact_id]["dependencies"]


def test_one_conversation_per_turn_execution(synthesized: Synthesized) -> None:
    """A batch mixes message groups: one slow turn would hold, and one failure redeliver, other conversations."""
    assert PIPE_BATCH_SIZE == 1
    found = resources(synthesized, synthesized.built.platform)
    for pipe in (r for r in found.values() if r["Type"] == "AWS::Pipes::Pipe"):
        assert pipe["Properties"]["SourceParameters"]["SqsQueueParameters"]["BatchSize"] == 1


def test_every_synchronous_http_route_answers_within_29_seconds(synthesized: Synthesized) -> None:
    platform = synthesized.built.platform
    found = resources(synthesized, platform)
    integrations = [r for r in found.values() if r["Type"] == "AWS::ApiGatewayV2::Integration"]
    assert integrations
    for integration in integrations:
        assert integration["Properties"]["TimeoutInMillis"] <= 29_000
        target = json.dumps(integration["Properties"]["IntegrationUri"])
        (function,) = [name for name, t in platform.functions.invoke_targets.items() if f'"{logical_id(t)}"' in target]
        assert settings_for(function).timeout_s < 29, function
        assert found[logical_id(platform.functions.by_name[function])]["Properties"]["Timeout"] < 29


def test_ingest_reads_the_media_it_stores_and_bedrock_profiles_are_allowed(synthesized: Synthesized) -> None:
    platform = synthesized.built.platform
    found = resources(synthesized, platform)

    def statements(function: str) -> str:
        role = found[logical_id(platform.functions.by_name[function])]["Properties"]["Role"]["Fn::GetAtt"][0]
        policies = [r for r in found.values() if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in _roles(r)]
        return json.dumps([p["Properties"]["PolicyDocument"] for p in policies])

    ingest = statements("turn_ingest")
    assert '"s3:GetObject"' in ingest and "/*/media/*" in ingest
    model = statements("turn_call_model")
    for arn in ("bedrock:*::foundation-model/anthropic.*", "bedrock:::foundation-model/anthropic.*"):
        assert arn in model
    assert ":inference-profile/*anthropic.*" in model
