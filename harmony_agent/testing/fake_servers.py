"""Real HTTP servers on 127.0.0.1 that speak each engine's wire format, for offline tests.

Each server validates requests the way its engine does (400/404 with the engine's
JSON error shape), runs a scripted "model" (a callable ``prompt_tokens -> completion``,
a list of completions replayed in order, or one harmony text for every request; a
completion is token ids or harmony text), applies the engine's stop
rules and limits, and streams the result in the engine's SSE or NDJSON format::

    with FakeVLLMServer(["<|channel|>final<|message|>Hi<|return|>"]) as server:
        backend = VLLM(server.base_url, model=server.model_name)

Knobs for tests: ``fail_first`` (answer the first N requests with ``fail_status``),
``drop_first`` (then drop the next N connections without an answer), ``cut`` (break
streams: a :class:`Cut` for every stream, or a function choosing per stream; it says
after how many tokens and how: reset, clean end without the end marker, half an event,
EOF-delimited body, stall, or the whole server dying), ``drop_after`` (shorthand for
``cut=Cut(N)``), ``length_limit`` (end every completion for length after N tokens,
whatever the request asked: the server's own limit), ``token_delay``, ``text_only``
(no token ids in the replies), ``strip_stop`` (leave the stop token out of token
ids), ``barrier`` (hold each stream until that many are open at once), ``api_key``.

A request that continues a cut completion (its prompt is an earlier prompt plus that
completion's first tokens) gets the rest of it, as from a real engine. Counters:
``requests_seen``, ``bodies``/``last_request``, ``active``/``max_active``,
``completed``, ``disconnects``, ``streams``, ``cuts``, ``resumed``.
"""

from __future__ import annotations

from harmony_agent.testing._fake_base import Cut, FakeServer, Generation, Model
from harmony_agent.testing._fake_llamacpp import FakeLlamaCppServer
from harmony_agent.testing._fake_ollama import FakeOllamaServer
from harmony_agent.testing._fake_sglang import FakeSGLangServer
from harmony_agent.testing._fake_vllm import FakeVLLMServer

__all__ = [
    "Cut",
    "FakeLlamaCppServer",
    "FakeOllamaServer",
    "FakeSGLangServer",
    "FakeServer",
    "FakeVLLMServer",
    "Generation",
    "Model",
]
