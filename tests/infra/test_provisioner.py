"""The tenant stack's custom resource: Create/Update apply the tenant file; Delete never touches the tenant's data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clawgate.db import pool
from clawgate.tenancy import apply, provisioner
from clawgate.tenancy.apply import ApplyResult
from clawgate.tenancy.model import TenantFile, parse_tenant

pytestmark = pytest.mark.infra

TENANT = {"slug": "acme", "name": "Acme", "agents": [{"id": "assistant", "name": "Aliya"}]}


def event(request_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResourceProperties": {"ServiceToken": "arn:token", provisioner.TENANT_FILE_PROPERTY: json.dumps(TENANT)},
        **extra,
    }


@pytest.fixture
def applied(monkeypatch: pytest.MonkeyPatch) -> list[TenantFile]:
    calls: list[TenantFile] = []

    def record(tenant: TenantFile) -> ApplyResult:
        calls.append(tenant)
        return ApplyResult(tenant.slug, ["tenant record"])

    monkeypatch.setattr(apply, "apply_tenant", record)
    return calls


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_apply_the_tenant_file(applied: list[TenantFile], request_type: str) -> None:
    response = provisioner.on_event(event(request_type, PhysicalResourceId="tenant_acme"))
    assert applied == [parse_tenant(TENANT)]
    assert response["PhysicalResourceId"] == "tenant_acme"
    assert response["Data"]["Schema"] == "tenant_acme"


def test_delete_is_a_no_op(applied: list[TenantFile], monkeypatch: pytest.MonkeyPatch) -> None:
    def no_database() -> None:
        raise AssertionError("Delete must not touch the database")

    monkeypatch.setattr(pool, "get_pool", no_database)
    response = provisioner.on_event(event("Delete", PhysicalResourceId="tenant_acme"))
    assert applied == []
    assert response == {"PhysicalResourceId": "tenant_acme"}
