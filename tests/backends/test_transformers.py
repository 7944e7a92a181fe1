"""The transformers backend: its import error, and a real tiny model where torch exists."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from harmony_agent.backends import Transformers
from harmony_agent.format import _tokens as T
from tests.backends.conftest import collect, params

HAVE_TORCH = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))


def test_missing_transformers_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ImportError, match=r"pip install 'harmony_agent\[transformers\]'"):
        Transformers("openai/gpt-oss-20b")


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_TORCH, reason="needs torch and transformers")
async def test_tiny_random_model_streams_and_stops() -> None:  # pragma: no cover - optional deps
    """A randomly initialised model, built here from a config (no download)."""
    import torch  # type: ignore[import-not-found,unused-ignore]
    import transformers  # type: ignore[import-not-found,unused-ignore]

    config = transformers.LlamaConfig(
        vocab_size=201088,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=256,
    )
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config).eval()
    with torch.no_grad():  # equal logits: greedy decoding picks token 0 every time
        model.lm_head.weight.mul_(0.0)
    backend = Transformers(model, device="cpu")
    greedy = params(max_tokens=7, temperature=0.0, stop_tokens=())
    assert await collect(backend.stream([1, 2, 3], greedy)) == [[0]] * 7
    stop_at_0 = params(max_tokens=7, temperature=0.0, stop_tokens=(0, T.CALL))
    assert await collect(backend.stream([1, 2, 3], stop_at_0)) == [[0]]

    seeded = params(max_tokens=5, seed=1, stop_tokens=())
    first = await collect(backend.stream([1, 2, 3], seeded))
    assert first == await collect(backend.stream([1, 2, 3], seeded))
    assert len(first) == 5

    stream = backend.stream([1, 2, 3], params(max_tokens=50, stop_tokens=()))
    assert await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_TORCH, reason="needs torch and transformers")
async def test_loads_a_model_from_a_path(tmp_path: Path) -> None:  # pragma: no cover
    import transformers  # type: ignore[import-not-found,unused-ignore]

    config = transformers.LlamaConfig(
        vocab_size=201088,
        hidden_size=8,
        intermediate_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=64,
    )
    transformers.LlamaForCausalLM(config).save_pretrained(tmp_path)
    backend = Transformers(tmp_path, device="cpu")
    assert backend.device == "cpu"
    chunks = await collect(backend.stream([5, 6], params(max_tokens=3, stop_tokens=())))
    assert len(chunks) == 3
    assert str(tmp_path) in repr(backend)
