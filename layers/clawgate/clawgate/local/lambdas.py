"""Loads `functions/<name>/handler.py` and invokes `handler(event, context)` as Lambda would."""

from __future__ import annotations

import importlib.util
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from clawgate.settings import PROJECT_ROOT

FUNCTIONS_DIR = PROJECT_ROOT / "functions"
REGION = "us-east-1"
ACCOUNT = "000000000000"
Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_s: float = 30.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return function_arn(self.function_name)

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.timeout_s - (time.monotonic() - self._started)) * 1000), 0)


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


class UnknownFunctionError(LookupError):
    pass


class LocalLambdas:
    """Handlers imported once (like a warm Lambda) and invoked in process."""

    def __init__(self, functions_dir: Path = FUNCTIONS_DIR) -> None:
        self._dir = functions_dir
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()

    def register(self, name: str, handler: Handler) -> None:
        """Serve `name` with an in-process callable instead of a file (tests, small fixtures)."""
        module = ModuleType(f"functions.{name}.handler")
        module.handler = handler  # type: ignore[attr-defined]
        with self._lock:
            self._modules[name] = module

    def names(self) -> list[str]:
        return sorted(p.parent.name for p in self._dir.glob("*/handler.py"))

    def handler(self, name: str) -> Handler:
        with self._lock:
            module = self._modules.get(name) or self._load(name)
        handler: Handler = module.handler
        return handler

    def invoke(self, name: str, event: Any) -> Any:
        return self.handler(name)(event, LambdaContext(function_name=name))

    def _load(self, name: str) -> ModuleType:
        path = self._dir / name / "handler.py"
        if not path.is_file():
            raise UnknownFunctionError(f"no function {name!r} ({path})")
        spec = importlib.util.spec_from_file_location(f"functions.{name}.handler", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self._modules[name] = module
        return module
