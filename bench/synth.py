"""`python -m bench.synth`: how long the CDK app takes to build its assets and synthesise, the peak memory of the
Python process and of the jsii Node process, and the size of every Lambda asset and layer (folder and zip)."""

from __future__ import annotations

import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from infra.app import build_app
from infra.assets import Asset, Assets, build_assets, folder_size
from infra.project import Project

MIB = 1024 * 1024


def main() -> None:
    stub = "--stub-deps" in sys.argv
    started = time.perf_counter()
    assets = build_assets(Project.at(), stub_dependencies=stub)
    built_at = time.perf_counter()
    with tempfile.TemporaryDirectory() as outdir:
        app = build_app(outdir=outdir, stub_dependencies=stub)
        assembly = app.app.synth()
        finished = time.perf_counter()
        stacks = ", ".join(stack.stack_name for stack in assembly.stacks)
    print("CDK synthesis (python -m infra.app)")
    print(f"  stacks              {stacks}")
    print(f"  assets build        {built_at - started:6.1f} s  (cached builds are reused; first run downloads wheels)")
    print(f"  app + synth + nag   {finished - built_at:6.1f} s")
    print(f"  peak RSS python     {_peak_rss_self() / MIB:6.0f} MiB")
    print(f"  peak RSS node/jsii  {_peak_rss_children() / MIB:6.0f} MiB")
    _print_sizes(assets)


def _print_sizes(assets: Assets) -> None:
    print("  asset                              unzipped      zipped")
    rows = [(f"function {name}", asset) for name, asset in sorted(assets.functions.items())]
    rows += [("layer clawgate", assets.package_layer), ("layer dependencies", assets.dependencies_layer)]
    for label, asset in rows:
        print(f"  {label:<32} {_size(folder_size(asset.path)):>10}  {_size(_zipped_size(asset)):>10}")


def _zipped_size(asset: Asset) -> int:
    with tempfile.NamedTemporaryFile(suffix=".zip") as archive:
        with zipfile.ZipFile(archive.name, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(asset.path.rglob("*")):
                if path.is_file():
                    zipped.write(path, path.relative_to(asset.path).as_posix())
        return Path(archive.name).stat().st_size


def _size(size: int) -> str:
    return f"{size / MIB:.1f} MiB" if size >= MIB else f"{size / 1024:.1f} KiB"


def _peak_rss_self() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _peak_rss_children() -> int:
    """The jsii Node process (under a launcher) is still running: the largest high-water mark among descendants."""
    return max((_high_water_mark(pid) for pid in _descendants("self")), default=0)


def _descendants(pid: str) -> list[str]:
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            found += [child, *_descendants(child)]
    return found


def _high_water_mark(pid: str) -> int:
    status = Path(f"/proc/{pid}/status")
    for line in status.read_text().splitlines() if status.exists() else []:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


if __name__ == "__main__":
    main()
