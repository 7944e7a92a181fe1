"""Colour decisions and plain output (the part of the terminal UI a test can see)."""

from __future__ import annotations

import io

import pytest

from harmony_agent.cli._console import Output, color_enabled
from tests.cli.conftest import ESCAPE


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch):
    assert color_enabled(_Terminal()) and not color_enabled(io.StringIO())
    assert not color_enabled(_Terminal(), no_color=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not color_enabled(_Terminal())
    monkeypatch.setenv("NO_COLOR", "")  # the convention: an empty value does not count
    assert color_enabled(_Terminal())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert color_enabled(io.StringIO())


def test_plain_output_is_written_as_it_is():
    out, err = io.StringIO(), io.StringIO()
    o = Output(stdout=out, stderr=err)
    o.write("a\tb [bold]x[/bold] ")
    o.write("dim", style="dim")
    o.note("a note")
    o.side("thinking… ")
    o.warn("careful")
    o.spinner("waiting")  # no terminal: no spinner
    o.stop_spinner()
    assert out.getvalue() == "a\tb [bold]x[/bold] dim"  # no markup, tabs kept
    assert err.getvalue() == "a note\nthinking… warning: careful\n"
    assert not o.interactive


def test_a_terminal_gets_styles_and_a_spinner():
    out, err = _Terminal(), _Terminal()
    o = Output(stdout=out, stderr=err)
    o.spinner("waiting")
    o.write("answer")
    o.side("reasoning")
    assert ESCAPE.search(err.getvalue()) and "reasoning" in err.getvalue()
    assert out.getvalue() == "answer" and o.interactive
    assert Output(stdout=_Terminal(), stderr=_Terminal(), no_color=True).err_color is False
