"""What the model reads back from the python tool, without a kernel."""

from __future__ import annotations

from pathlib import Path

from harmony_agent.tools.python import Output
from harmony_agent.tools.python._output import NO_OUTPUT, ImageSaver, Transcript, trim_traceback


def _text(*outputs: Output, limit: int = 1000) -> str:
    transcript = Transcript(limit)
    for output in outputs:
        transcript.add(output)
    return transcript.text()


def test_pieces_keep_their_order_and_lines():
    assert _text(Output("stdout", "a"), Output("result", "1"), Output("stderr", "b\n")) == "a\n1\nb"
    assert _text() == NO_OUTPUT


def test_long_output_keeps_head_and_tail_and_says_how_much_is_gone():
    transcript = Transcript(100)
    for i in range(10_000):
        transcript.add(Output("stdout", f"line {i}\n"))
    transcript.note("[a note]")
    text = transcript.text()
    head, rest = text.split("\n[... ", 1)
    omitted = int(rest.split()[0])
    assert head.startswith("line 0\nline 1\n") and text.endswith("line 9999\n\n[a note]")
    assert len(head) + len(rest) < 100 + 60
    total = sum(len(f"line {i}\n") for i in range(10_000))
    kept = len(text) - len(rest.split("]\n", 1)[0]) - len("[a note]")
    assert omitted > total - 200 and kept < 200


def test_notes_and_prefaces_frame_the_output():
    transcript = Transcript(1000)
    transcript.preface("[first]")
    transcript.note("[last]")
    assert transcript.text() == "[first]\n\n[last]"  # a note says enough
    transcript.add(Output("stdout", "body\n"))
    assert transcript.text() == "[first]\n\nbody\n\n[last]"


def test_images_are_written_beside_existing_files(tmp_path: Path):
    (tmp_path / "output_1.png").write_bytes(b"theirs")
    transcript = Transcript(1000, ImageSaver(tmp_path, "/mnt/data"))
    transcript.add(Output("image", "<Figure>", b"\x89PNG"))
    assert transcript.text() == "[image saved to /mnt/data/output_2.png]"
    assert (tmp_path / "output_1.png").read_bytes() == b"theirs"
    assert (tmp_path / "output_2.png").read_bytes() == b"\x89PNG"


def test_tracebacks_lose_machinery_and_repetition():
    frame = "  Cell In[1], line 1 in f\n    def f(): return f()\n\n"
    text = (
        "Traceback (most recent call last):\n\n"
        "  Cell In[1], line 2\n    f()\n\n"
        + frame * 500
        + "  File /x/site-packages/ipykernel/kernelbase.py:1 in raw_input\n    raise X\n\n"
        + "RecursionError: maximum recursion depth exceeded\n"
    )
    assert trim_traceback(text) == (
        "Traceback (most recent call last):\n"
        "  Cell In[1], line 2\n    f()\n"
        "  Cell In[1], line 1 in f\n    def f(): return f()\n"
        "  [the frame above repeated 499 more times]\n"
        "RecursionError: maximum recursion depth exceeded"
    )


def test_long_tracebacks_keep_first_and_last_frames():
    frames = "".join(f"  File /lib/mod{i}.py:{i} in f{i}\n    call{i}()\n" for i in range(30))
    text = trim_traceback(f"Traceback (most recent call last):\n{frames}ValueError: bad\n")
    lines = text.splitlines()
    assert lines[1].startswith("  File /lib/mod0.py") and "mod29.py" in text
    assert "  [... 22 frames omitted ...]" in lines and lines[-1] == "ValueError: bad"
