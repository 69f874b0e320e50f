"""Agent turns: routing, prompt, providers, tools, sessions, usage, and the steps of the AgentTurn workflow."""
