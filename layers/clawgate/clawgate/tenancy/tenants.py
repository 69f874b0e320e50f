"""The stored tenant file: read from the registry as it was applied, and cached per process (every turn step
needs it)."""

from __future__ import annotations

import time

from clawgate.db import registry_tx
from clawgate.tenancy.data import registry
from clawgate.tenancy.model import TenantFile

TENANT_CACHE_S = 30.0
_tenant_cache: dict[str, tuple[float, TenantFile]] = {}


class UnknownTenantError(LookupError):
    pass


def load_tenant(slug: str) -> TenantFile | None:
    with registry_tx() as conn:
        config = registry.tenant_config(conn, slug)
    return TenantFile.model_validate(config) if config is not None else None


def cached_tenant(slug: str) -> TenantFile:
    """The tenant file, re-read at most every 30 s per process."""
    hit = _tenant_cache.get(slug)
    if hit and time.monotonic() - hit[0] < TENANT_CACHE_S:
        return hit[1]
    tenant = load_tenant(slug)
    if tenant is None:
        raise UnknownTenantError(f"no tenant {slug!r}")
    _tenant_cache[slug] = (time.monotonic(), tenant)
    return tenant


def forget_cached_tenants() -> None:
    _tenant_cache.clear()
