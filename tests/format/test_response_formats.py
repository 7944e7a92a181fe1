"""The developer message's ``# Response Formats`` section: text, tokens, round trips."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

import harmony_agent as ha
from harmony_agent.compat import openai_harmony as co
from harmony_agent.format import _tokens as T


class ShoppingList(BaseModel):
    """Entries on a shopping list."""

    items: list[str]


SCHEMA = {
    "properties": {"items": {"type": "array", "items": {"type": "string"}}},
    "type": "object",
}


def _developer(**fields: object) -> ha.Message:
    return ha.Message(role=ha.Role.DEVELOPER, content=ha.DeveloperContent(**fields))  # type: ignore[arg-type]


def test_section_text_follows_the_documented_layout() -> None:
    fmt = ha.ResponseFormat(name="shopping_list", description="What to buy", schema=SCHEMA)
    message = _developer(
        instructions="You are a helpful shopping assistant", response_formats=(fmt,)
    )
    assert message.text == (
        "# Instructions\n\nYou are a helpful shopping assistant\n\n"
        "# Response Formats\n\n## shopping_list\n\n// What to buy\n"
        '{"properties":{"items":{"type":"array","items":{"type":"string"}}},"type":"object"}'
    )


def test_no_description_means_no_comment_and_lines_are_each_commented() -> None:
    bare = ha.ResponseFormat(name="a", json_schema={"type": "integer"})
    multi = ha.ResponseFormat(name="b", description="One.\nTwo.", json_schema={"type": "string"})
    text = _developer(response_formats=(bare, multi)).text
    assert text == (
        '# Response Formats\n\n## a\n\n{"type":"integer"}\n\n'
        '## b\n\n// One.\n// Two.\n{"type":"string"}'
    )


def test_the_section_comes_after_the_tools(encoding: ha.Encoding) -> None:
    spec = ha.ToolSpec(name="f", description="Does f.", parameters={"type": "object"})
    message = ha.Message.developer(
        "Be brief.", [spec], response_formats=[ha.ResponseFormat.of(ShoppingList)]
    )
    text = message.text
    assert text.index("# Instructions") < text.index("# Tools") < text.index("# Response Formats")
    assert text.endswith(json.dumps(ShoppingList.model_json_schema(), separators=(",", ":")))


def test_rendered_tokens_are_the_text_encoded_whole(encoding: ha.Encoding) -> None:
    fmt = ha.ResponseFormat.of(ShoppingList)
    message = _developer(instructions="Hi", response_formats=(fmt,))
    expected = [
        T.START,
        *encoding.encode("developer"),
        T.MESSAGE,
        *encoding.encode(message.text),
        T.END,
    ]
    assert encoding.render(message) == expected
    # and parsing the tokens back gives the same text
    (back,) = encoding.parse_messages_from_completion_tokens(encoding.render(message))
    assert back.role is ha.Role.DEVELOPER and back.text == message.text


def test_of_takes_any_type_pydantic_validates() -> None:
    fmt = ha.ResponseFormat.of(ShoppingList)
    assert fmt.name == "ShoppingList" and fmt.description == "Entries on a shopping list."
    assert fmt.json_schema == ShoppingList.model_json_schema()
    listed = ha.ResponseFormat.of(list[int])
    assert listed.name == "response" and listed.description is None
    assert listed.json_schema == {"items": {"type": "integer"}, "type": "array"}
    named = ha.ResponseFormat.of(list[int], name="numbers", description="Primes.")
    assert (named.name, named.description) == ("numbers", "Primes.")


@pytest.mark.parametrize("name", ["", "  ", "two\nlines"])
def test_a_name_is_one_line(name: str) -> None:
    with pytest.raises(ValidationError, match="one non-empty line"):
        ha.ResponseFormat(name=name, json_schema={})


def test_with_response_format_replaces_one_of_the_same_name() -> None:
    one = ha.ResponseFormat(name="x", json_schema={"type": "string"})
    two = ha.ResponseFormat(name="x", json_schema={"type": "integer"})
    content = ha.DeveloperContent().with_response_format(one).with_response_format(two)
    assert content.response_formats == (two,)


def test_json_and_harmony_dict_round_trips_keep_the_formats() -> None:
    message = ha.Message.developer("Hi", response_formats=[ha.ResponseFormat.of(ShoppingList)])
    assert ha.Message.model_validate_json(message.model_dump_json()) == message
    data = message.to_harmony_dict()
    assert data["content"][0]["response_formats"][0]["name"] == "ShoppingList"
    assert ha.Message.from_harmony_dict(data) == message
    plain = ha.Message.developer("Hi")
    assert "response_formats" not in plain.to_harmony_dict()["content"][0]


def test_compat_layer_keeps_and_renders_the_formats(encoding: ha.Encoding) -> None:
    message = ha.Message.developer("Hi", response_formats=[ha.ResponseFormat.of(ShoppingList)])
    theirs = co.Message.from_ha(message)
    (item,) = theirs.content
    assert isinstance(item, co.DeveloperContent)
    assert item.response_formats == message.content.response_formats  # type: ignore[union-attr]
    assert list(co.DeveloperContent.model_fields) == ["instructions", "tools"]
    assert theirs.to_ha() == message
    again = co.Message.from_dict(theirs.to_dict())
    assert again.to_ha() == message
    enc = co.load_harmony_encoding(co.HarmonyEncodingName.HARMONY_GPT_OSS)
    conversation = co.Conversation.from_messages([theirs])
    assert enc.render_conversation(conversation) == encoding.render(message)


def test_names_are_unique_and_openai_harmony_cannot_hold_formats() -> None:
    fmt = ha.ResponseFormat(name="x", json_schema={})
    with pytest.raises(ValidationError, match="unique names"):
        ha.DeveloperContent(response_formats=(fmt, fmt))
    message = ha.Message.developer("Hi", response_formats=[fmt])
    with pytest.raises(ValueError, match=r"openai-harmony 0\.0\.8 has no response formats"):
        message.to_openai_harmony()
    with pytest.raises(ValueError, match="no response formats"):
        ha.Conversation([message]).to_openai_harmony()
