"""Shared fixtures: a real PostgreSQL (CLAWGATE_DATABASE_URL, or an embedded server in a temporary directory),
a database per test session, fresh databases where a test needs an empty one, and tenant files."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from clawgate.db import close_pool
from clawgate.settings import reset_settings
from clawgate.tenancy.model import TenantFile, parse_tenant

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # EMF lines on stdout would only be noise here
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ClawgateTest")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
pytest_plugins = ["tests.channel_fixtures"]  # graph, telegram, webhook_key, inbound
TEST_APP_SECRET = "test-app-secret"
TEST_VERIFY_TOKEN = "test-verify-token"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of a PostgreSQL server we may create databases on."""
    if url := os.environ.get("CLAWGATE_DATABASE_URL"):
        yield url
        return
    from clawgate.local.postgres import embedded_server

    with tempfile.TemporaryDirectory(prefix="clawgate-test-pg-") as tmp, embedded_server(Path(tmp) / "pg") as url:
        yield url


def create_database(server_url: str) -> str:
    name = f"clawgate_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(server_url, name)


def use_database(url: str) -> None:
    close_pool()
    os.environ["CLAWGATE_DATABASE_URL"] = url
    os.environ["CLAWGATE_META_APP_SECRET"] = TEST_APP_SECRET
    os.environ["CLAWGATE_META_VERIFY_TOKEN"] = TEST_VERIFY_TOKEN
    reset_settings()


@pytest.fixture(scope="session")
def database(pg_server: str) -> Iterator[str]:
    """One database for the session: most tests work in tenants of their own within it."""
    url = create_database(pg_server)
    use_database(url)
    from clawgate.db.migrate import ensure_platform

    ensure_platform()
    yield url
    close_pool()


@pytest.fixture
def fresh_database(pg_server: str, database: str) -> Iterator[str]:
    """An empty database for this test only; the session database is restored afterwards."""
    url = create_database(pg_server)
    use_database(url)
    yield url
    use_database(database)


def tenant_data(slug: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": slug,
        "name": f"Tenant {slug}",
        "timezone": "Asia/Almaty",
        "currency": "KZT",
        "budget": {"daily_usd": 20},
        "agents": [
            {"id": "assistant", "name": "Aliya", "emoji": "🦷", "model": "anthropic/claude-sonnet-4-5",
             "model_by_channel": {"whatsapp": "anthropic/claude-haiku-4-5"}},
            {"id": "director", "name": "Klod", "model": "anthropic/claude-opus-4-1"},
        ],
        "channels": {
            "whatsapp": [{"phone_number_id": str(abs(hash(slug)) % 10**12), "waba_id": "102290129340398",
                          "agent": "assistant", "access_token": f"secret:{slug}/whatsapp"}],
            "telegram": [{"agent": "director", "bot_token": f"secret:{slug}/telegram-director",
                          "dm_policy": "allowlist", "allow_from": [123456789]}],
        },
        "capi": {"dataset_id": "1234567890", "threshold": 3},
    }  # fmt: skip
    data.update(overrides)
    if data.get("meta"):  # an ad account needs its account-wide daily cap (account currency)
        data["ads"] = {"account_daily_cap": 1_000_000, **(data.get("ads") or {})}
    if data.get("meta") and "director" in {agent["id"] for agent in data["agents"]}:
        # Scheduled ads turns need an agent no customer reaches (the director's bot is allowlisted).
        data["ads"] = {"agent": "director", **(data.get("ads") or {})}
    return data


@pytest.fixture
def make_tenant() -> Callable[..., TenantFile]:
    def make(slug: str | None = None, **overrides: Any) -> TenantFile:
        return parse_tenant(tenant_data(slug or f"t{uuid.uuid4().hex[:8]}", **overrides))

    return make


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The CDK app synthesized once per test session (about 10 s): the infra tests and the IAM-checked end-to-end
    tests share it."""
    from tests.infra.conftest import synthesize

    return synthesize(tmp_path_factory)
