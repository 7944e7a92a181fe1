"""Citation marks: forms the model writes, and rendering that keeps the line range."""

from __future__ import annotations

import harmony_agent as ha
from harmony_agent.browser import citations

PAGE = (
    "[4] Tides (https://tides.example/guide)\n**viewing lines [10 - 13] of 40**\n\n"
    "L10: The moon pulls the ocean.\nL11: Spring tides come at new and \nL12: full moon.\n"
    "L13: Neap tides are weaker, see 【2†almanac†sea.example】."
)


def test_mark_forms_and_quotes() -> None:
    history = [ha.Message.tool("browser.open", PAGE)]
    cited = citations(
        "A 【4†L11-L12】 B 【4†L10】 C 【4†L11-12】 D 【4 † L13 】 E 【4†L99】", history
    )
    assert [c.lines for c in cited] == ["L11-L12", "L10", "L11-L12", "L13", "L99"]
    assert cited.items[0].quote == "Spring tides come at new and full moon."
    assert cited.items[3].quote == "Neap tides are weaker, see almanac."
    assert all(c.url == "https://tides.example/guide" for c in cited)
    assert cited.items[4].quote == ""  # a line the model never saw


def test_rendering_keeps_line_ranges_unlike_the_reference() -> None:
    history = [ha.Message.tool("browser.open", PAGE)]
    cited = citations("Spring tides follow the moon 【4†L11-L12】.", history)
    assert cited.markdown() == (
        "Spring tides follow the moon ([tides.example, L11-L12](https://tides.example/guide))."
    )
    assert cited.plain() == "Spring tides follow the moon (https://tides.example/guide, L11-L12)."


def test_unknown_cursors_and_other_tools_stay_as_written() -> None:
    history = [ha.Message.tool("functions.lookup", PAGE), ha.Message.tool("browser.open", "oops")]
    cited = citations("x 【4†L1】 y", history)
    assert not cited.items[0].resolved and cited.markdown() == "x 【4†L1】 y"
    assert len(citations("no marks here", history)) == 0
