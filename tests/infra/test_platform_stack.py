from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template
from clawgate import entrypoints

from infra.constructs.queues import queue_kinds
from infra.constructs.storage import WEB_CONFIG_FILE
from infra.constructs.workflows import STANDARD_WORKFLOWS, workflow_tasks
from infra.function_settings import settings_for
from infra.nag import logical_id
from infra.project import Project
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra


def test_vpc_has_one_nat_gateway_and_flow_logs(platform: Template) -> None:
    platform.resource_count_is("AWS::EC2::VPC", 1)
    platform.resource_count_is("AWS::EC2::NatGateway", 1)
    platform.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "REJECT"})
    platform.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"})


def test_aurora_serverless_v2_scales_to_zero_behind_a_proxy(platform: Template) -> None:
    platform.has_resource(
        "AWS::RDS::DBCluster",
        {
            "Properties": {
                "Engine": "aurora-postgresql",
                "EngineVersion": Match.string_like_regexp(r"^1[67]\."),
                "ServerlessV2ScalingConfiguration": {
                    "MinCapacity": 0,
                    "MaxCapacity": Match.any_value(),
                    "SecondsUntilAutoPause": Match.any_value(),
                },
                "StorageEncrypted": True,
                "DeletionProtection": False,  # see test_first_deploy.py
            },
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )
    platform.has_resource_properties("AWS::RDS::DBInstance", {"DBInstanceClass": "db.serverless"})
    platform.has_resource_properties("AWS::RDS::DBProxy", {"EngineFamily": "POSTGRESQL", "RequireTLS": True})


def test_http_api_has_a_route_per_catalogue_entry(platform: Template) -> None:
    for route in entrypoints.HTTP_ROUTES:
        platform.has_resource_properties("AWS::ApiGatewayV2::Route", {"RouteKey": f"{route.method} {route.path}"})


def test_websocket_api_has_the_catalogue_routes(platform: Template) -> None:
    platform.has_resource_properties("AWS::ApiGatewayV2::Api", {"ProtocolType": "WEBSOCKET"})
    for route_key in entrypoints.WEBSOCKET_ROUTES:
        platform.has_resource_properties("AWS::ApiGatewayV2::Route", {"RouteKey": route_key})


def test_stages_are_throttled_and_access_logged(platform: Template) -> None:
    settings = {"AccessLogSettings": {"DestinationArn": Match.any_value(), "Format": Match.any_value()}}
    platform.has_resource_properties("AWS::ApiGatewayV2::Stage", {"StageName": "$default", **settings})
    platform.has_resource_properties("AWS::ApiGatewayV2::Stage", {"StageName": "prod", **settings})


def test_every_queue_has_a_dead_letter_queue(platform: Template) -> None:
    queues = platform.find_resources("AWS::SQS::Queue")
    with_dlq = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    assert len(with_dlq) == len(queue_kinds()) == len(queues) // 2
    fifo = [q for q in with_dlq if q["Properties"].get("FifoQueue")]
    assert len(fifo) == sum(queue_kinds().values())


def test_inbound_queue_runs_agent_turn_synchronously_through_a_pipe(synthesized: Synthesized) -> None:
    platform = synthesized.built.platform
    agent_turn = logical_id(platform.workflows.by_name["agent_turn"])
    inbound = logical_id(platform.queues.by_name["inbound"])
    synthesized.template(platform).has_resource_properties(
        "AWS::Pipes::Pipe",
        {
            "Source": {"Fn::GetAtt": [inbound, "Arn"]},
            "Target": {"Ref": agent_turn},
            "TargetParameters": {"StepFunctionStateMachineParameters": {"InvocationType": "REQUEST_RESPONSE"}},
        },
    )


def test_state_machines_types_and_logging(platform: Template) -> None:
    machines = platform.find_resources("AWS::StepFunctions::StateMachine")
    expected = sorted("STANDARD" if w in STANDARD_WORKFLOWS else "EXPRESS" for w in workflow_tasks())
    assert sorted(m["Properties"]["StateMachineType"] for m in machines.values()) == expected
    for machine in machines.values():
        properties = machine["Properties"]
        assert properties["TracingConfiguration"] == {"Enabled": True}
        logging = properties["LoggingConfiguration"]
        assert (logging["Level"], logging["IncludeExecutionData"], len(logging["Destinations"])) == ("ALL", False, 1)


def test_functions_are_python312_arm64_traced_with_powertools_env(synthesized: Synthesized) -> None:
    platform = synthesized.built.platform
    template = synthesized.template(platform)
    for name, function in platform.functions.by_name.items():
        properties = template.to_json()["Resources"][logical_id(function)]["Properties"]
        assert properties["Runtime"] == "python3.12", name
        assert properties["Architectures"] == ["arm64"], name
        assert properties["TracingConfig"] == {"Mode": "Active"}, name
        assert properties["Layers"] and len(properties["Layers"]) == 2, name
        environment = properties["Environment"]["Variables"]
        assert environment["POWERTOOLS_SERVICE_NAME"] == name
        assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "Clawgate"
        assert environment["LOG_LEVEL"] == "INFO"
        assert properties["MemorySize"] == settings_for(name).memory_mb
        assert ("SnapStart" in properties) == settings_for(name).snap_start, name
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


def test_model_functions_use_snapstart_through_a_live_alias(synthesized: Synthesized) -> None:
    platform = synthesized.built.platform
    template = synthesized.template(platform)
    aliases = template.find_resources("AWS::Lambda::Alias").values()
    aliased = {json.dumps(a["Properties"]["FunctionName"]) for a in aliases if a["Properties"]["Name"] == "live"}
    for name, function in platform.functions.by_name.items():
        properties = template.to_json()["Resources"][logical_id(function)]["Properties"]
        snap_start = properties.get("SnapStart") == {"ApplyOn": "PublishedVersions"}
        assert snap_start == (name in entrypoints.MODEL_FUNCTIONS and settings_for(name).snap_start), name
        assert (json.dumps({"Ref": logical_id(function)}) in aliased) == snap_start, name


def test_buckets_are_private_encrypted_tls_only_and_retained(platform: Template) -> None:
    buckets = platform.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 3  # access logs, blobs (media, reports, creative uploads), web UI
    for bucket in buckets.values():
        assert bucket["DeletionPolicy"] == "Retain"
        assert bucket["Properties"]["BucketEncryption"]
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
    policies = platform.find_resources("AWS::S3::BucketPolicy")
    tls_only = [p for p in policies.values() if '"aws:SecureTransport": "false"' in _compact(p)]
    assert len(tls_only) == len(buckets)


def test_web_ui_is_served_by_cloudfront_with_origin_access_control(platform: Template) -> None:
    platform.resource_count_is("AWS::CloudFront::OriginAccessControl", 1)
    platform.has_resource_properties(
        "AWS::CloudFront::Distribution",
        {"DistributionConfig": Match.object_like({"DefaultRootObject": "index.html"})},
    )


def test_alarms_and_one_dashboard(synthesized: Synthesized, platform: Template) -> None:
    platform.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    alarms = platform.find_resources("AWS::CloudWatch::Alarm")
    metrics = {alarm["Properties"].get("MetricName") for alarm in alarms.values()}
    assert {"ApproximateNumberOfMessagesVisible", "ExecutionsFailed", "4xx", "5xx"} <= metrics
    assert "ServerlessDatabaseCapacity" in metrics
    dead_letter_alarms = [
        a for a in alarms.values() if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    assert len(dead_letter_alarms) == len(synthesized.built.platform.queues.dead_letters)


def test_platform_upgrade_runs_migrations_after_the_database(synthesized: Synthesized, platform: Template) -> None:
    migrator = logical_id(synthesized.built.platform.functions.by_name["db_migrator"])
    trigger = platform.find_resources("Custom::Trigger")
    assert len(trigger) == 1
    (resource,) = trigger.values()
    version = platform.to_json()["Resources"][resource["Properties"]["HandlerArn"]["Ref"]]
    assert version["Type"] == "AWS::Lambda::Version"
    assert version["Properties"]["FunctionName"] == {"Ref": migrator}
    assert any(dependency.startswith("DatabaseCluster") for dependency in resource.get("DependsOn", []))


def _compact(value: object) -> str:
    return json.dumps(value)


def web_ui_config(synthesized: Synthesized) -> dict[str, object]:
    """config.json as the deployment writes it: the asset's file with each deploy-time marker put back."""
    platform = synthesized.built.platform
    (deployment,) = synthesized.template(platform).find_resources("Custom::CDKBucketDeployment").values()
    properties = deployment["Properties"]
    assert properties["DestinationBucketName"] == {"Ref": logical_id(platform.storage.web)}
    assert properties["Prune"] is True  # one deployment holds web/ and config.json, so neither prunes the other
    for key, markers in zip(properties["SourceObjectKeys"], properties["SourceMarkers"], strict=True):
        config = synthesized.outdir / f"asset.{key.removesuffix('.zip')}" / WEB_CONFIG_FILE
        if config.is_file():
            text = config.read_text()
            for marker, value in markers.items():
                text = text.replace(marker, json.dumps(value))
            loaded: dict[str, object] = json.loads(text)
            return loaded
    raise AssertionError("no config.json among the web UI deployment's sources")


def test_web_ui_gets_a_config_json_naming_the_control_plane(synthesized: Synthesized) -> None:
    platform = synthesized.built.platform
    config = web_ui_config(synthesized)
    assert set(config) == {"websocket_url", "api_url"}
    assert "websocket_url" in (Project.at().web_dir / "app.js").read_text()  # the key the UI reads
    websocket = json.dumps(config["websocket_url"])
    assert websocket.startswith('{"Fn::Join": ["", ["\\"wss://", {"Ref": "' + logical_id(platform.apis.websocket))
    assert websocket.endswith('"/prod\\""]]}')
    api = json.dumps(config["api_url"])
    assert api.startswith('{"Fn::Join": ["", ["\\"https://", {"Ref": "' + logical_id(platform.apis.http))


def test_blob_bucket_cors_lets_the_web_ui_put_parts_and_read_etags(synthesized: Synthesized) -> None:
    platform = synthesized.built.platform
    resources = synthesized.template_json(platform)["Resources"]
    rules = resources[logical_id(platform.storage.blobs)]["Properties"]["CorsConfiguration"]["CorsRules"]
    (rule,) = [rule for rule in rules if "PUT" in rule["AllowedMethods"]]  # GET: tests/infra/test_web_ui_origins.py
    assert rule["AllowedMethods"] == ["PUT"]
    assert rule["ExposedHeaders"] == ["ETag"]
    distribution = logical_id(platform.storage.distribution)
    assert rule["AllowedOrigins"] == [{"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]]}]
