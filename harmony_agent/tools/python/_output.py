"""What the model reads back: the outputs of one call, cleaned, bounded and in order.

stdout, stderr, results and errors keep their order. Tracebacks are plain text, the
repeated frames of a deep recursion and the kernel's own frames are left out, and long
ones keep their first and last frames. Output past the limit keeps its head and tail
around a marker saying how much was left out, and is never held in memory whole.
Images are saved as PNG files in the workdir and named by path.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Callable
from pathlib import Path

from harmony_agent.tools.python._executor import Output

__all__ = ["ImageSaver", "Transcript", "trim_traceback"]

NO_OUTPUT = "[no output: the code ran and printed nothing; print() what you want to see]"

#: Frames of these packages are the kernel's machinery, not the model's code.
_MACHINERY = re.compile(r"[/\\](ipykernel|IPython|jupyter_client|zmq|tornado)[/\\]")
_FRAME = re.compile(r"^ {2}(File |Cell In\[)")
_MAX_FRAMES = 8


class ImageSaver:
    """Writes PNG images into ``workdir`` as ``output_N.png``, never over a file."""

    def __init__(self, workdir: Path, shown_as: str) -> None:
        self.workdir, self.shown_as = workdir, shown_as
        self._next = 1

    def __call__(self, png: bytes) -> str:
        """Save ``png``; the path the code and the model know it by."""
        while True:
            name = f"output_{self._next}.png"
            self._next += 1
            try:
                fd = os.open(self.workdir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o664)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as f:
                f.write(png)
            return f"{self.shown_as.rstrip('/')}/{name}"


class Transcript:
    """The outputs of one call as text, at most ``limit`` characters plus notes.

    Args:
        limit: characters kept; half from the start, half from the end.
        save_image: stores an image and returns its path (None: images are described).
    """

    def __init__(self, limit: int, save_image: Callable[[bytes], str] | None = None) -> None:
        self.limit = limit
        self.save_image = save_image
        self._head: list[str] = []
        self._head_room = limit - limit // 2
        self._tail: deque[str] = deque()
        self._tail_size = 0
        self._tail_room = limit // 2
        self._omitted = 0
        self._notes: list[str] = []
        self._prefaces: list[str] = []
        self._last_kind = ""
        self.images: list[str] = []

    def add(self, output: Output) -> None:
        """Take one output (a :data:`~harmony_agent.tools.python.Sink`)."""
        if output.kind == "image":
            text = self._image(output)
        elif output.kind == "error":
            text = trim_traceback(output.text)
        else:
            text = output.text
        if not text:
            return
        # Separate pieces that do not end a line (a result after a print without newline).
        if self._last_kind and not self._ends_line():
            text = "\n" + text
        if output.kind in ("result", "error", "image") and not text.endswith("\n"):
            text += "\n"
        self._last_kind = output.kind
        self._write(text)

    def note(self, text: str) -> None:
        """A line from the tool itself, always shown after the output, never cut."""
        self._notes.append(text)

    def preface(self, text: str) -> None:
        """A line from the tool itself, shown before the output."""
        self._prefaces.append(text)

    def text(self) -> str:
        """Everything, ready for the model."""
        body = "".join(self._head)
        if self._omitted:
            body = body.rstrip("\n") + f"\n[... {self._omitted} characters omitted ...]\n"
        body += "".join(self._tail)
        body = body.rstrip("\n")
        parts = [*self._prefaces, body or ("" if self._notes else NO_OUTPUT), *self._notes]
        return "\n\n".join(part for part in parts if part)

    # -- details --------------------------------------------------------------------------
    def _image(self, output: Output) -> str:
        if self.save_image is None:
            return f"[image: {len(output.data)} bytes of PNG, not saved]"
        path = self.save_image(output.data)
        self.images.append(path)
        return f"[image saved to {path}]"

    def _ends_line(self) -> bool:
        last = self._tail[-1] if self._tail else (self._head[-1] if self._head else "\n")
        return last.endswith("\n")

    def _write(self, text: str) -> None:
        if self._head_room > 0:
            piece = text[: self._head_room]
            self._head.append(piece)
            self._head_room -= len(piece)
            text = text[len(piece) :]
            if not text:
                return
        self._tail.append(text)
        self._tail_size += len(text)
        while self._tail_size > self._tail_room:
            excess = self._tail_size - self._tail_room
            first = self._tail[0]
            if len(first) <= excess:
                self._tail.popleft()
                cut = len(first)
            else:
                self._tail[0] = first[excess:]
                cut = excess
            self._tail_size -= cut
            self._omitted += cut


def trim_traceback(text: str) -> str:
    """A plain-text traceback with what matters: the model's frames and the error.

    Drops the kernel's own frames, folds a frame repeated many times (deep recursion)
    into one line, keeps the first and last frames of a long traceback, and removes the
    blank lines IPython puts between frames.
    """
    blocks = _blocks(text)
    kept: list[list[str]] = []
    repeats = 0
    for block in blocks:
        if _FRAME.match(block[0]) and _MACHINERY.search(block[0]):
            continue
        if kept and block == kept[-1] and _FRAME.match(block[0]):
            repeats += 1
            continue
        if repeats:
            kept.append([f"  [the frame above repeated {repeats} more times]"])
            repeats = 0
        kept.append(block)
    if repeats:
        kept.append([f"  [the frame above repeated {repeats} more times]"])
    frames = [i for i, block in enumerate(kept) if _FRAME.match(block[0])]
    if len(frames) > _MAX_FRAMES:
        start, stop = frames[3], frames[-(_MAX_FRAMES - 3)]
        skipped = sum(1 for i in frames if start <= i < stop)
        kept[start:stop] = [[f"  [... {skipped} frames omitted ...]"]]
    return "\n".join(line for block in kept for line in block)


def _blocks(text: str) -> list[list[str]]:
    """Lines grouped into frames (a location line and its indented source lines)."""
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if blocks and not _FRAME.match(line) and line.startswith("    "):
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return blocks
