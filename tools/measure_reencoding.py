"""How often re-encoding a reply's text gives other token ids than the model sampled.

A text-only server (Ollama's ``/api/generate``) returns text; ``ha.backends.Ollama``
re-encodes it. Where the model sampled a non-canonical split of some text (``"a" "b"``
where ``"ab"`` is one token), the re-encoded ids differ from the sampled ones from
that point on, and the next step's prompt misses the server's prefix cache there.

    python tools/measure_reencoding.py                        # committed real gpt-oss ids
    python tools/measure_reencoding.py tests/data/sampled_tokens/llamacpp_random.json
    python tools/measure_reencoding.py --sample-llama BIN --save FILE   # fresh samples

Each completion is decoded and streamed, one sampled token's text at a time (whole
UTF-8 characters only, as a server sends them), through the Ollama adapter's
``TextTokenizer``; its final stop token is left out (the text servers send none).
``--drop-end`` also leaves ``<|end|>`` out of the text and lets the adapter restore
it (what it does for servers that do not render control tokens).

``--sample-llama BIN`` starts that ``llama-server`` on the tiny random GGUF
``make test-engines`` caches and samples at temperature 1 over the whole vocabulary
(no top-k/top-p): a random model emits non-canonical sequences far more often than a
trained one, so that figure is an upper bound, not an estimate.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harmony_agent.backends._tokens import TextTokenizer  # noqa: E402
from harmony_agent.format import Encoding, load_encoding  # noqa: E402
from harmony_agent.format import _tokens as T  # noqa: E402

REAL = ROOT / "tests" / "data" / "sampled_tokens" / "gpt_oss.json"
CACHE = Path(
    os.environ.get("HARMONY_AGENT_ENGINES", Path.home() / ".cache" / "harmony_agent" / "engines")
)
FINAL_STOPS = frozenset((T.RETURN, T.CALL, T.END, T.ENDOFTEXT))
PROMPT = "<|start|>user<|message|>What is the weather in Tokyo?<|end|><|start|>assistant"


@dataclass(frozen=True)
class Result:
    """One completion: its length and where the re-encoded ids first differ (None: never)."""

    case: str
    tokens: int
    first_difference: int | None
    reencoded: int
    cause: str = ""


def text_pieces(encoding: Encoding, tokens: list[int]) -> list[str]:
    """The text a server streams for ``tokens``: one piece per token, whole characters.

    Bytes that are not UTF-8 (a random model's stray byte tokens) come out as U+FFFD, as
    a server that sends JSON strings must send them.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pieces = [decoder.decode(encoding.decode_bytes([token])) for token in tokens]
    return [piece for piece in [*pieces, decoder.decode(b"", final=True)] if piece]


def reencode(encoding: Encoding, tokens: list[int], *, drop_end: bool, after: int) -> list[int]:
    """What ``ha.backends.Ollama`` makes of the text the server sent for ``tokens``."""
    shown = [t for t in tokens if not (drop_end and t == T.END)]
    text = TextTokenizer(encoding, restore_end=drop_end, after=after)
    out: list[int] = []
    for piece in text_pieces(encoding, shown):
        out += text.feed(piece)
    return out + text.flush()


def measure(encoding: Encoding, case: str, tokens: list[int], *, drop_end: bool) -> Result:
    if tokens and tokens[-1] in FINAL_STOPS:
        tokens = tokens[:-1]
    again = reencode(encoding, tokens, drop_end=drop_end, after=T.START)
    first = next((i for i, (a, b) in enumerate(zip(tokens, again, strict=False)) if a != b), None)
    if first is None and len(tokens) != len(again):
        first = min(len(tokens), len(again))
    return Result(
        case, len(tokens), first, len(again), cause(encoding, tokens) if first is not None else ""
    )


def cause(encoding: Encoding, tokens: list[int]) -> str:
    """Why the text does not give the sampled ids back."""
    try:
        encoding.decode_bytes(tokens).decode("utf-8")
    except UnicodeDecodeError:
        return "bytes that are not UTF-8 (text cannot carry them)"
    again = encoding.encode(encoding.decode(tokens), allowed_special="all")
    if [t for t in again if t >= T.FIRST_SPECIAL] != [t for t in tokens if t >= T.FIRST_SPECIAL]:
        return "a special token written as ordinary tokens"
    return "a non-canonical split of valid text"


def report(results: list[Result], title: str) -> None:
    differ = [r for r in results if r.first_difference is not None]
    total = sum(r.tokens for r in results)
    lost = sum(r.tokens - r.first_difference for r in differ if r.first_difference is not None)
    print(f"{title}: {len(results)} completions, {total} sampled tokens")
    print(f"  re-encoded ids differ: {len(differ)}/{len(results)} completions")
    for r in differ if len(differ) <= 10 else []:
        print(
            f"    {r.case}: first difference at token {r.first_difference} of {r.tokens} "
            f"({r.tokens - r.first_difference} tokens of the next prompt miss the cache; "
            f"re-encoded length {r.reencoded})"
        )
    causes: dict[str, int] = {}
    for r in differ:
        causes[r.cause] = causes.get(r.cause, 0) + 1
    for why, count in sorted(causes.items(), key=lambda item: -item[1]):
        print(f"  {count} because of {why}")
    if differ:
        firsts = sorted(r.first_difference or 0 for r in differ)
        print(f"  first difference at token: median {firsts[len(firsts) // 2]}, min {firsts[0]}")
    print(f"  completion tokens re-prefilled on the next step: {lost}/{total} ({lost / total:.1%})")


def load(path: Path) -> list[tuple[str, list[int]]]:
    data: dict[str, Any] = json.loads(path.read_text())
    return [(str(c["id"]), [int(t) for t in c["tokens"]]) for c in data["cases"]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sample_llama(binary: str, model: Path, count: int, length: int) -> list[tuple[str, list[int]]]:
    """``count`` completions of the random GGUF at temperature 1, full vocabulary."""
    import httpx

    encoding = load_encoding()
    prompt = encoding.encode(PROMPT, allowed_special="all")
    port = _free_port()
    command = [binary, "-m", str(model), "--host", "127.0.0.1", "--port", str(port)]
    command += ["-c", "4096", "-np", "1", "-t", "2", "--no-warmup"]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(url + "/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise SystemExit(f"llama-server did not start: {log.read()[-2000:]!r}")
                time.sleep(0.2)
            samples: list[tuple[str, list[int]]] = []
            for seed in range(count):
                body = {
                    "prompt": prompt,
                    "n_predict": length,
                    "temperature": 1.0,
                    "top_k": 0,
                    "top_p": 1.0,
                    "min_p": 0.0,
                    "seed": seed,
                    "return_tokens": True,
                    "cache_prompt": True,
                }
                reply = httpx.post(url + "/completion", json=body, timeout=300).json()
                samples.append((f"llama-random-seed-{seed}", [int(t) for t in reply["tokens"]]))
            return samples
        finally:
            server.terminate()
            server.wait(timeout=10)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=REAL, help="a JSON file of cases")
    parser.add_argument("--drop-end", action="store_true", help="leave <|end|> out of the text")
    parser.add_argument("--sample-llama", metavar="BIN", help="sample a random GGUF with BIN")
    parser.add_argument("--model", type=Path, default=CACHE / "tiny-random-harmony-llama.gguf")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--save", type=Path, help="write the sampled cases here")
    args = parser.parse_args(argv)
    encoding = load_encoding()
    if args.sample_llama:
        cases = sample_llama(args.sample_llama, args.model, args.count, args.length)
        title = f"llama.cpp, random model, temperature 1 ({args.length} tokens)"
        if args.save:
            about = (
                "Token ids llama-server sampled from the tiny random harmony GGUF of "
                f"make test-engines at temperature 1, top_k 0, top_p 1, min_p 0, "
                f"n_predict {args.length}, seeds 0..{args.count - 1}, prompt {PROMPT!r}."
            )
            cases_json = [{"id": name, "tokens": tokens} for name, tokens in cases]
            args.save.write_text(json.dumps({"about": about, "cases": cases_json}) + "\n")
    else:
        cases = load(args.data)
        title = str(args.data.relative_to(ROOT) if args.data.is_relative_to(ROOT) else args.data)
    if args.drop_end:
        title += ", <|end|> not in the text"
    report(
        [measure(encoding, name, tokens, drop_end=args.drop_end) for name, tokens in cases], title
    )


if __name__ == "__main__":
    main(sys.argv[1:])
