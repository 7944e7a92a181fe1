"""Compatibility layers that let code written for other harmony libraries run on ours.

``harmony_agent.compat.openai_harmony`` is a drop-in replacement for the public Python
API of openai-harmony 0.0.8, implemented on harmony_agent's codec (no Rust extension,
no download, no environment variables)::

    from harmony_agent.compat import openai_harmony  # instead of: import openai_harmony

Nothing is imported here; the submodule loads on first use.
"""

__all__: list[str] = []
