"""One synthesis per test session: the platform stack and two tenant stacks (fixture tenant files), with the real
functions, package and state-machine files, and a stub dependency layer (no pip download)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack, cx_api
from aws_cdk.assertions import Template

from infra.app import ClawgateApp, build_app
from infra.project import Project, required_functions

ACME = """
slug: acme
name: Acme Dental
timezone: Asia/Almaty
currency: KZT
agents:
  - {id: assistant, name: Aliya, model: anthropic/claude-sonnet-4-5}
  - {id: director, name: Klod, model: anthropic/claude-opus-4-1}
channels:
  whatsapp:
    - {phone_number_id: "106540352242922", waba_id: "102290129340398", agent: assistant,
       access_token: "secret:acme/whatsapp"}
  telegram:
    - {agent: director, bot_token: "secret:acme/telegram-director", dm_policy: allowlist, allow_from: [123456789]}
meta: {ad_account_id: act_1234567890, page_id: "153125381133", access_token: "secret:acme/meta"}
capi: {dataset_id: "1234567890", threshold: 3}
ads:
  agent: director
  account_daily_cap: 100000
  heartbeat: true
  schedules: {scoring: "off", morning_report: "cron(0 8 ? * MON-FRI *)"}
"""

BISTRO = """
slug: bistro_one
name: Bistro One
timezone: Europe/Berlin
agents:
  - {id: host, name: Hanna}
channels:
  telegram:
    - {agent: host, bot_token: "secret:bistro_one/telegram-host"}
  slack:
    - {team_id: T0BISTRO1, agent: host, bot_token: "secret:bistro_one/slack-bot",
       signing_secret: "secret:bistro_one/slack-signing"}
  discord:
    - {application_id: "1234567890123", public_key: "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988",
       agent: host, bot_token: "secret:bistro_one/discord"}
  messenger:
    - {page_id: "153125381199", agent: host, access_token: "secret:bistro_one/page"}
  instagram:
    - {ig_user_id: "17841400000000099", agent: host, access_token: "secret:bistro_one/instagram"}
"""

STUB_HANDLER = "def handler(event, context):\n    return None\n"


@dataclass
class Synthesized:
    built: ClawgateApp
    assembly: cx_api.CloudAssembly

    @property
    def outdir(self) -> Path:
        return Path(self.assembly.directory)

    def template(self, stack: Stack) -> Template:
        return Template.from_json(self.template_json(stack))

    def template_json(self, stack: Stack) -> dict[str, Any]:
        return json.loads((self.outdir / stack.template_file).read_text())

    def template_files(self) -> list[Path]:
        return sorted(self.outdir.glob("*.template.json"))


def fixture_project(root: Path) -> Project:
    """The repository's project with its own tenants (ACME, BISTRO), the web UI's page, and a stub for any function the
    catalogue names that has not been written yet (so the suite does not depend on other work landing first)."""
    real = Project.at()
    functions = root / "functions"
    shutil.copytree(real.functions_dir, functions, ignore=shutil.ignore_patterns("__pycache__"))
    for name in required_functions():
        handler = functions / name / "handler.py"
        if not handler.exists():
            handler.parent.mkdir(parents=True)
            handler.write_text(STUB_HANDLER)
    tenants = root / "tenants"
    tenants.mkdir()
    (tenants / "acme.yaml").write_text(ACME)
    (tenants / "bistro_one.yaml").write_text(BISTRO)
    web = root / "web"
    web.mkdir()
    shutil.copy(real.web_dir / "index.html", web / "index.html")  # its CSP is what the deployment rewrites
    return replace(real, functions_dir=functions, tenants_dir=tenants, web_dir=web)


def synthesize(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app with the fixture project; tests/conftest.py's `synthesized` fixture runs it once per session."""
    root = tmp_path_factory.mktemp("infra")
    built = build_app(fixture_project(root), outdir=str(root / "cdk.out"), stub_dependencies=True)
    return Synthesized(built, built.app.synth())


@pytest.fixture(scope="session")
def platform(synthesized: Synthesized) -> Template:
    return synthesized.template(synthesized.built.platform)
