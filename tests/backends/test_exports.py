"""The public names of ``harmony_agent.backends`` and ``harmony_agent.testing``."""

from __future__ import annotations

import subprocess
import sys

import harmony_agent.backends as backends
import harmony_agent.testing as testing


def test_backends_exports() -> None:
    assert set(backends.__all__) == {
        "Finish",
        "HTTPBackend",
        "LlamaCpp",
        "Ollama",
        "Pool",
        "Replay",
        "ReplayDrift",
        "ReplayExhausted",
        "ResumePolicy",
        "Resuming",
        "SGLang",
        "Scripted",
        "Transformers",
        "VLLM",
        "VLLMEngine",
    }
    assert all(hasattr(backends, name) for name in backends.__all__)


def test_testing_exports() -> None:
    assert set(testing.__all__) == {
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
    }
    assert all(hasattr(testing, name) for name in testing.__all__)


def test_importing_backends_stays_cheap() -> None:
    """No engine, torch or codec is imported until a backend needs it."""
    code = (
        "import sys, harmony_agent.backends, harmony_agent.testing\n"
        "heavy = {'torch', 'transformers', 'vllm'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
