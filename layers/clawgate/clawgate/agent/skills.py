"""Skills: `skills/<name>/SKILL.md` files with YAML frontmatter (name, description, tools, channels) and a body of
steps. The prompt carries only a short index; the model loads a body on demand with `read_skill`. A tenant
overrides a bundled skill by keeping its own copy as the workspace file `skills/<name>/SKILL.md`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from clawgate.settings import PROJECT_ROOT

WORKSPACE_PREFIX = "skills/"


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    body: str
    tools: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    source: str = "bundled"
    extra: dict[str, object] = field(default_factory=dict)

    def available_on(self, channel: str) -> bool:
        return not self.channels or channel in self.channels


class SkillFormatError(ValueError):
    pass


def parse_skill(text: str, source: str) -> Skill:
    if not text.startswith("---"):
        raise SkillFormatError(f"{source}: SKILL.md must start with YAML frontmatter")
    _, front, body = text.split("---", 2)
    meta = yaml.safe_load(front) or {}
    if not meta.get("name") or not meta.get("description"):
        raise SkillFormatError(f"{source}: frontmatter needs name and description")
    known = {"name", "description", "tools", "channels"}
    return Skill(
        name=str(meta["name"]),
        description=" ".join(str(meta["description"]).split()),
        body=body.strip(),
        tools=tuple(meta.get("tools") or ()),
        channels=tuple(meta.get("channels") or ()),
        source=source,
        extra={k: v for k, v in meta.items() if k not in known},
    )


def skills_dir() -> Path:
    return Path(os.environ.get("CLAWGATE_SKILLS_DIR") or PROJECT_ROOT / "skills")


@lru_cache(maxsize=1)
def bundled_skills() -> dict[str, Skill]:
    skills = [parse_skill(p.read_text(), str(p)) for p in sorted(skills_dir().glob("*/SKILL.md"))]
    return {skill.name: skill for skill in skills}


def merged_skills(workspace: dict[str, str]) -> dict[str, Skill]:
    """Bundled skills, overridden or extended by the agent's workspace copies."""
    skills = dict(bundled_skills())
    for name, content in workspace.items():
        if name.startswith(WORKSPACE_PREFIX) and name.endswith("/SKILL.md"):
            skill = parse_skill(content, f"workspace:{name}")
            skills[skill.name] = Skill(**{**skill.__dict__, "source": "tenant"})
    return skills


def skills_index(skills: dict[str, Skill], channel: str) -> str:
    lines = [
        f"- {s.name}: {s.description}" for s in sorted(skills.values(), key=lambda s: s.name) if s.available_on(channel)
    ]
    return "\n".join(lines)
