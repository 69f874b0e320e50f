"""Ads management on the Marketing API (facebook-business): insights, objects, budgets under guardrails, creatives
uploaded from the blob store, and the tools that expose them to operator channels (risk `ads`)."""
