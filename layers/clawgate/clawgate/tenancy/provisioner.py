"""The tenant stack's custom resource: CloudFormation Create/Update apply the tenant file exactly as
`clawgate tenants apply` does; Delete leaves the schema, its data and its roles where they are.

The tenant file travels as one JSON string property (`TenantFile`): CloudFormation turns every scalar of a
structured property into a string, and the JSON keeps the file exactly as it was validated at synthesis."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from clawgate.tenancy.model import parse_tenant

TENANT_FILE_PROPERTY = "TenantFile"
FIRST_TOKEN_PROPERTY = "FirstTokenSecret"  # the secret the first gateway token goes into (tenancy/first_token.py)


def on_event(event: Mapping[str, Any]) -> dict[str, Any]:
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": event["PhysicalResourceId"]}  # deleting a stack never drops a tenant's data
    from clawgate.tenancy.apply import apply_tenant

    properties = event["ResourceProperties"]
    tenant = parse_tenant(json.loads(properties[TENANT_FILE_PROPERTY]), source="tenant stack custom resource")
    result = apply_tenant(tenant)
    if properties.get(FIRST_TOKEN_PROPERTY):
        from clawgate.tenancy.first_token import ensure_first_token

        if ensure_first_token(tenant.slug, str(properties[FIRST_TOKEN_PROPERTY])):
            result.changes.append("first gateway token written")
    schema = f"tenant_{tenant.slug}"
    return {"PhysicalResourceId": schema, "Data": {"Schema": schema, "Changes": "; ".join(result.changes)[:3000]}}
