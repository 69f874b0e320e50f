"""`make preflight`: read-only checks, with your AWS credentials, of what a first `cdk deploy --all` needs in the
account and region of cdk.json. Each check says what it found and, when something is in the way, the fix.
Nothing here writes to the account.

    AWS_PROFILE=agency make preflight          # or: .venv/bin/python -m infra.preflight --profile agency
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from infra.project import REPO_ROOT, Project

Status = Literal["ok", "warn", "fail"]
STACK_PREFIX = "Clawgate"
SECRET_PREFIX = "clawgate/"
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
MIN_BOOTSTRAP_VERSION = 21  # what aws-cdk-lib 2.275's templates require (`BootstrapVersion` rule)
# A turn runs five functions at once per conversation; a fresh account's quota (10) throttles the second customer.
MIN_CONCURRENCY = 100
LAMBDA_CONCURRENCY_QUOTA = "L-B99A9384"
FAILED_STACK_STATES = {
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "DELETE_FAILED",
    "CREATE_FAILED",
    "UPDATE_ROLLBACK_FAILED",
}


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    message: str
    fix: str = ""


Clients = Callable[[str], Any]  # service name -> boto3 client


@dataclass(frozen=True)
class Plan:
    """What the app would deploy, read from cdk.json and tenants/*.yaml."""

    region: str
    aurora_version: str
    bedrock_models: tuple[str, ...]

    @classmethod
    def from_repository(cls) -> Plan:
        from clawgate.tenancy.model import load_tenant_file

        context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
        models: set[str] = set()
        for path in Project.at().tenant_files():
            for agent in load_tenant_file(path).agents:
                models.update([agent.model, *agent.model_by_channel.values(), *agent.fallback_models])
        bedrock = sorted(m.removeprefix("bedrock/") for m in models if m.startswith("bedrock/"))
        return cls(context["clawgate:region"], context["clawgate:auroraVersion"], tuple(bedrock))


def cloudwatch_role(clients: Clients, plan: Plan) -> Finding:
    arn = clients("apigateway").get_account().get("cloudwatchRoleArn")
    if not arn:
        return Finding("API Gateway CloudWatch role", "ok", "none set yet: the platform stack sets one")
    return Finding(
        "API Gateway CloudWatch role",
        "warn",
        f"already set to {arn}; the platform stack replaces it with a role of the same permissions",
        "nothing to do unless another tool manages AWS::ApiGateway::Account in this region (then remove it there)",
    )


def lambda_concurrency(clients: Clients, plan: Plan) -> Finding:
    limit = int(clients("lambda").get_account_settings()["AccountLimit"]["ConcurrentExecutions"])
    if limit >= MIN_CONCURRENCY:
        return Finding("Lambda concurrency", "ok", f"{limit} concurrent executions")
    return Finding(
        "Lambda concurrency",
        "fail",
        f"the account may run only {limit} functions at once; a turn alone runs up to five",
        f"aws service-quotas request-service-quota-increase --service-code lambda --quota-code "
        f"{LAMBDA_CONCURRENCY_QUOTA} --desired-value 1000 --region {plan.region}",
    )


def aurora_version(clients: Clients, plan: Plan) -> Finding:
    rds = clients("rds")
    offered = rds.describe_db_engine_versions(Engine="aurora-postgresql", EngineVersion=plan.aurora_version)
    if any(_scales_to_zero(v) for v in offered.get("DBEngineVersions", [])):
        return Finding("Aurora version", "ok", f"aurora-postgresql {plan.aurora_version} scales to 0 ACU here")
    candidates = [v["EngineVersion"] for v in _all_versions(rds) if _scales_to_zero(v)]
    newest = max(candidates, key=_version_key) if candidates else None
    return Finding(
        "Aurora version",
        "fail",
        f"aurora-postgresql {plan.aurora_version} is not offered in {plan.region} with Serverless v2 at 0 ACU",
        f'set "clawgate:auroraVersion": "{newest}" in cdk.json (or -c clawgate:auroraVersion={newest})'
        if newest
        else "choose a region that offers Aurora PostgreSQL Serverless v2",
    )


def _scales_to_zero(version: dict[str, Any]) -> bool:
    support = version.get("ServerlessV2FeaturesSupport") or {}
    return support.get("MinCapacity") == 0 and version.get("Status", "available") == "available"


def _all_versions(rds: Any) -> Iterable[dict[str, Any]]:
    marker = None
    while True:
        page = rds.describe_db_engine_versions(Engine="aurora-postgresql", **({"Marker": marker} if marker else {}))
        yield from page.get("DBEngineVersions", [])
        marker = page.get("Marker")
        if not marker:
            return


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def leftovers(clients: Clients, plan: Plan) -> Finding:
    """What a failed or deleted deploy leaves that blocks (fail) or costs (warn) the next one."""
    blocking: list[tuple[str, str]] = []
    costing: list[tuple[str, str]] = []
    stacks = clients("cloudformation").describe_stacks().get("Stacks", [])
    live = {s["StackName"] for s in stacks if s["StackName"].startswith(STACK_PREFIX)}
    for stack in stacks:
        if stack["StackName"].startswith(STACK_PREFIX) and stack["StackStatus"] in FAILED_STACK_STATES:
            blocking.append(
                (
                    f"stack {stack['StackName']} is {stack['StackStatus']}",
                    f"aws cloudformation delete-stack --stack-name {stack['StackName']}",
                )
            )
    secrets = clients("secretsmanager").list_secrets(
        Filters=[{"Key": "name", "Values": [SECRET_PREFIX]}], IncludePlannedDeletion=True
    )
    for secret in secrets.get("SecretList", []):
        name = secret["Name"]
        if secret.get("DeletedDate"):
            blocking.append(
                (
                    f"secret {name} is scheduled for deletion and holds its name",
                    f"aws secretsmanager restore-secret --secret-id {name}",
                )
            )
        elif not live:
            blocking.append(
                (
                    f"secret {name} exists but no Clawgate stack does",
                    f"aws secretsmanager delete-secret --secret-id {name} --force-delete-without-recovery",
                )
            )
    for cluster in clients("rds").describe_db_clusters().get("DBClusters", []):
        owner = {t["Key"]: t["Value"] for t in cluster.get("TagList", [])}.get("aws:cloudformation:stack-name", "")
        if owner.startswith(STACK_PREFIX) and owner not in live:
            name = cluster["DBClusterIdentifier"]
            costing.append(
                (
                    f"cluster {name} was kept from the deleted stack {owner} (storage is billed)",
                    f"aws rds delete-db-cluster --db-cluster-identifier {name} "
                    f"--final-db-snapshot-identifier {name}-final",
                )
            )
    found = blocking + costing
    if not found:
        return Finding("Leftovers of a failed deploy", "ok", "none")
    status: Status = "fail" if blocking else "warn"
    return Finding(
        "Leftovers of a failed deploy", status, "; ".join(f for f, _ in found), "; ".join(x for _, x in found)
    )


def bedrock_access(clients: Clients, plan: Plan) -> Finding:
    if not plan.bedrock_models:
        return Finding("Bedrock model access", "ok", "no tenant uses a bedrock/ model")
    bedrock = clients("bedrock")
    missing = []
    for model in plan.bedrock_models:
        model_id = (
            model.split(".", 1)[1] if model.split(".", 1)[0] in ("eu", "us", "apac", "global", "jp", "au") else model
        )
        availability = bedrock.get_foundation_model_availability(modelId=model_id)
        states = {
            availability.get("agreementAvailability", {}).get("status"),
            availability.get("authorizationStatus"),
            availability.get("entitlementAvailability"),
            availability.get("regionAvailability"),
        }
        if states - {"AVAILABLE", "AUTHORIZED"}:
            missing.append(model)
    if not missing:
        return Finding("Bedrock model access", "ok", ", ".join(plan.bedrock_models))
    return Finding(
        "Bedrock model access",
        "fail",
        f"no access yet to {', '.join(missing)} in {plan.region}",
        "Bedrock console → Model access → request the Anthropic models (a use-case form, usually granted in minutes)",
    )


def cdk_bootstrap(clients: Clients, plan: Plan) -> Finding:
    fix = f"npx aws-cdk@2.1148 bootstrap aws://<account>/{plan.region}"
    try:
        value = clients("ssm").get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)["Parameter"]["Value"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterNotFound":
            raise
        return Finding("CDK bootstrap", "fail", f"{plan.region} is not bootstrapped", fix)
    if int(value) < MIN_BOOTSTRAP_VERSION:
        return Finding("CDK bootstrap", "fail", f"bootstrap version {value} < {MIN_BOOTSTRAP_VERSION}", fix)
    return Finding("CDK bootstrap", "ok", f"version {value}")


CHECKS = (cdk_bootstrap, cloudwatch_role, lambda_concurrency, aurora_version, leftovers, bedrock_access)


def run_checks(clients: Clients, plan: Plan) -> list[Finding]:
    findings = []
    for check in CHECKS:
        try:
            findings.append(check(clients, plan))
        except (ClientError, BotoCoreError) as error:
            name = check.__name__.replace("_", " ")
            findings.append(
                Finding(name, "fail", f"could not check: {error}", "run it with credentials that may read it")
            )
    return findings


def report(findings: list[Finding]) -> str:
    marks = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
    lines = []
    for finding in findings:
        lines.append(f"[{marks[finding.status]}] {finding.check}: {finding.message}")
        if finding.fix and finding.status != "ok":
            lines.append(f"       fix: {finding.fix}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(prog="make preflight", description=__doc__.splitlines()[0])
    parser.add_argument("--profile")
    args = parser.parse_args(argv)
    plan = Plan.from_repository()
    session = boto3.Session(profile_name=args.profile, region_name=plan.region)
    findings = run_checks(session.client, plan)
    print(report(findings))
    return 1 if any(f.status == "fail" for f in findings) else 0


if __name__ == "__main__":
    sys.exit(main())
