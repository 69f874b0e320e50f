"""The operator's path into a deployed tenant, with no database connection from the laptop: `clawgate --aws …`
invokes the admin function through boto3 (`lambda invoke`); here botocore's own `before-call` hook answers that
Invoke by running functions/admin/handler.py in process, against the real database. And the first gateway token a
tenant stack's provisioner writes into Secrets Manager (moto)."""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.response import StreamingBody
from clawgate.cli import admin, main
from clawgate.db import registry_tx
from clawgate.gateway.data.devices import list_devices, register
from clawgate.local.lambdas import LambdaContext
from clawgate.secrets import PLACEHOLDER
from clawgate.settings import PROJECT_ROOT
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.first_token import ensure_first_token, first_token_secret
from clawgate.tenancy.model import TenantFile
from clawgate.tenancy.tokens import token_tenant
from moto import mock_aws

from infra.platform_stack import ADMIN_FUNCTION_PARAMETER

FUNCTION_NAME = "Clawgate-FunctionsAdmin-AbC123"


def admin_handler() -> Callable[[Any, Any], Any]:
    spec = importlib.util.spec_from_file_location("admin_handler", PROJECT_ROOT / "functions" / "admin" / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Callable[[Any, Any], Any] = module.handler
    return handler


class Invocations:
    """What the admin function was sent; botocore answers each Invoke with the in-process handler's result."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.function_names: list[str] = []
        self._handler = admin_handler()

    def session(self, profile: str | None, region: str | None) -> boto3.Session:
        session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=region or "eu-central-1")
        session.events.register("before-call.ssm.GetParameter", self._parameter)
        session.events.register("before-call.lambda.Invoke", self._invoke)
        return session

    def _parameter(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        assert json.loads(params["body"])["Name"] == ADMIN_FUNCTION_PARAMETER
        return _response({"Parameter": {"Name": ADMIN_FUNCTION_PARAMETER, "Value": FUNCTION_NAME}})

    def _invoke(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        self.function_names.append(params["url_path"].split("/functions/")[1].split("/")[0])
        payload = json.loads(params["body"])
        self.payloads.append(payload)
        context = LambdaContext(function_name="admin")
        data = json.dumps(self._handler(payload, context)).encode()
        return _response({"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(data), len(data))})


def _response(parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    parsed["ResponseMetadata"] = {"HTTPStatusCode": 200, "HTTPHeaders": {}}
    return AWSResponse("", 200, HTTPHeaders(), None), parsed


@pytest.fixture
def remote(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invocations]:
    invocations = Invocations()
    monkeypatch.setattr(admin, "aws_session", invocations.session)
    yield invocations


def test_the_admin_function_is_found_where_the_platform_stack_publishes_it() -> None:
    assert admin.FUNCTION_PARAMETER == ADMIN_FUNCTION_PARAMETER


def test_tokens_create_over_aws_prints_a_token_of_the_tenant(
    remote: Invocations, make_tenant: Callable[..., TenantFile], capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = make_tenant()
    apply_tenant(tenant)
    assert main(["--aws", "--profile", "agency", "tokens", "create", tenant.slug, "--label", "laptop"]) == 0
    token = capsys.readouterr().out.strip()
    assert token_tenant(token) == tenant.slug
    assert remote.payloads == [{"argv": ["tokens", "create", tenant.slug, "--label", "laptop"]}]
    assert remote.function_names == [FUNCTION_NAME]


def test_a_profile_in_the_environment_is_enough(
    remote: Invocations,
    make_tenant: Callable[..., TenantFile],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = make_tenant()
    apply_tenant(tenant)
    monkeypatch.setenv(admin.PROFILE_ENV, "agency")
    assert main(["tenants", "list"]) == 0
    assert tenant.slug in capsys.readouterr().out
    assert remote.payloads == [{"argv": ["tenants", "list"]}]


def test_devices_are_approved_remotely(
    remote: Invocations, make_tenant: Callable[..., TenantFile], capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = make_tenant()
    apply_tenant(tenant)
    with registry_tx() as conn:
        register(conn, tenant.slug, "laptop-1", "Aliya's laptop", approve=False)
    assert main(["--aws", "devices", "approve", "laptop-1", "--tenant", tenant.slug]) == 0
    assert "approved" in capsys.readouterr().out
    with registry_tx() as conn:
        assert [d.status for d in list_devices(conn, tenant.slug) if d.device_id == "laptop-1"] == ["approved"]


def test_a_failing_command_keeps_its_exit_code_and_message(
    remote: Invocations, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--aws", "tokens", "create", "no_such_tenant"]) == 1
    assert "no tenant 'no_such_tenant'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["db", "upgrade"], ["dev"], ["tenants", "apply", "/etc/passwd"]])
def test_commands_outside_the_allowlist_never_reach_aws(
    remote: Invocations, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--aws", *argv]) == 1
    assert "does not run against AWS" in capsys.readouterr().err
    assert remote.payloads == []


def test_the_function_itself_refuses_commands_outside_the_allowlist(remote: Invocations) -> None:
    """Whoever may invoke it directly still gets only the allowed commands."""
    result = admin.run(admin.AdminRequest(argv=["db", "upgrade"]), main)
    assert result.exit_code == 2 and "not allowed" in result.stderr


def test_the_tenant_stacks_first_token_is_written_once(database: str, make_tenant: Callable[..., TenantFile]) -> None:
    tenant = make_tenant()
    apply_tenant(tenant)
    secret = first_token_secret(tenant.slug)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-central-1")
        client.create_secret(Name=secret, SecretString=PLACEHOLDER)
        assert ensure_first_token(tenant.slug, secret, client) is True
        token = client.get_secret_value(SecretId=secret)["SecretString"]
        assert token_tenant(token) == tenant.slug
        assert ensure_first_token(tenant.slug, secret, client) is False  # a redeploy changes nothing
        assert client.get_secret_value(SecretId=secret)["SecretString"] == token
