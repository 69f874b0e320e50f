"""SQL lives in the data-access layer: `<package>/data/<aggregate>.py` modules, one per aggregate (turns, sessions,
dialogs, leads…), which take a `clawgate.db.Conn` and return typed rows. Everything else reads like the domain.

Two rules, read off the source with `ast` (so a lazy import or an f-string counts):

1. A string that is SQL appears only in a data module, in `db/` (the pool, logins, migrations: the database layer
   itself) or in `local/` (the PostgreSQL implementation of SQS and Step Functions' sync runs, for the dev runtime).
2. A data module imports from Clawgate only what is below every domain: `db`, `core`, observability, and other data
   modules. It never imports the domain logic that calls it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "clawgate" / "clawgate"

SQL = re.compile(
    r"^\s*(SELECT\s|INSERT\s+INTO\s|UPDATE\s+[\w.]+\s+(AS\s+\w+\s+)?SET\s|DELETE\s+FROM\s|WITH\s+\w+\s+AS\s*\("
    r"|(CREATE|ALTER|DROP)\s+(TABLE|INDEX|SCHEMA|ROLE|VIEW|FUNCTION)\s|GRANT\s|REVOKE\s|TRUNCATE\s|LOCK\s+TABLE\s"
    r"|SET\s+(LOCAL\s+)?(ROLE|search_path|statement_timeout)\b)"
)
INFRASTRUCTURE = ("db", "local")
DATA_MAY_IMPORT = ("clawgate.db", "clawgate.core", "clawgate.observability", "clawgate.settings", "clawgate.tracing")


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(), filename=str(path))


def is_data_module(name: str) -> bool:
    return "/data/" in f"/{name}"


def docstrings(tree: ast.Module) -> set[int]:
    bodies = [tree.body] + [
        node.body for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]
    return {
        id(body[0].value)
        for body in bodies
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    }


def sql_strings(tree: ast.Module) -> list[str]:
    skip = docstrings(tree)
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and SQL.match(node.value)
    ]


def clawgate_imports(tree: ast.Module, name: str) -> set[str]:
    package = "clawgate." + name.removesuffix(".py").replace("/", ".")
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level)[0]
                base = f"{parent}.{base}" if base else parent
            imported |= {f"{base}.{alias.name}" for alias in node.names} if not node.module else {base}
    return {module for module in imported if module.startswith("clawgate.")}


def test_sql_lives_in_data_modules_and_the_database_layer() -> None:
    misplaced = {
        name: sql[0].split("\n")[0][:80]
        for name, tree in modules()
        if not is_data_module(name) and name.split("/")[0] not in INFRASTRUCTURE and (sql := sql_strings(tree))
    }
    assert misplaced == {}, "SQL outside a data module (move it to <package>/data/<aggregate>.py)"


def test_data_modules_import_nothing_above_them() -> None:
    upward = {
        name: sorted(
            module
            for module in clawgate_imports(tree, name)
            if not module.startswith(DATA_MAY_IMPORT) and ".data" not in module
        )
        for name, tree in modules()
        if is_data_module(name)
    }
    assert {name: found for name, found in upward.items() if found} == {}


def test_the_sql_detector_sees_sql_and_not_prose() -> None:
    tree = ast.parse(
        '"""SELECT the docstring is prose."""\n'
        'Q = "SELECT id FROM turns WHERE id = %s"\n'
        'U = f"UPDATE turns SET status = {x}"\n'
        'W = "WITH session AS (SELECT 1) SELECT 1"\n'
        'P = "Select an agent to talk to"\n'
        'R = "SET LOCAL ROLE tenant_demo"\n'
    )
    assert sorted(sql_strings(tree)) == [
        "SELECT id FROM turns WHERE id = %s",
        "SET LOCAL ROLE tenant_demo",
        "UPDATE turns SET status = ",
        "WITH session AS (SELECT 1) SELECT 1",
    ]
