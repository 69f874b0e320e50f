"""`make preflight` against stubbed AWS answers (botocore's Stubber checks each request against the service model,
so a misspelt operation or parameter fails here too): every check, when all is well and when it is not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from infra import preflight
from infra.preflight import Finding, Plan

PLAN = Plan(region="eu-central-1", aurora_version="17.7", bedrock_models=("eu.anthropic.claude-sonnet-4-5-v1:0",))


class StubbedAws:
    def __init__(self) -> None:
        self.session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-central-1")
        self.clients: dict[str, Any] = {}
        self.stubbers: dict[str, Stubber] = {}

    def __call__(self, service: str) -> Any:
        return self.stub(service)[0]

    def stub(self, service: str) -> tuple[Any, Stubber]:
        if service not in self.clients:
            self.clients[service] = self.session.client(service)
            self.stubbers[service] = Stubber(self.clients[service])
            self.stubbers[service].activate()
        return self.clients[service], self.stubbers[service]

    def answer(self, service: str, operation: str, response: dict[str, Any], params: Any = None) -> None:
        self.stub(service)[1].add_response(operation, response, params)

    def fail(self, service: str, operation: str, code: str) -> None:
        self.stub(service)[1].add_client_error(operation, service_error_code=code, http_status_code=400)

    def assert_all_used(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def aws() -> Iterator[StubbedAws]:
    stubbed = StubbedAws()
    yield stubbed
    stubbed.assert_all_used()


def version(number: str, min_capacity: float) -> dict[str, Any]:
    return {
        "Engine": "aurora-postgresql",
        "EngineVersion": number,
        "Status": "available",
        "ServerlessV2FeaturesSupport": {"MinCapacity": min_capacity, "MaxCapacity": 256.0},
    }


def test_a_ready_account_passes_every_check(aws: StubbedAws) -> None:
    aws.answer("ssm", "get_parameter", {"Parameter": {"Name": preflight.BOOTSTRAP_VERSION_PARAMETER, "Value": "28"}})
    aws.answer("apigateway", "get_account", {})
    aws.answer("lambda", "get_account_settings", {"AccountLimit": {"ConcurrentExecutions": 1000}})
    aws.answer(
        "rds",
        "describe_db_engine_versions",
        {"DBEngineVersions": [version("17.7", 0.0)]},
        {"Engine": "aurora-postgresql", "EngineVersion": "17.7"},
    )
    aws.answer("cloudformation", "describe_stacks", {"Stacks": []})
    aws.answer("secretsmanager", "list_secrets", {"SecretList": []})
    aws.answer("rds", "describe_db_clusters", {"DBClusters": []})
    aws.answer(
        "bedrock",
        "get_foundation_model_availability",
        {
            "modelId": "anthropic.claude-sonnet-4-5-v1:0",
            "agreementAvailability": {"status": "AVAILABLE"},
            "authorizationStatus": "AUTHORIZED",
            "entitlementAvailability": "AVAILABLE",
            "regionAvailability": "AVAILABLE",
        },
        {"modelId": "anthropic.claude-sonnet-4-5-v1:0"},
    )
    findings = preflight.run_checks(aws, PLAN)
    assert [f.status for f in findings] == ["ok"] * len(preflight.CHECKS)


def test_an_unbootstrapped_region_is_told_how_to_bootstrap(aws: StubbedAws) -> None:
    aws.fail("ssm", "get_parameter", "ParameterNotFound")
    finding = preflight.cdk_bootstrap(aws, PLAN)
    assert finding.status == "fail" and "bootstrap aws://" in finding.fix and "eu-central-1" in finding.fix


def test_an_old_bootstrap_is_refused(aws: StubbedAws) -> None:
    aws.answer("ssm", "get_parameter", {"Parameter": {"Value": "6"}})
    assert preflight.cdk_bootstrap(aws, PLAN).status == "fail"


def test_an_existing_cloudwatch_role_is_a_warning_with_the_reason(aws: StubbedAws) -> None:
    aws.answer("apigateway", "get_account", {"cloudwatchRoleArn": "arn:aws:iam::1:role/old"})
    finding = preflight.cloudwatch_role(aws, PLAN)
    assert finding.status == "warn" and "arn:aws:iam::1:role/old" in finding.message


def test_a_fresh_accounts_concurrency_quota_fails_with_the_quota_request(aws: StubbedAws) -> None:
    aws.answer("lambda", "get_account_settings", {"AccountLimit": {"ConcurrentExecutions": 10}})
    finding = preflight.lambda_concurrency(aws, PLAN)
    assert finding.status == "fail"
    assert "request-service-quota-increase" in finding.fix and preflight.LAMBDA_CONCURRENCY_QUOTA in finding.fix


def test_an_aurora_version_not_offered_names_the_newest_that_scales_to_zero(aws: StubbedAws) -> None:
    aws.answer("rds", "describe_db_engine_versions", {"DBEngineVersions": []})
    aws.answer(
        "rds",
        "describe_db_engine_versions",
        {"DBEngineVersions": [version("16.9", 0.0), version("17.5", 0.0)], "Marker": "m"},
    )
    aws.answer(
        "rds",
        "describe_db_engine_versions",
        {"DBEngineVersions": [version("17.10", 0.0), version("18.1", 0.5)]},
        {"Engine": "aurora-postgresql", "Marker": "m"},
    )
    finding = preflight.aurora_version(aws, PLAN)
    assert finding.status == "fail"
    assert '"clawgate:auroraVersion": "17.10"' in finding.fix  # 18.1 cannot pause; 17.10 sorts above 17.5


def test_leftovers_of_a_failed_deploy_block_and_say_how_to_clear_them(aws: StubbedAws) -> None:
    aws.answer(
        "cloudformation",
        "describe_stacks",
        {
            "Stacks": [
                {"StackName": "Clawgate", "StackStatus": "ROLLBACK_COMPLETE", "CreationTime": "2026-12-01T00:00:00Z"}
            ]
        },
    )
    aws.answer(
        "secretsmanager",
        "list_secrets",
        {"SecretList": [{"Name": "clawgate/platform/meta-app-secret", "DeletedDate": "2026-12-01T00:00:00Z"}]},
    )
    aws.answer(
        "rds",
        "describe_db_clusters",
        {
            "DBClusters": [
                {
                    "DBClusterIdentifier": "clawgate-databasecluster-abc",
                    "TagList": [{"Key": "aws:cloudformation:stack-name", "Value": "Clawgate-Old"}],
                }
            ]
        },
    )
    finding = preflight.leftovers(aws, PLAN)
    assert finding.status == "fail"
    assert "delete-stack --stack-name Clawgate" in finding.fix
    assert "restore-secret --secret-id clawgate/platform/meta-app-secret" in finding.fix
    assert "delete-db-cluster --db-cluster-identifier clawgate-databasecluster-abc" in finding.fix


def test_a_kept_cluster_alone_is_only_a_cost_warning(aws: StubbedAws) -> None:
    aws.answer("cloudformation", "describe_stacks", {"Stacks": []})
    aws.answer("secretsmanager", "list_secrets", {"SecretList": []})
    aws.answer(
        "rds",
        "describe_db_clusters",
        {
            "DBClusters": [
                {
                    "DBClusterIdentifier": "c1",
                    "TagList": [{"Key": "aws:cloudformation:stack-name", "Value": "Clawgate"}],
                }
            ]
        },
    )
    assert preflight.leftovers(aws, PLAN).status == "warn"


def test_bedrock_without_model_access_fails_with_the_console_step(aws: StubbedAws) -> None:
    aws.answer(
        "bedrock",
        "get_foundation_model_availability",
        {
            "modelId": "anthropic.claude-sonnet-4-5-v1:0",
            "agreementAvailability": {"status": "NOT_AVAILABLE"},
            "authorizationStatus": "NOT_AUTHORIZED",
            "entitlementAvailability": "NOT_AVAILABLE",
            "regionAvailability": "AVAILABLE",
        },
    )
    finding = preflight.bedrock_access(aws, PLAN)
    assert finding.status == "fail" and "Model access" in finding.fix


def test_no_bedrock_model_no_bedrock_call(aws: StubbedAws) -> None:
    plan = Plan(region="eu-central-1", aurora_version="17.7", bedrock_models=())
    assert preflight.bedrock_access(aws, plan).status == "ok"


def test_a_check_without_permission_fails_alone_and_the_others_still_run(aws: StubbedAws) -> None:
    aws.fail("ssm", "get_parameter", "AccessDeniedException")
    aws.fail("apigateway", "get_account", "AccessDeniedException")
    aws.answer("lambda", "get_account_settings", {"AccountLimit": {"ConcurrentExecutions": 1000}})
    aws.fail("rds", "describe_db_engine_versions", "AccessDenied")
    aws.fail("cloudformation", "describe_stacks", "AccessDenied")
    aws.fail("bedrock", "get_foundation_model_availability", "AccessDeniedException")
    findings = preflight.run_checks(aws, PLAN)
    assert [f.status for f in findings] == ["fail", "fail", "ok", "fail", "fail", "fail"]


def test_the_report_shows_each_fix_and_the_exit_code_follows_failures() -> None:
    text = preflight.report([Finding("A", "ok", "fine"), Finding("B", "fail", "broken", "do this")])
    assert text.splitlines() == ["[ok  ] A: fine", "[FAIL] B: broken", "       fix: do this"]


def test_the_plan_reads_the_repositorys_region_and_version() -> None:
    plan = Plan.from_repository()
    assert plan.region == "eu-central-1" and plan.aurora_version.count(".") == 1
