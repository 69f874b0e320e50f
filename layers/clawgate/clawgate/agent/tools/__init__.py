"""The tool registry, the tool policy and the built-in tools (imported here so they register)."""

from clawgate.agent.tools import builtin as builtin
from clawgate.agent.tools.policy import ToolRefused, channel_profile, check_call, offered_tools
from clawgate.agent.tools.registry import TOOLS, Tool, ToolContext, ToolFailure
from clawgate.meta.marketing import tools as ads_tools  # the Marketing API tools (risk `ads`)

__all__ = ["TOOLS", "Tool", "ToolContext", "ToolFailure", "ToolRefused", "ads_tools", "channel_profile", "check_call",
           "offered_tools"]  # fmt: skip
