"""The agent layer: backend protocol, sampling parameters and the agent loop."""
