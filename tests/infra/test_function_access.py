"""What each function may reach, and the environment variable the package reads for it, on the synthesised template:
the queues, workflows, @connections, blob key areas and secrets named in infra/function_settings.py, and no more."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clawgate import entrypoints

from infra.function_settings import FUNCTION_SETTINGS, PLATFORM_SECRETS, settings_for
from infra.nag import logical_id
from infra.project import Project
from tests.infra.conftest import Synthesized
from tests.infra.test_iam import actions_of, database_secret_ids, resources_of, role_statements

pytestmark = pytest.mark.infra

SQS_SEND = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
SECRET_READ = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
MANAGE_CONNECTIONS = "execute-api:ManageConnections"
TURN_STEPS_ON_WEBCHAT = ("turn_ingest", "turn_call_model", "turn_deliver", "turn_fail")
MULTIPART = {"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}


def statements_of(synthesized: Synthesized, name: str) -> list[dict[str, Any]]:
    return role_statements(synthesized, synthesized.built.platform.functions.by_name[name])


def environment(synthesized: Synthesized, name: str) -> dict[str, Any]:
    function = synthesized.built.platform.functions.by_name[name]
    resources = synthesized.template_json(synthesized.built.platform)["Resources"]
    variables: dict[str, Any] = resources[logical_id(function)]["Properties"]["Environment"]["Variables"]
    return variables


def granted(statements: list[dict[str, Any]], action: str) -> list[Any]:
    return [r for s in statements if action in s["Action"] for r in resources_of(s)]


def queue_arn(synthesized: Synthesized, queue: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id(synthesized.built.platform.queues.by_name[queue]), "Arn"]}


def connections_endpoint(synthesized: Synthesized) -> str:
    """The https @connections endpoint of the WebSocket stage, rendered with its API's logical id."""
    platform = synthesized.built.platform
    stage = platform.apis.websocket_stage
    return json.dumps(platform.resolve(stage.callback_url))


def test_every_function_has_settings_of_its_own() -> None:
    assert sorted(FUNCTION_SETTINGS) == Project.at().function_names()


def test_ws_message_sends_to_the_inbound_queue_and_answers_over_connections(synthesized: Synthesized) -> None:
    statements = statements_of(synthesized, "ws_message")
    assert actions_of(statements) <= SQS_SEND | XRAY | SECRET_READ | {MANAGE_CONNECTIONS}
    assert granted(statements, "sqs:SendMessage") == [queue_arn(synthesized, "inbound")]
    (connections,) = granted(statements, MANAGE_CONNECTIONS)
    api = logical_id(synthesized.built.platform.apis.websocket)
    assert api in json.dumps(connections) and "/prod/*/@connections/*" in json.dumps(connections)
    # The one secret it reads is the app login's (every frame looks up ws_connections and devices): no tenant or
    # platform secret, no other login's.
    readable = json.dumps(granted(statements, "secretsmanager:GetSecretValue"))
    app_login = logical_id(synthesized.built.platform.database.app_secret)
    assert app_login in readable
    assert not [s for s in database_secret_ids(synthesized) - {app_login} if s in readable]
    assert "clawgate/*" not in readable
    for secret in synthesized.built.platform.platform_secrets.by_name.values():
        assert logical_id(secret) not in readable
    variables = environment(synthesized, "ws_message")
    assert variables["CLAWGATE_INBOUND_QUEUE_URL"] == {
        "Ref": logical_id(synthesized.built.platform.queues.by_name["inbound"])
    }
    assert json.dumps(variables["CLAWGATE_WEBSOCKET_ENDPOINT"]) == connections_endpoint(synthesized)


@pytest.mark.parametrize("name", TURN_STEPS_ON_WEBCHAT)
def test_turn_steps_that_reach_webchat_manage_connections(synthesized: Synthesized, name: str) -> None:
    assert granted(statements_of(synthesized, name), MANAGE_CONNECTIONS)
    endpoint = environment(synthesized, name)["CLAWGATE_WEBSOCKET_ENDPOINT"]
    assert json.dumps(endpoint) == connections_endpoint(synthesized)
    assert json.dumps(endpoint).startswith('{"Fn::Join": ["", ["https://"')


def test_only_functions_that_post_get_the_connections_endpoint(synthesized: Synthesized) -> None:
    for name in synthesized.built.platform.functions.by_name:
        posts = settings_for(name).posts_to_connections
        assert ("CLAWGATE_WEBSOCKET_ENDPOINT" in environment(synthesized, name)) == posts, name
        assert bool(granted(statements_of(synthesized, name), MANAGE_CONNECTIONS)) == posts, name


def test_operator_api_uploads_creatives_and_signs_media_previews_only(synthesized: Synthesized) -> None:
    """A presigned URL can do what its signer may: the operator API reads the media area, nothing else."""
    blobs = logical_id(synthesized.built.platform.storage.blobs)
    s3 = [s for s in statements_of(synthesized, "operator_api") if is_s3(s)]
    assert "s3:ListBucket" not in actions_of(s3)
    creatives = {"Fn::Join": ["", [{"Fn::GetAtt": [blobs, "Arn"]}, "/*/creatives/*"]]}
    media = {"Fn::Join": ["", [{"Fn::GetAtt": [blobs, "Arn"]}, "/*/media/*"]]}
    by_resource = {json.dumps(r): set(actions_of([s])) for s in s3 for r in resources_of(s)}
    assert set(by_resource) == {json.dumps(creatives), json.dumps(media)}
    assert by_resource[json.dumps(media)] == {"s3:GetObject"}
    assert by_resource[json.dumps(creatives)] >= MULTIPART
    assert environment(synthesized, "operator_api")["CLAWGATE_BLOB_BUCKET"] == {"Ref": blobs}


def is_s3(statement: dict[str, Any]) -> bool:
    return any(action.startswith("s3:") for action in actions_of([statement]))


def test_blob_grants_are_per_key_area(synthesized: Synthesized) -> None:
    expected = {"turn_ingest": "/*/media/*", "jobs_run": "/*/reports/*", "turn_run_tool": "/*/creatives/*"}
    for name, area in expected.items():
        resources = [r for s in statements_of(synthesized, name) if is_s3(s) for r in resources_of(s)]
        assert resources and all(json.dumps(r).endswith(f'"{area}"]]}}') for r in resources), name
    assert "s3:PutObject" not in actions_of(statements_of(synthesized, "turn_run_tool"))  # reads creatives only
    without = [n for n in synthesized.built.platform.functions.by_name if not settings_for(n).blob_areas]
    for name in without:
        assert "CLAWGATE_BLOB_BUCKET" not in environment(synthesized, name), name
        assert not any(a.startswith("s3:") for a in actions_of(statements_of(synthesized, name))), name


def test_meta_webhook_sends_leads_and_messenger_instagram_messages_only(synthesized: Synthesized) -> None:
    statements = statements_of(synthesized, "meta_webhook")
    assert sorted(map(json.dumps, granted(statements, "sqs:SendMessage"))) == sorted(
        json.dumps(queue_arn(synthesized, name)) for name in ("inbound", "lead")
    )
    variables = environment(synthesized, "meta_webhook")
    assert "CLAWGATE_LEAD_QUEUE_URL" in variables and "CLAWGATE_INBOUND_QUEUE_URL" in variables
    assert "CLAWGATE_CAPI_QUEUE_URL" not in variables
    assert variables["CLAWGATE_META_APP_SECRET"] == PLATFORM_SECRETS["meta-app-secret"].reference
    assert variables["CLAWGATE_META_VERIFY_TOKEN"] == PLATFORM_SECRETS["meta-verify-token"].reference


def test_telegram_webhook_reads_the_webhook_key_by_reference(synthesized: Synthesized) -> None:
    variables = environment(synthesized, "telegram_webhook")
    assert variables["CLAWGATE_TELEGRAM_WEBHOOK_KEY"] == "secret:platform/telegram-webhook-key"
    key = logical_id(synthesized.built.platform.platform_secrets.by_name["telegram-webhook-key"])
    readable = granted(statements_of(synthesized, "telegram_webhook"), "secretsmanager:GetSecretValue")
    assert readable == [{"Ref": key}]
    assert granted(statements_of(synthesized, "telegram_webhook"), "sqs:SendMessage") == [
        queue_arn(synthesized, "inbound")
    ]


@pytest.mark.parametrize("name", ["jobs_run", "agent_run", "openai_api"])
def test_scheduled_and_api_turns_start_the_agent_turn_workflow(synthesized: Synthesized, name: str) -> None:
    agent_turn = {"Ref": logical_id(synthesized.built.platform.workflows.by_name["agent_turn"])}
    statements = statements_of(synthesized, name)
    assert granted(statements, "states:StartSyncExecution") == [agent_turn]
    assert granted(statements, "states:StartExecution") == [agent_turn]  # the run API starts, then waits on rows
    assert environment(synthesized, name)["CLAWGATE_AGENT_TURN_STATE_MACHINE_ARN"] == agent_turn


def test_jobs_run_is_sized_for_reports_and_syncs(synthesized: Synthesized) -> None:
    resources = synthesized.template_json(synthesized.built.platform)["Resources"]
    properties = resources[logical_id(synthesized.built.platform.functions.by_name["jobs_run"])]["Properties"]
    assert (properties["MemorySize"], properties["Timeout"]) == (1024, 900)
    assert "VpcConfig" in properties  # database, and Graph/Telegram through the NAT
    assert "clawgate/*" in json.dumps(granted(statements_of(synthesized, "jobs_run"), "secretsmanager:GetSecretValue"))


def test_only_model_functions_reach_bedrock_and_the_model_key(synthesized: Synthesized) -> None:
    model_key = logical_id(synthesized.built.platform.platform_secrets.by_name["anthropic"])
    for name in synthesized.built.platform.functions.by_name:
        statements = statements_of(synthesized, name)
        calls_model = name in entrypoints.MODEL_FUNCTIONS
        assert ("bedrock:InvokeModel" in actions_of(statements)) == calls_model, name
        assert (model_key in json.dumps(statements)) == calls_model, name


@pytest.mark.parametrize("consumer", [c for c in entrypoints.QUEUE_CONSUMERS if not c.target.startswith("workflow:")])
def test_queue_workers_report_partial_batch_failures(
    synthesized: Synthesized, consumer: entrypoints.QueueConsumer
) -> None:
    platform = synthesized.built.platform
    mappings = synthesized.template(platform).find_resources(
        "AWS::Lambda::EventSourceMapping",
        {"Properties": {"FunctionName": {"Ref": logical_id(platform.functions.by_name[consumer.target])}}},
    )
    ((_, mapping),) = mappings.items()
    properties = mapping["Properties"]
    assert properties["EventSourceArn"] == queue_arn(synthesized, consumer.queue)
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BatchSize"] == consumer.batch_size
    assert properties.get("MaximumBatchingWindowInSeconds", 0) == consumer.batching_window_s


def test_the_capi_sender_gathers_batches_past_ten_messages(synthesized: Synthesized) -> None:
    """Lambda refuses a batch size over 10 without a batching window; the deployed mapping must have both."""
    platform = synthesized.built.platform
    mappings = synthesized.template(platform).find_resources(
        "AWS::Lambda::EventSourceMapping",
        {"Properties": {"FunctionName": {"Ref": logical_id(platform.functions.by_name["capi_sender"])}}},
    )
    ((_, mapping),) = mappings.items()
    properties = mapping["Properties"]
    assert properties["BatchSize"] > 10 and 0 < properties["MaximumBatchingWindowInSeconds"] <= 300
