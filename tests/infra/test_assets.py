"""Lambda code built without Docker: small function assets, the package layer, the cached dependency layer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from infra import assets
from infra.assets import (
    PACKAGE_EXCLUDES,
    build_dependencies_layer,
    dependencies_key,
    function_dependencies,
    lambda_python,
    runtime_dependencies,
)
from infra.project import Project
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_each_function_asset_is_its_handler_alone(synthesized: Synthesized) -> None:
    for name, asset in synthesized.built.assets.functions.items():
        files = files_under(asset.path)
        assert "handler.py" in files, name
        assert files - {"handler.py"} <= {"__pycache__/handler.cpython-312.pyc"}, name


def test_package_layer_ships_clawgate_and_skills_without_the_local_runtime(synthesized: Synthesized) -> None:
    layer = synthesized.built.assets.package_layer.path
    files = files_under(layer)
    assert "python/clawgate/__init__.py" in files
    assert "python/clawgate/entrypoints.py" in files
    assert {"python/clawgate/jobs/fonts/DejaVuSans.ttf", "python/clawgate/jobs/fonts/LICENSE.txt"} <= files
    assert any(f.startswith("python/clawgate/db/migrations/") and f.endswith(".sql") for f in files)
    assert not any(f.startswith(f"python/clawgate/{excluded}/") for excluded in PACKAGE_EXCLUDES for f in files)
    if lambda_python():
        assert "python/clawgate/__pycache__/entrypoints.cpython-312.pyc" in files
    skills = Project.at().skills_dir
    assert any(f.startswith("skills/") for f in files) == any(skills.rglob("*.md"))


def test_only_the_jobs_function_ships_pillow() -> None:
    project = Project.at()
    shipped = {name: function_dependencies(project, name) for name in project.function_names()}
    assert {name: deps for name, deps in shipped.items() if deps} == {"jobs_run": ["pillow==13.0.0"]}
    assert not any(r.lower().startswith("pillow") for r in runtime_dependencies(project.pyproject))  # not the layer


def test_dependency_layer_is_keyed_by_the_pinned_list() -> None:
    dependencies = runtime_dependencies(Project.at().pyproject)
    assert dependencies and all("==" in requirement for requirement in dependencies)
    assert dependencies_key(dependencies) == dependencies_key(list(dependencies))
    assert dependencies_key(dependencies) != dependencies_key([*dependencies[:-1], "pyyaml==0.0.1"])


def test_a_cached_dependency_layer_is_reused_without_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = replace(Project.at(), build_dir=tmp_path)
    dependencies = ["pyyaml==6.0.3"]
    cached = tmp_path / "dependencies-layer" / dependencies_key(dependencies)
    (cached / "python" / "yaml").mkdir(parents=True)

    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip must not run when the layer is cached")

    monkeypatch.setattr(assets.subprocess, "run", no_pip)
    assert build_dependencies_layer(project, dependencies).path == cached
