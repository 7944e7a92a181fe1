"""Fixtures for the openai-harmony compatibility layer.

``oh`` and ``oh_encoding`` (the real openai-harmony, loaded offline through
``TIKTOKEN_ENCODINGS_BASE``) come from ``tests/conftest.py``; tests that use them are
skipped where openai-harmony is not installed.
"""

from __future__ import annotations

import pytest

from harmony_agent.compat import openai_harmony as co
from tests.conftest import FIXTURES


@pytest.fixture(scope="session")
def enc() -> co.HarmonyEncoding:
    return co.load_harmony_encoding(co.HarmonyEncodingName.HARMONY_GPT_OSS)


def fixture_text(name: str) -> str:
    """A reference fixture as upstream reads it (trailing whitespace stripped)."""
    return (FIXTURES / name).read_text(encoding="utf-8").rstrip()


def fixture_ids(name: str) -> list[int]:
    return [int(x) for x in (FIXTURES / name).read_text().split()]
