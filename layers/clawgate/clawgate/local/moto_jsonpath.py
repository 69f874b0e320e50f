"""Each JSONPath of a state machine compiled once, not at every state transition: the one patch of moto's internals.

moto's ASL interpreter (pinned exactly in pyproject.toml) evaluates `$.turn_id`, `ResultPath`, a Choice's `Variable`…
by calling jsonpath_ng's `parse(path)` each time, and every call builds a new PLY parser (its lexer and LALR tables)
before parsing: ~2 ms of CPU per turn, a sixth of a turn's CPU locally. Neither moto nor jsonpath_ng offers a hook,
so the two moto modules that call `parse` get a memoised one instead. A parsed expression is immutable (its `find`
and `update_or_create` read it, they change only the data), so one can serve every thread; the paths come from the
definitions, so the cache stays small (bounded all the same). Behaviour is unchanged: the same parser, the same
expression, the same evaluation. tests/unit/test_moto_jsonpath.py fails if moto stops calling `parse` this way."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from types import ModuleType
from typing import Any

import jsonpath_ng
import jsonpath_ng.ext
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.utils import json_path

# The module that calls `parse`, and the parser it imported: extended syntax for paths, plain for ResultPath.
PATCHED: tuple[tuple[ModuleType, Callable[..., Any]], ...] = (
    (json_path, jsonpath_ng.ext.parse),
    (result_path, jsonpath_ng.parse),
)


def install() -> None:
    """Idempotent; process-wide, as the modules are."""
    for module, parse in PATCHED:
        if getattr(module, "parse", None) is parse:
            setattr(module, "parse", lru_cache(maxsize=512)(parse))  # noqa: B010 (a module attribute mypy cannot see)
