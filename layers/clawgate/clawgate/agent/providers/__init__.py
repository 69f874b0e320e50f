"""Choose the provider for `<provider>/<model>`: anthropic, bedrock, offline, or one the tenant file declares."""

from __future__ import annotations

import os
from functools import lru_cache

from clawgate.agent.providers.base import ModelError, Provider
from clawgate.secrets import resolve
from clawgate.tenancy.model import TenantFile


def split_model(model: str) -> tuple[str, str]:
    provider, _, model_id = model.partition("/")
    return provider, model_id


def anthropic_configured() -> bool:
    return bool(os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


@lru_cache(maxsize=32)
def _anthropic(api_key: str | None, base_url: str | None) -> Provider:
    from clawgate.agent.providers.anthropic import AnthropicProvider

    return AnthropicProvider.direct(api_key, base_url)


@lru_cache(maxsize=8)
def _bedrock() -> Provider:
    from clawgate.agent.providers.anthropic import AnthropicProvider

    return AnthropicProvider.bedrock()


@lru_cache(maxsize=32)
def _openai(name: str, base_url: str, api_key: str | None) -> Provider:
    from clawgate.agent.providers.openai_compat import OpenAICompatibleProvider

    return OpenAICompatibleProvider(name, base_url, api_key)


def provider_for(tenant: TenantFile, model: str) -> Provider:
    """Clients are cached per process (a warm Lambda reuses its connections)."""
    name, _ = split_model(model)
    if name == "offline" or (name == "anthropic" and not anthropic_configured()):
        from clawgate.agent.providers.offline import OfflineProvider

        return OfflineProvider()
    if name == "anthropic":
        api_key = os.environ.get("ANTHROPIC_API_KEY") or resolve("secret:platform/anthropic")
        return _anthropic(api_key, os.environ.get("ANTHROPIC_BASE_URL"))
    if name == "bedrock":
        return _bedrock()
    spec = tenant.providers.get(name)
    if spec is None:
        raise ModelError(f"model {model!r}: no provider {name!r}")
    return _openai(name, spec.base_url, resolve(spec.api_key) if spec.api_key else None)
