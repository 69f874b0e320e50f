"""End-to-end fixtures: the local runtime, the fake model server behind the real anthropic SDK, and tenants with
gateway tokens."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from clawgate.local.fakes import FakeAnthropic
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile
from clawgate.tenancy.tokens import create_token

from tests.iam_check import IamCheck, checking
from tests.runtime import RunningRuntime, running_runtime


@pytest.fixture(scope="session")
def model_server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        saved = {k: os.environ.get(k) for k in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")}
        os.environ["ANTHROPIC_API_KEY"] = "test-key"
        os.environ["ANTHROPIC_BASE_URL"] = fake.url
        yield fake
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def model(model_server: FakeAnthropic) -> FakeAnthropic:
    model_server.reset()
    return model_server


@pytest.fixture(scope="session")
def local(database: str, model_server: FakeAnthropic) -> Iterator[RunningRuntime]:
    with running_runtime() as running:
        yield running


@dataclass
class Client:
    """A tenant with a gateway token, and the run API."""

    tenant: TenantFile
    token: str
    url: str

    def run(self, agent: str, message: str, **extra: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.token}", **extra.pop("headers", {})}
        return httpx.post(
            f"{self.url}/api/v1/tenants/{self.tenant.slug}/agents/{agent}/run",
            json={"message": message, **extra},
            headers=headers,
            timeout=60,
        )


@pytest.fixture
def client_for(local: RunningRuntime, make_tenant: Callable[..., TenantFile]) -> Callable[..., Client]:
    def make(**overrides: Any) -> Client:
        tenant = make_tenant(**overrides)
        apply_tenant(tenant)
        return Client(tenant, create_token(tenant.slug), local.url)

    return make


@pytest.fixture(autouse=True)
def iam_checked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[IamCheck | None]:
    """For tests marked `iam_checked`: every AWS call a handler makes must be allowed by that function's policy in
    the synthesized template (tests/iam_check.py), so a missing grant fails the test that needs it."""
    if request.node.get_closest_marker("iam_checked") is None:
        yield None
        return
    from infra.nag import logical_id

    synthesized = request.getfixturevalue("synthesized")
    request.getfixturevalue("local")
    platform = synthesized.built.platform
    iam = IamCheck.from_platform(synthesized.template_json(platform), platform, logical_id)
    with checking(iam, monkeypatch):
        yield iam
    attributed = [call for call in iam.calls if call.function]
    assert attributed, "no AWS call was made by a handler: the check saw nothing"
    assert iam.violations == [], "calls the deployed policies would deny: " + "; ".join(map(str, iam.violations))
