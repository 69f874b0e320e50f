"""Where the app finds what it deploys: functions, the clawgate package, tenant files, state-machine definitions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clawgate import entrypoints

REPO_ROOT = Path(__file__).resolve().parents[1]

# Functions the infrastructure itself wires up (not listed in the catalogue).
TENANT_PROVISIONER = "tenant_provisioner"
DB_MIGRATOR = "db_migrator"
ADMIN = "admin"  # `clawgate --aws …` invokes it (clawgate/cli/admin.py)
WORKFLOW_PREFIX = "workflow:"


class MissingFunctionError(LookupError):
    pass


@dataclass(frozen=True)
class Project:
    functions_dir: Path
    package_dir: Path
    tenants_dir: Path
    statemachines_dir: Path
    web_dir: Path
    skills_dir: Path
    pyproject: Path
    build_dir: Path

    @classmethod
    def at(cls, root: Path = REPO_ROOT) -> Project:
        return cls(
            functions_dir=root / "functions",
            package_dir=root / "layers" / "clawgate" / "clawgate",
            tenants_dir=root / "tenants",
            statemachines_dir=root / "infra" / "statemachines",
            web_dir=root / "web",
            skills_dir=root / "skills",
            pyproject=root / "pyproject.toml",
            build_dir=root / ".clawgate" / "build",
        )

    def function_names(self) -> list[str]:
        return sorted(path.parent.name for path in self.functions_dir.glob("*/handler.py"))

    def tenant_files(self) -> list[Path]:
        return sorted(self.tenants_dir.glob("*.yaml"))

    def asl_file(self, workflow: str) -> Path:
        return self.statemachines_dir / f"{workflow}.asl.json"

    def check_functions(self) -> None:
        """Every function the catalogue routes to must exist: a route to nothing is a deploy-time surprise."""
        missing = sorted(set(required_functions()) - set(self.function_names()))
        if missing:
            where = ", ".join(f"functions/{name}/handler.py" for name in missing)
            raise MissingFunctionError(f"the entry-point catalogue names functions that do not exist: {where}")


def workflow_of(target: str) -> str | None:
    return target.removeprefix(WORKFLOW_PREFIX) if target.startswith(WORKFLOW_PREFIX) else None


def required_functions() -> list[str]:
    names = {route.function for route in entrypoints.HTTP_ROUTES}
    names |= set(entrypoints.WEBSOCKET_ROUTES.values())
    names |= {c.target for c in entrypoints.QUEUE_CONSUMERS if workflow_of(c.target) is None}
    names |= {name for tasks in entrypoints.WORKFLOW_TASKS.values() for name in tasks.values()}
    return sorted(names | {TENANT_PROVISIONER, DB_MIGRATOR, ADMIN})
