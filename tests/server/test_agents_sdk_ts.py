"""The OpenAI Agents SDK for TypeScript against the server (opt-in: it needs npm packages).

Set up once, from the npm registry: ``cd tests/server/agents_ts && npm install`` (Node 20
or newer); the test is skipped until then. Checked with @openai/agents 0.20.0.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from harmony_agent.format import Encoding
from tests.server.conftest import Served
from tests.server.test_chat import weather_model

HERE = Path(__file__).parent / "agents_ts"
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (HERE / "node_modules" / "@openai" / "agents").is_dir(),
    reason="needs node and `npm install` in tests/server/agents_ts",
)


def test_a_typescript_agent_calls_its_tool_through_the_server(
    served: Callable[..., Served], encoding: Encoding
) -> None:
    app = served(weather_model(encoding))
    done = subprocess.run(
        ["node", "run.mjs", app.v1], cwd=HERE, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["plain"] == result["streamed"] == "It is sunny in Oslo."
    assert result["cities"] == ["Oslo", "Oslo"]  # the SDK ran the function both times
    assert "It is sunny in Oslo." in result["deltas"]  # streamed token by token
    assert len(app.engine.bodies) == 4
