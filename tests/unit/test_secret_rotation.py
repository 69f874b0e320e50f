"""A rotated secret takes effect within the cache time, not the container's life: in Lambda the Telegram webhook
key and the Meta app secret are read through Secrets Manager's 5-minute cache every time (moto's Secrets Manager)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from clawgate import secrets
from clawgate.channels.telegram_webhook import webhook_secret
from clawgate.core.meta_webhooks import sign, signature_is_valid
from clawgate.settings import reset_settings
from moto import mock_aws


@pytest.fixture
def in_lambda(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "telegram_webhook")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("CLAWGATE_TELEGRAM_WEBHOOK_KEY", "secret:platform/telegram-webhook-key")
    reset_settings()
    parameters.clear_caches()
    with mock_aws():  # the local runtime's own moto mock may be running in this session: its state is shared
        client = boto3.client("secretsmanager", region_name="eu-central-1")
        created = {
            "clawgate/platform/telegram-webhook-key": "key-one",
            "clawgate/platform/meta-app-secret": "app-secret-one",
        }
        for name, value in created.items():
            client.create_secret(Name=name, SecretString=value)
        try:
            yield client
        finally:
            for name in created:
                client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    parameters.clear_caches()
    reset_settings()


def test_a_rotated_telegram_webhook_key_is_used_once_the_cache_expires(in_lambda: Any) -> None:
    client = in_lambda
    before = webhook_secret("acme/director")
    client.put_secret_value(SecretId="clawgate/platform/telegram-webhook-key", SecretString="key-two")
    assert webhook_secret("acme/director") == before  # within the cache time
    parameters.clear_caches()  # what CACHE_SECONDS later looks like
    assert webhook_secret("acme/director") != before
    assert secrets.CACHE_SECONDS <= 300


def test_a_rotated_meta_app_secret_verifies_new_signatures(in_lambda: Any) -> None:
    client = in_lambda
    body = b'{"object":"whatsapp_business_account"}'
    assert signature_is_valid(body, sign(body, "app-secret-one"), "secret:platform/meta-app-secret")
    client.put_secret_value(SecretId="clawgate/platform/meta-app-secret", SecretString="app-secret-two")
    parameters.clear_caches()
    assert signature_is_valid(body, sign(body, "app-secret-two"), "secret:platform/meta-app-secret")
    assert not signature_is_valid(body, sign(body, "app-secret-one"), "secret:platform/meta-app-secret")


def test_a_placeholder_is_read_as_not_set(in_lambda: Any) -> None:
    client = in_lambda
    client.put_secret_value(SecretId="clawgate/platform/telegram-webhook-key", SecretString=secrets.PLACEHOLDER)
    parameters.clear_caches()
    with pytest.raises(secrets.MissingSecretError, match="paste it"):
        webhook_secret("acme/director")
