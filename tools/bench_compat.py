"""Benchmark: the openai-harmony compat layer vs openai-harmony itself.

    .venv/bin/python tools/bench_compat.py           # print the comparison
    .venv/bin/python tools/bench_compat.py --check   # also fail if a ratio is below 5x

Same workloads as tools/bench.py (a 200-message tool trajectory, a ~20k-token
completion), driven through each library's own objects, so the numbers include the
object model as well as the codec. Each measurement first checks that both sides give the
same tokens or messages. Not a test: compare ratios, not absolute times.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

# bench sets TIKTOKEN_ENCODINGS_BASE so that openai-harmony loads offline.
from bench import completion_tokens, report, timeit, trajectory  # noqa: E402

import harmony_agent as ha  # noqa: E402
from harmony_agent.compat import openai_harmony as co  # noqa: E402

MIN_RATIO = 5.0


def main(argv: list[str]) -> int:
    import openai_harmony as oh

    check = "--check" in argv
    ratios: list[tuple[str, float]] = []

    def measure(name: str, ours: Callable[[], Any], theirs: Callable[[], Any]) -> None:
        t_ours, t_theirs = timeit(ours), timeit(theirs)
        report(name, t_ours, t_theirs)
        ratios.append((name, t_theirs / t_ours))

    enc = ha.load_encoding()
    ours_enc = co.load_harmony_encoding(co.HarmonyEncodingName.HARMONY_GPT_OSS)
    their_enc = oh.load_harmony_encoding(oh.HarmonyEncodingName.HARMONY_GPT_OSS)

    messages = trajectory(200)
    ours_convo = co.Conversation.from_messages([co.Message.from_ha(m) for m in messages])
    their_convo = oh.Conversation.from_json(ours_convo.to_json())

    print("render (200-message tool trajectory)")
    ours_tokens = ours_enc.render_conversation_for_completion(ours_convo, co.Role.ASSISTANT)
    their_tokens = their_enc.render_conversation_for_completion(their_convo, oh.Role.ASSISTANT)
    assert ours_tokens == their_tokens, "compat render differs from openai-harmony"
    measure(
        f"render_conversation_for_completion ({len(ours_tokens)} tokens)",
        lambda: ours_enc.render_conversation_for_completion(ours_convo, co.Role.ASSISTANT),
        lambda: their_enc.render_conversation_for_completion(their_convo, oh.Role.ASSISTANT),
    )
    native = ha.RenderConfig(cot_policy="upstream", schema_flavor="upstream")
    t_native = timeit(
        lambda: enc.render_conversation_for_completion(messages, ha.Role.ASSISTANT, native)
    )
    t_compat = timeit(
        lambda: ours_enc.render_conversation_for_completion(ours_convo, co.Role.ASSISTANT)
    )
    report("  compat layer vs harmony_agent's own render", t_compat, t_native, "native")

    print("parse")
    completion = completion_tokens(enc)
    rendered = ours_enc.render_conversation(ours_convo)
    for label, tokens, ours_role, their_role in (
        ("model completion", completion, co.Role.ASSISTANT, oh.Role.ASSISTANT),
        ("rendered trajectory, no role", rendered, None, None),
    ):
        ours_msgs = ours_enc.parse_messages_from_completion_tokens(tokens, ours_role)
        their_msgs = their_enc.parse_messages_from_completion_tokens(tokens, their_role)
        assert [m.to_json() for m in ours_msgs] == [m.to_json() for m in their_msgs]
        measure(
            f"parse_messages_from_completion_tokens, {label} ({len(tokens)} tokens, "
            f"{len(ours_msgs)} messages)",
            lambda t=tokens, r=ours_role: ours_enc.parse_messages_from_completion_tokens(t, r),
            lambda t=tokens, r=their_role: their_enc.parse_messages_from_completion_tokens(t, r),
        )

    def stream(module: Any, encoding: Any, role: Any) -> None:
        parser = module.StreamableParser(encoding, role)
        for t in completion:
            parser.process(t)

    measure(
        f"StreamableParser.process, token by token ({len(completion)} tokens)",
        lambda: stream(co, ours_enc, co.Role.ASSISTANT),
        lambda: stream(oh, their_enc, oh.Role.ASSISTANT),
    )

    slow = [(name, ratio) for name, ratio in ratios if ratio < MIN_RATIO]
    if check and slow:
        for name, ratio in slow:
            print(f"below {MIN_RATIO}x: {name} (x{ratio:.1f})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
