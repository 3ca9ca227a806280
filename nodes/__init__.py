"""The graph's nodes: the four agents, the tool runner, approval, escalation and fallback."""
