"""The OpenAI Agents SDK for TypeScript (``@openai/agents``) against /v1/responses.

Opt-in, like ``test_agents_sdk_ts.py``: it uses ``tests/server/agents_ts/node_modules``
(``cd tests/server/agents_ts && npm install``), or the directory ``HARMONY_AGENT_AGENTS_JS``
names; skipped without them, or without node.
The SDK runs an agent with a function tool: the server hands the call back, the SDK runs
it and sends the items back as input, the model answers; streaming and not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import harmony_agent as ha
from harmony_agent.server import create_app
from tests.server.responses_support import call, final, serve, think

_DIR = os.environ.get("HARMONY_AGENT_AGENTS_JS") or str(Path(__file__).parent / "agents_ts")
_MODULES = Path(_DIR) / "node_modules" if _DIR else None
pytestmark = pytest.mark.skipif(
    _MODULES is None
    or not (_MODULES / "@openai" / "agents").is_dir()
    or shutil.which("node") is None,
    reason="needs node and `npm install` in tests/server/agents_ts (or HARMONY_AGENT_AGENTS_JS)",
)

SCRIPT = """
import { Agent, run, tool, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled }
  from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';

const [baseURL, mode] = process.argv.slice(2);
setDefaultOpenAIClient(new OpenAI({ baseURL, apiKey: 'unused' }));
setOpenAIAPI('responses');
setTracingDisabled(true);
const calls = [];
const getWeather = tool({
  name: 'get_weather',
  description: 'The weather in a city.',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => { calls.push(city); return `It is 3 C in ${city}.`; },
});
const agent = new Agent({ name: 'Weather', instructions: 'Answer briefly.', model: 'gpt-oss',
  tools: [getWeather], modelSettings: { reasoning: { effort: 'low' } } });
let streamed = null;
let result;
if (mode === 'stream') {
  result = await run(agent, 'Weather in Oslo?', { stream: true });
  streamed = '';
  for await (const event of result) {
    if (event.type === 'raw_model_stream_event' && event.data.type === 'output_text_delta') {
      streamed += event.data.delta;
    }
  }
  await result.completed;
} else {
  result = await run(agent, 'Weather in Oslo?');
}
console.log(JSON.stringify({ final: result.finalOutput, calls, streamed,
  items: result.newItems.map((i) => i.type) }));
"""


def _model(encoding: ha.Encoding) -> Callable[[list[int]], str]:
    def model(prompt: list[int]) -> str:
        turn = encoding.decode(prompt).rsplit("<|start|>user", 1)[-1]
        if "functions.get_weather to=assistant" in turn:
            return final("It is 3 C in Oslo.")
        return think("Need the weather.") + call("get_weather", city="Oslo")

    return model


@pytest.mark.parametrize("mode", ["plain", "stream"])
def test_the_agents_sdk_runs_a_function_tool(mode: str, tmp_path: Path) -> None:
    assert _MODULES is not None
    (tmp_path / "node_modules").symlink_to(_MODULES)
    script = tmp_path / "weather.mjs"
    script.write_text(SCRIPT, encoding="utf-8")
    encoding = ha.load_encoding()
    backend = ha.backends.Scripted(_model(encoding), encoding=encoding)
    with serve(create_app(backend)) as client:
        done = subprocess.run(
            ["node", str(script), str(client.base_url).rstrip("/"), mode],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["final"] == "It is 3 C in Oslo." and result["calls"] == ["Oslo"]
    assert result["items"] == [
        "reasoning_item",
        "tool_call_item",
        "tool_call_output_item",
        "message_output_item",
    ]
    if mode == "stream":
        assert result["streamed"] == "It is 3 C in Oslo."
    # the SDK sent the output items back: the second prompt extends the first one
    first, second = backend.prompts
    assert second[: len(first)] == first
    assert "Reasoning: low" in encoding.decode(first)
