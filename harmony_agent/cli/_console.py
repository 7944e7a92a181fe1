"""Terminal output: colours and a spinner on a terminal, plain text everywhere else.

Colour and animation are on only when the stream is a terminal and neither
``NO_COLOR`` (https://no-color.org) nor ``--no-color`` is set; ``FORCE_COLOR`` turns
them on for a stream that is not a terminal. Plain output contains no escape codes.
Answers go to stdout; everything meant for the person at the terminal (reasoning,
tool activity, notes, errors) goes to stderr, so ``> answer.txt`` keeps only answers.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from rich.console import Console
from rich.text import Text

__all__ = ["Output", "color_enabled"]


def color_enabled(stream: IO[str], *, no_color: bool = False) -> bool:
    """Whether to write colours and animations to ``stream``."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


def _console(stream: IO[str], color: bool) -> Console:
    return Console(
        file=stream,
        force_terminal=color,
        color_system="auto" if color else None,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
    )


class Output:
    """The two streams of a command, each with its own colour decision.

    Args:
        no_color: never write colours or animations (``--no-color``).
        stdout: where answers go (default ``sys.stdout``).
        stderr: where notes, reasoning and errors go (default ``sys.stderr``).
    """

    def __init__(
        self,
        *,
        no_color: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.color = color_enabled(self.stdout, no_color=no_color)
        self.err_color = color_enabled(self.stderr, no_color=no_color)
        #: a person is watching stderr (a terminal): worth a summary line after each run
        self.interactive = bool(getattr(self.stderr, "isatty", lambda: False)())
        self.out = _console(self.stdout, self.color)
        self.err = _console(self.stderr, self.err_color)
        self._status: Any = None

    # -- answers (stdout) ---------------------------------------------------------------
    def write(self, text: str, style: str | None = None) -> None:
        """Write ``text`` to stdout as it is (styled on a colour terminal)."""
        self.stop_spinner()
        if style and self.color:
            self.out.print(Text(text, style=style), end="")
        else:
            self.stdout.write(text)
            self.stdout.flush()

    # -- for the person (stderr) ------------------------------------------------------
    def note(self, text: str, style: str | None = "dim") -> None:
        """A line for the person at the terminal (stderr)."""
        self.stop_spinner()
        self.err.print(Text(text, style=style or ""))

    def side(self, text: str, style: str | None = "dim") -> None:
        """Text for the person without a newline (streamed reasoning, on stderr)."""
        self.stop_spinner()
        if style and self.err_color:
            self.err.print(Text(text, style=style), end="")
        else:
            self.stderr.write(text)
            self.stderr.flush()

    def warn(self, text: str) -> None:
        """A warning line on stderr."""
        self.note(f"warning: {text}", style="yellow")

    def error(self, text: str) -> None:
        """An error line on stderr."""
        self.note(text, style="bold red")

    # -- the spinner --------------------------------------------------------------------
    def spinner(self, text: str) -> None:
        """Show (or relabel) a spinner on stderr while something slow runs; a no-op
        when stderr is not a colour terminal."""
        if not self.err_color:
            return
        if self._status is None:
            self._status = self.err.status(Text(text, style="dim"), spinner="dots")
            self._status.start()
        else:
            self._status.update(Text(text, style="dim"))

    def stop_spinner(self) -> None:
        """Remove the spinner, if one is showing."""
        if self._status is not None:
            self._status.stop()
            self._status = None
