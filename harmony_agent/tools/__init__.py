"""Tools the agent can call: the tool interface, function tools, python and browser."""
