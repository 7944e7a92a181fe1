"""Tiny random models that carry the real o200k_harmony vocabulary, built at test time.

No weights are downloaded: the vocabulary comes from our own encoding, the weights
from a seeded random generator. ``write_llama_gguf`` writes a one-layer llama GGUF for
llama.cpp (with the vendored ``gguf-py``); ``gpt_oss_model`` builds a few-layer
``GptOssForCausalLM`` for transformers.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from harmony_agent.format import _tokens as T
from harmony_agent.format import load_encoding

CACHE = Path(
    os.environ.get("HARMONY_AGENT_ENGINES", Path.home() / ".cache" / "harmony_agent" / "engines")
)
VOCAB_SIZE = 201_088


def byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map of bytes to printable characters (used by GGUF's gpt2 model)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def _split(token: bytes, rank: int, ranks: dict[bytes, int]) -> tuple[bytes, bytes]:
    """The last merge that built ``token``: BPE on its bytes with lower ranks only."""
    parts = [token[i : i + 1] for i in range(len(token))]
    while len(parts) > 2:
        best, where = rank, -1
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < best:
                best, where = r, i
        if where < 0:
            break
        parts[where : where + 2] = [parts[where] + parts[where + 1]]
    if len(parts) != 2:  # cannot happen for a BPE vocabulary; keep going regardless
        return token[:1], token[1:]
    return parts[0], parts[1]


def harmony_vocab() -> tuple[list[str], list[int], list[str]]:
    """Token strings, token types (1 normal, 3 control) and merges, cached on disk."""
    path = CACHE / "o200k_harmony_gguf_vocab.pickle"
    if path.exists():
        with path.open("rb") as f:
            cached: tuple[list[str], list[int], list[str]] = pickle.load(f)
        return cached
    encoding = load_encoding()
    ranks: dict[bytes, int] = encoding.tiktoken._mergeable_ranks
    mapping = byte_to_unicode()

    def text(raw: bytes) -> str:
        return "".join(mapping[b] for b in raw)

    tokens = [""] * VOCAB_SIZE
    types = [1] * VOCAB_SIZE
    merges: list[tuple[int, str]] = []
    for raw, rank in ranks.items():
        tokens[rank] = text(raw)
        if len(raw) > 1:
            left, right = _split(raw, rank, ranks)
            merges.append((rank, f"{text(left)} {text(right)}"))
    for token in range(T.FIRST_SPECIAL, VOCAB_SIZE):
        tokens[token] = encoding.decode([token])
        types[token] = 3  # CONTROL: llama.cpp renders none of them as text
    result = (tokens, types, [m for _, m in sorted(merges)])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        pickle.dump(result, f)
    tmp.replace(path)
    return result


def write_llama_gguf(path: Path, gguf: Any, *, n_embd: int = 64, n_layer: int = 1) -> Path:
    """A random llama-architecture GGUF with the o200k_harmony vocabulary (f16)."""
    import numpy as np

    if path.exists():
        return path
    tokens, types, merges = harmony_vocab()
    n_head, n_ff = 4, 2 * n_embd
    rng = np.random.default_rng(0)

    def weights(*shape: int) -> Any:
        return (rng.standard_normal(shape) * 0.5).astype(np.float16)

    tmp = path.with_suffix(".tmp")
    writer = gguf.GGUFWriter(str(tmp), "llama")
    writer.add_name("tiny-random-harmony")
    writer.add_context_length(4096)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(1)  # mostly f16
    writer.add_vocab_size(VOCAB_SIZE)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-4o")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(T.STARTOFTEXT)
    writer.add_eos_token_id(T.RETURN)
    writer.add_add_bos_token(False)
    writer.add_tensor("token_embd.weight", weights(VOCAB_SIZE, n_embd))
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    for i in range(n_layer):
        block = f"blk.{i}"
        writer.add_tensor(f"{block}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"{block}.{name}.weight", weights(n_embd, n_embd))
        writer.add_tensor(f"{block}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"{block}.ffn_gate.weight", weights(n_ff, n_embd))
        writer.add_tensor(f"{block}.ffn_up.weight", weights(n_ff, n_embd))
        writer.add_tensor(f"{block}.ffn_down.weight", weights(n_embd, n_ff))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(path)
    return path


def gpt_oss_model(*, layers: int = 2, hidden: int = 64, seed: int = 0) -> Any:
    """A random ``GptOssForCausalLM`` with the real vocabulary size, in float32 on CPU."""
    import torch
    from transformers import GptOssConfig, GptOssForCausalLM

    torch.manual_seed(seed)
    config = GptOssConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=hidden,
        intermediate_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=hidden // 4,
        num_local_experts=4,
        num_experts_per_tok=2,
        sliding_window=128,
        layer_types=["sliding_attention", "full_attention"][:layers] * (layers // 2 or 1),
        max_position_embeddings=4096,
        eos_token_id=[T.RETURN, T.CALL],
        pad_token_id=T.ENDOFTEXT,
        bos_token_id=T.STARTOFTEXT,
        tie_word_embeddings=False,
    )
    model = GptOssForCausalLM(config).to(torch.float32).eval()
    return model


def llama_model(*, layers: int = 2, hidden: int = 256, seed: int = 0) -> Any:
    """A random ``LlamaForCausalLM`` with the real vocabulary size (any engine runs llama)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=4,
        head_dim=hidden // 4,
        max_position_embeddings=4096,
        eos_token_id=[T.RETURN, T.CALL],
        pad_token_id=T.ENDOFTEXT,
        bos_token_id=T.STARTOFTEXT,
        tie_word_embeddings=False,
    )
    return LlamaForCausalLM(config).eval()


def save_model_dir(path: Path, arch: str = "gpt_oss", *, hidden: int = 256) -> Path:
    """A tiny random model saved as a Hugging Face directory (config + safetensors, bf16).

    For engines that load from disk (vLLM): ``arch`` is ``"gpt_oss"`` or ``"llama"``.
    No tokenizer is written; run the engine with token ids only
    (vLLM: ``skip_tokenizer_init=True``).
    """
    import torch

    if (path / "config.json").exists():
        return path
    if arch == "gpt_oss":
        model = gpt_oss_model(hidden=hidden)
    elif arch == "llama":
        model = llama_model(hidden=hidden)
    else:
        raise ValueError(f"arch must be 'gpt_oss' or 'llama', not {arch!r}")
    model.to(torch.bfloat16).save_pretrained(path)
    return path
