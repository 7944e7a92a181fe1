"""Re-encoding streamed text against token ids gpt-oss really sampled (text-only servers).

The cases are real completions found in public repositories
(``tests/data/sampled_tokens/``). Streamed as text one token at a time, as Ollama sends
it, the re-encoded ids must be exactly the sampled ones wherever the model wrote the
canonical encoding of its text; ``tools/measure_reencoding.py`` reports the rest.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest

from harmony_agent.backends._tokens import TextTokenizer
from harmony_agent.format import _tokens as T
from harmony_agent.format import load_encoding

DATA = Path(__file__).resolve().parents[1] / "data" / "sampled_tokens" / "gpt_oss.json"
CASES: list[dict[str, Any]] = json.loads(DATA.read_text())["cases"]
#: the model spelled ``<|constrain|>`` as six ordinary tokens: its text re-encodes to one
SPELLED_OUT = {"gpt-oss-stub-1", "gpt-oss-stub-3"}
#: greedy gpt-oss-120b prose writing ``"." "\n\n"`` where ``".\n\n"`` is one token
SPLIT = {"moearc-llamacpp-prose"}


def streamed(tokens: list[int], *, drop_end: bool = False) -> list[int]:
    """The ids the Ollama adapter makes of ``tokens`` sent as text, token by token."""
    encoding = load_encoding()
    text = TextTokenizer(encoding, restore_end=drop_end, after=T.START)
    decoder = codecs.getincrementaldecoder("utf-8")()  # a server sends whole characters
    out: list[int] = []
    for token in tokens:
        if not (drop_end and token == T.END):
            out += text.feed(decoder.decode(encoding.decode_bytes([token])))
    return out + text.feed(decoder.decode(b"", final=True)) + text.flush()


def completion(case: dict[str, Any]) -> list[int]:
    tokens = [int(t) for t in case["tokens"]]
    return tokens[:-1] if tokens[-1] in (T.RETURN, T.CALL) else tokens  # no stop in text


def test_the_cases_are_real_completions() -> None:
    assert len(CASES) == 17 and len({c["id"] for c in CASES}) == 17
    for case in CASES:
        assert case["source"] and case["how"]
        assert all(
            0 <= t < T.FIRST_SPECIAL or load_encoding().is_special_token(t) for t in case["tokens"]
        )
        if not case["id"].startswith("moearc-"):  # those two continue prose and a message
            assert T.CHANNEL in case["tokens"][:2], case["id"]


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["id"] not in SPELLED_OUT | SPLIT], ids=lambda c: c["id"]
)
@pytest.mark.parametrize("drop_end", [False, True])
def test_canonical_completions_re_encode_to_the_sampled_ids(
    case: dict[str, Any], drop_end: bool
) -> None:
    tokens = completion(case)
    assert streamed(tokens, drop_end=drop_end) == tokens


@pytest.mark.parametrize("name", sorted(SPELLED_OUT))
def test_a_spelled_out_special_token_comes_back_as_the_token(name: str) -> None:
    tokens = completion(next(c for c in CASES if c["id"] == name))
    again = streamed(tokens)
    assert again != tokens
    first = next(i for i, (a, b) in enumerate(zip(tokens, again, strict=False)) if a != b)
    assert again[first : first + 2] == load_encoding().encode(
        " <|constrain|>", allowed_special="all"
    )
    assert load_encoding().decode(again) == load_encoding().decode(tokens)  # same text


def test_a_non_canonical_split_re_encodes_shorter_with_the_same_text() -> None:
    tokens = completion(next(c for c in CASES if c["id"] in SPLIT))
    again = streamed(tokens)
    encoding = load_encoding()
    assert encoding.decode(again) == encoding.decode(tokens)
    assert [encoding.decode([t]) for t in tokens[1:3]] == [".", "\n\n"]
    assert encoding.decode([again[1]]) == ".\n\n"
    assert len(again) < len(tokens)
