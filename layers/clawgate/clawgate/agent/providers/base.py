"""One interface for every model provider. Requests and answers use Anthropic's content blocks (text, tool_use,
tool_result), which is also how transcripts are stored; other providers translate at their edge.

The error classes are named for the state machine: Step Functions retries `ModelOverloaded`, `ModelRateLimited`
and `ModelTimeout` with backoff and jitter (their `errorType` is the class name)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from clawgate.core.channels import TextSink


class ModelError(Exception):
    """A model call that will not succeed by retrying (bad request, auth, unknown model)."""


class ModelOverloaded(ModelError):
    pass


class ModelRateLimited(ModelError):
    pass


class ModelTimeout(ModelError):
    pass


RETRYABLE_ERRORS = ("ModelOverloaded", "ModelRateLimited", "ModelTimeout")


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class ModelRequest:
    model: str  # the provider's model id (without our "<provider>/" prefix)
    system: list[dict[str, Any]]  # text blocks; the stable prefix carries cache_control
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=list)
    max_tokens: int = 1024


@dataclass(frozen=True)
class ModelAnswer:
    content: list[dict[str, Any]]
    stop_reason: str
    usage: Usage
    model: str

    @property
    def text(self) -> str:
        return "".join(block.get("text", "") for block in self.content if block.get("type") == "text")

    @property
    def tool_uses(self) -> list[dict[str, Any]]:
        return [block for block in self.content if block.get("type") == "tool_use"]


class Provider(Protocol):
    name: str

    def complete(self, request: ModelRequest, on_text: TextSink | None = None) -> ModelAnswer:
        """Answer `request`; with `on_text`, stream the answer's text to it as it is generated."""
        ...
