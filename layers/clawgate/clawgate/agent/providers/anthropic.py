"""Anthropic, direct or Claude on Bedrock, through the anthropic SDK. The SDK's own retries are off: the state
machine retries, with backoff and jitter, where the attempts are visible."""

from __future__ import annotations

from typing import Any

import anthropic

from clawgate.agent.providers.base import (
    ModelAnswer,
    ModelError,
    ModelOverloaded,
    ModelRateLimited,
    ModelRequest,
    ModelTimeout,
    Usage,
)
from clawgate.core.channels import TextSink

TIMEOUT_S = 60.0


class AnthropicProvider:
    def __init__(self, client: anthropic.Anthropic | anthropic.AnthropicBedrock, name: str = "anthropic") -> None:
        self.name = name
        self._client = client

    @classmethod
    def direct(cls, api_key: str | None, base_url: str | None = None) -> AnthropicProvider:
        return cls(anthropic.Anthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=TIMEOUT_S))

    @classmethod
    def bedrock(cls, region: str | None = None) -> AnthropicProvider:
        return cls(anthropic.AnthropicBedrock(aws_region=region, max_retries=0, timeout=TIMEOUT_S), name="bedrock")

    def complete(self, request: ModelRequest, on_text: TextSink | None = None) -> ModelAnswer:
        kwargs: dict[str, Any] = {
            "model": request.model,
            "system": request.system,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
        }
        if request.tools:
            kwargs["tools"] = request.tools
        try:
            message = self._stream(kwargs, on_text) if on_text else self._client.messages.create(**kwargs)
        except anthropic.RateLimitError as error:
            raise ModelRateLimited(str(error)) from error
        except anthropic.APIStatusError as error:
            if error.status_code == 529 or error.status_code >= 500:
                raise ModelOverloaded(f"{error.status_code}: {error.message}") from error
            raise ModelError(f"{error.status_code}: {error.message}") from error
        except anthropic.APITimeoutError as error:
            raise ModelTimeout(str(error)) from error
        except anthropic.APIConnectionError as error:
            raise ModelTimeout(f"connection: {error}") from error
        return _answer(message)

    def _stream(self, kwargs: dict[str, Any], on_text: TextSink) -> Any:
        with self._client.messages.stream(**kwargs) as stream:
            for text in stream.text_stream:
                on_text(text)
            return stream.get_final_message()


def _answer(message: Any) -> ModelAnswer:
    usage = message.usage
    return ModelAnswer(
        content=[block.model_dump(exclude_none=True) for block in message.content],
        stop_reason=message.stop_reason or "end_turn",
        usage=Usage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_input_tokens or 0,
            cache_write_tokens=usage.cache_creation_input_tokens or 0,
        ),
        model=message.model,
    )
