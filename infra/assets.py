"""Lambda code built locally, without Docker: one small asset per function, the clawgate package as a layer and the
runtime dependencies as a second layer. Every build lands in `.clawgate/build/<kind>/<content key>/` and is reused
while its inputs are unchanged; the dependency layer (a pip download of ~170 MB) is keyed by the pinned list."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from infra.project import Project

LAMBDA_PYTHON = "3.12"
WHEEL_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
STUB_DEPENDENCIES_ENV = "CLAWGATE_SYNTH_STUB_DEPS"
LAMBDA_PYTHON_ENV = "CLAWGATE_LAMBDA_PYTHON"
BUILD_FORMAT = "1"
STUB_KEY = "stub"
# Never shipped to Lambda: the local runtime (starlette, moto, embedded PostgreSQL) lives here.
PACKAGE_EXCLUDES = frozenset({"local"})


@dataclass(frozen=True)
class Asset:
    path: Path  # the folder to ship (a layer's folder holds `python/`)
    key: str  # content hash, used as the CDK asset hash


@dataclass(frozen=True)
class Assets:
    functions: dict[str, Asset]
    package_layer: Asset
    dependencies_layer: Asset


def build_assets(project: Project, stub_dependencies: bool | None = None) -> Assets:
    if stub_dependencies is None:
        stub_dependencies = os.environ.get(STUB_DEPENDENCIES_ENV, "") not in ("", "0")
    dependencies = (
        build_stub_dependencies_layer(project)
        if stub_dependencies
        else build_dependencies_layer(project, runtime_dependencies(project.pyproject))
    )
    return Assets(
        functions={
            name: build_function(project, name, [] if stub_dependencies else function_dependencies(project, name))
            for name in project.function_names()
        },
        package_layer=build_package_layer(project),
        dependencies_layer=dependencies,
    )


def runtime_dependencies(pyproject: Path) -> list[str]:
    dependencies: list[str] = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    return dependencies


def function_dependencies(project: Project, name: str) -> list[str]:
    """The pinned optional dependencies (`FunctionSettings.extras`) only this function ships, beside its handler."""
    from infra.function_settings import settings_for

    groups = tomllib.loads(project.pyproject.read_text())["project"]["optional-dependencies"]
    return [requirement for extra in settings_for(name).extras for requirement in groups[extra]]


def build_function(project: Project, name: str, dependencies: list[str] | None = None) -> Asset:
    handler = project.functions_dir / name / "handler.py"
    key = _digest([handler.read_bytes(), _compile_marker().encode(), json.dumps(dependencies or []).encode()])

    def build(target: Path) -> None:
        target.mkdir(parents=True)
        shutil.copy2(handler, target / "handler.py")
        if dependencies:
            _pip_install(target, dependencies)
        compile_bytecode(target, strict=not dependencies)

    return Asset(_build_once(project.build_dir / "functions" / name / key, build), key)


def build_package_layer(project: Project) -> Asset:
    """`python/clawgate/` (with bytecode) and `skills/` (bundled SKILL.md files, read from /opt/skills)."""
    package = sorted(_package_sources(project.package_dir))
    skills = sorted(p for p in project.skills_dir.rglob("*") if p.is_file()) if project.skills_dir.is_dir() else []
    key = _digest(
        [_compile_marker().encode()]
        + [b"package/" + _relative_bytes(p, project.package_dir) for p in package]
        + [b"skills/" + _relative_bytes(p, project.skills_dir) for p in skills]
    )

    def build(target: Path) -> None:
        _copy_tree(package, project.package_dir, target / "python" / "clawgate")
        _copy_tree(skills, project.skills_dir, target / "skills")
        compile_bytecode(target / "python" / "clawgate")

    return Asset(_build_once(project.build_dir / "clawgate-layer" / key, build), key)


def dependencies_key(dependencies: list[str]) -> str:
    return _digest([json.dumps([dependencies, WHEEL_PLATFORMS, LAMBDA_PYTHON, _compile_marker()]).encode()])


def build_dependencies_layer(project: Project, dependencies: list[str]) -> Asset:
    key = dependencies_key(dependencies)

    def build(target: Path) -> None:
        site = target / "python"
        _pip_install(site, dependencies)
        compile_bytecode(site, strict=False)

    layers = project.build_dir / "dependencies-layer"
    built = _build_once(layers / key, build)
    for stale in layers.iterdir():  # ~125 MB each: keep only the layer of the current pinned list (and the stub)
        if stale.is_dir() and stale.name not in (key, STUB_KEY) and ".partial-" not in stale.name:
            shutil.rmtree(stale, ignore_errors=True)
    return Asset(built, key)


def _pip_install(target: Path, dependencies: list[str]) -> None:
    """Lambda's wheels (arm64, its Python), whatever this machine runs."""
    platforms = [arg for platform in WHEEL_PLATFORMS for arg in ("--platform", platform)]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
         "--only-binary=:all:", "--implementation", "cp", "--python-version", LAMBDA_PYTHON, *platforms,
         "--target", str(target), *dependencies],
        check=True,
    )  # fmt: skip
    shutil.rmtree(target / "bin", ignore_errors=True)


def build_stub_dependencies_layer(project: Project) -> Asset:
    """An empty stand-in (for tests): synthesis does not need the real wheels, only a folder to point at."""

    def build(target: Path) -> None:
        (target / "python").mkdir(parents=True)
        (target / "python" / "STUB.txt").write_text("placeholder dependency layer; synthesised with stub deps\n")

    return Asset(_build_once(project.build_dir / "dependencies-layer" / STUB_KEY, build), "stub-dependencies")


def compile_bytecode(folder: Path, strict: bool = True) -> None:
    """`__pycache__` for the Lambda runtime's interpreter, hash-checked so unzipped mtimes do not matter."""
    python = lambda_python()
    if python is None:
        return
    result = subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(folder)],
        capture_output=True,
        text=True,
    )
    if strict and result.returncode != 0:
        raise RuntimeError(f"compileall failed in {folder}:\n{result.stdout}{result.stderr}")


@lru_cache(maxsize=1)
def lambda_python() -> str | None:
    """A local CPython of the Lambda runtime's version, to write `cpython-312.pyc` files."""
    candidates = [os.environ.get(LAMBDA_PYTHON_ENV), shutil.which(f"python{LAMBDA_PYTHON}")]
    candidates += sorted(
        str(p) for p in Path.home().glob(f".pyenv/versions/{LAMBDA_PYTHON}*/bin/python{LAMBDA_PYTHON}")
    )
    for candidate in filter(None, candidates):
        if _reports_version(candidate, LAMBDA_PYTHON):
            return candidate
    print(
        f"warning: no Python {LAMBDA_PYTHON} found (set {LAMBDA_PYTHON_ENV}); Lambda code ships without __pycache__",
        file=sys.stderr,
    )
    return None


def _reports_version(python: str, version: str) -> bool:
    try:
        result = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.strip() == version


def _compile_marker() -> str:
    return f"format{BUILD_FORMAT}-pyc" if lambda_python() else f"format{BUILD_FORMAT}-nopyc"


def _package_sources(package_dir: Path) -> Iterable[Path]:
    for path in package_dir.rglob("*"):
        relative = path.relative_to(package_dir)
        if path.is_dir() or "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        if relative.parts[0] in PACKAGE_EXCLUDES:
            continue
        yield path


def _relative_bytes(path: Path, root: Path) -> bytes:
    return path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes()


def _copy_tree(files: list[Path], source_root: Path, destination: Path) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    for source in files:
        copied = destination / source.relative_to(source_root)
        copied.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, copied)


def _digest(parts: Iterable[bytes]) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(hashlib.sha256(part).digest())
    return hasher.hexdigest()[:20]


def _build_once(target: Path, build: Callable[[Path], None]) -> Path:
    """Build into a scratch folder and rename it into place, so a failed or concurrent build never leaves half."""
    if target.is_dir():
        return target
    scratch = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    try:
        build(scratch)
        scratch.rename(target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
