"""Test helpers shipped with the package: fake engine servers that run offline.

Pair them with the adapters in :mod:`harmony_agent.backends` to test agents without a
GPU or a network: each server speaks its engine's wire format on 127.0.0.1 and runs a
scripted model. For tests that need no HTTP at all, use
:class:`harmony_agent.backends.Scripted`. :func:`replay_cases` and :func:`replay` turn a
folder of recorded runs into regression tests.
"""

from harmony_agent.testing._replay import areplay, replay, replay_cases
from harmony_agent.testing.fake_servers import (
    Cut,
    FakeLlamaCppServer,
    FakeOllamaServer,
    FakeServer,
    FakeSGLangServer,
    FakeVLLMServer,
    Generation,
    Model,
)

__all__ = [
    "Cut",
    "FakeLlamaCppServer",
    "FakeOllamaServer",
    "FakeSGLangServer",
    "FakeServer",
    "FakeVLLMServer",
    "Generation",
    "Model",
    "areplay",
    "replay",
    "replay_cases",
]
