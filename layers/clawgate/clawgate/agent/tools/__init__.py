"""The tool policy and the built-in tools; the registry itself is `clawgate.core.tools`."""

from clawgate.agent.tools.policy import ToolRefused, channel_profile, check_call, offered_tools
from clawgate.core.tools import Tool, ToolContext, ToolFailure

__all__ = ["Tool", "ToolContext", "ToolFailure", "ToolRefused", "channel_profile", "check_call", "offered_tools"]
