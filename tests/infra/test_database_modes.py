"""RDS Proxy is a per-deployment choice (`clawgate:rdsProxy`): with it (the default) the functions connect through the
proxy; without it they connect to the cluster endpoint, and Aurora still scales to 0 ACU and pauses."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from cfnlint.api import ManualArgs, lint

from infra.app import RDS_PROXY_KEY, build_app
from infra.constructs.database import AUTO_PAUSE_AFTER, IDLE_SESSION_TIMEOUT
from infra.constructs.network import DATABASE_PORT
from infra.nag import logical_id
from tests.infra.conftest import Synthesized, fixture_project
from tests.infra.test_compliance import nag_report

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def without_proxy(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    root = tmp_path_factory.mktemp("infra-without-proxy")
    built = build_app(
        fixture_project(root),
        outdir=str(root / "cdk.out"),
        stub_dependencies=True,
        context={RDS_PROXY_KEY: "false"},  # as `cdk deploy -c clawgate:rdsProxy=false` passes it
    )
    return Synthesized(built, built.app.synth())


@pytest.fixture(scope="module")
def platform_without_proxy(without_proxy: Synthesized) -> Template:
    return without_proxy.template(without_proxy.built.platform)


def database_hosts(template: Template) -> list[Any]:
    functions = template.find_resources("AWS::Lambda::Function")
    environments = [fn["Properties"].get("Environment", {}).get("Variables", {}) for fn in functions.values()]
    return [env["CLAWGATE_DATABASE_HOST"] for env in environments if "CLAWGATE_DATABASE_HOST" in env]


def ingress_sources(template: Template, security_group: str) -> list[Any]:
    rules = template.find_resources(
        "AWS::EC2::SecurityGroupIngress",
        {"Properties": {"GroupId": {"Fn::GetAtt": [security_group, "GroupId"]}, "FromPort": DATABASE_PORT}},
    )
    return [rule["Properties"]["SourceSecurityGroupId"] for rule in rules.values()]


def test_by_default_the_functions_connect_through_the_proxy(synthesized: Synthesized, platform: Template) -> None:
    proxy = synthesized.built.platform.database.proxy
    assert proxy is not None
    platform.resource_count_is("AWS::RDS::DBProxy", 1)
    hosts = database_hosts(platform)
    assert hosts
    assert all(host == {"Fn::GetAtt": [logical_id(proxy), "Endpoint"]} for host in hosts)


def test_without_proxy_there_is_none(platform_without_proxy: Template) -> None:
    platform_without_proxy.resource_count_is("AWS::RDS::DBProxy", 0)
    platform_without_proxy.resource_count_is("AWS::RDS::DBProxyTargetGroup", 0)


def test_without_proxy_the_functions_get_the_cluster_endpoint(
    without_proxy: Synthesized, platform_without_proxy: Template, platform: Template
) -> None:
    cluster = logical_id(without_proxy.built.platform.database.cluster)
    hosts = database_hosts(platform_without_proxy)
    assert len(hosts) == len(database_hosts(platform))
    assert all(host == {"Fn::GetAtt": [cluster, "Endpoint.Address"]} for host in hosts)


def test_without_proxy_aurora_still_scales_to_zero_and_pauses(platform_without_proxy: Template) -> None:
    platform_without_proxy.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "ServerlessV2ScalingConfiguration": {
                "MinCapacity": 0,
                "MaxCapacity": Match.any_value(),
                "SecondsUntilAutoPause": int(AUTO_PAUSE_AFTER.to_seconds()),
            },
        },
    )


def test_without_proxy_the_server_closes_idle_sessions(platform_without_proxy: Template) -> None:
    """A frozen Lambda's pooled connection would otherwise keep Aurora awake; it must close before Aurora's
    auto-pause clock could run out."""
    assert IDLE_SESSION_TIMEOUT.to_seconds() < AUTO_PAUSE_AFTER.to_seconds()
    timeout = str(int(IDLE_SESSION_TIMEOUT.to_milliseconds()))
    platform_without_proxy.has_resource_properties(
        "AWS::RDS::DBClusterParameterGroup", {"Parameters": {"idle_session_timeout": timeout}}
    )


def test_the_proxy_deployment_keeps_server_defaults(platform: Template) -> None:
    platform.resource_count_is("AWS::RDS::DBClusterParameterGroup", 0)


def group(security_group: object) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id(security_group), "GroupId"]}  # type: ignore[arg-type]


def test_without_proxy_aurora_accepts_the_database_clients_only(
    without_proxy: Synthesized, platform_without_proxy: Template
) -> None:
    network = without_proxy.built.platform.network
    assert network.proxy is None
    sources = ingress_sources(platform_without_proxy, logical_id(network.database))
    assert sources == [group(network.database_clients), group(network.query_clients)]


def test_with_proxy_aurora_accepts_the_proxy_and_the_tenant_query_logins_only(
    synthesized: Synthesized, platform: Template
) -> None:
    """db_query's per-tenant logins connect to Aurora itself (the proxy would need a secret per tenant)."""
    network = synthesized.built.platform.network
    assert network.proxy is not None
    assert ingress_sources(platform, logical_id(network.database)) == [
        group(network.proxy),
        group(network.query_clients),
    ]
    assert ingress_sources(platform, logical_id(network.proxy)) == [
        group(network.database_clients),
        group(network.query_clients),
    ]


def test_without_proxy_cdk_nag_and_cfn_lint_pass(without_proxy: Synthesized) -> None:
    report = nag_report(without_proxy)
    assert (report["conclusion"], report["violations"]) == ("success", [])
    platform = without_proxy.built.platform
    template = (without_proxy.outdir / platform.template_file).read_text()
    errors = [m for m in lint(template, config=ManualArgs(regions=[platform.region])) if m.rule.id.startswith("E")]
    assert errors == []
