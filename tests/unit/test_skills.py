"""Every bundled skill names only tools that exist, and offers (in its frontmatter) every tool its text tells the
model to call: a skill that mentions a renamed or missing tool sends the model after nothing."""

from __future__ import annotations

import re

import pytest
from clawgate.agent.skills import bundled_skills
from clawgate.core.tools import all_tools

# What reads as a tool call in a skill's text: the ads/data/memory/workspace families and the named built-ins.
# (`wa_dialogs` is a table, so only the wa_check/wa_subscribe tools are matched on that prefix.)
TOOL_LIKE = re.compile(
    r"`((?:ads|db|memory|workspace)_[a-z_]+|wa_(?:check|subscribe)[a-z_]*|read_skill|update_dialog|send_message)`"
)
PERMISSIONS = frozenset({"ads_management", "ads_read"})  # Meta permission names, not tools
SKILLS = bundled_skills()
TOOLS = all_tools()


def test_the_bundled_skills_are_found() -> None:
    assert {"fb-campaign", "fb-optimize", "fb-creative-test", "fb-onboarding", "fb-report"} <= set(SKILLS)


@pytest.mark.parametrize("name", sorted(SKILLS))
def test_a_skill_names_only_tools_that_exist_and_offers_those_it_mentions(name: str) -> None:
    skill = SKILLS[name]
    assert set(skill.tools) <= set(TOOLS), f"{name}: unknown tools {set(skill.tools) - set(TOOLS)}"
    mentioned = set(TOOL_LIKE.findall(skill.body)) - PERMISSIONS
    assert mentioned <= set(TOOLS), f"{name} mentions tools that do not exist: {mentioned - set(TOOLS)}"
    assert mentioned <= set(skill.tools) | {"read_skill"}, f"{name} does not offer {mentioned - set(skill.tools)}"
