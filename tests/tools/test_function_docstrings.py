"""Docstrings in google, numpy and sphinx style give the description and parameter docs."""

from __future__ import annotations

from harmony_agent.tools import Docstring, parse_docstring, tool

GOOGLE = """Convert an amount between currencies.

    Uses the daily reference rates.

    Args:
        amount (float): how much to convert,
            in the source currency.
        source: ISO code of the source currency.
        *rest: ignored.

    Returns:
        float: the converted amount.

    Raises:
        KeyError: an unknown currency.
    """

NUMPY = """Convert an amount between currencies.

    Uses the daily reference rates.

    Parameters
    ----------
    amount : float
        how much to convert,
        in the source currency.
    source, target : str
        ISO codes.

    Returns
    -------
    float
        the converted amount.

    Examples
    --------
    >>> convert(1.0, "EUR", "USD")
    """

SPHINX = """Convert an amount between currencies.

    Uses the daily reference rates.

    :param float amount: how much to convert,
        in the source currency.
    :param source: ISO code of the source currency.
    :type source: str
    :returns: the converted amount.
    :raises KeyError: an unknown currency.
    """

DESCRIPTION = "Convert an amount between currencies.\n\nUses the daily reference rates."


def test_google_style() -> None:
    assert parse_docstring(GOOGLE) == Docstring(
        DESCRIPTION,
        {
            "amount": "how much to convert, in the source currency.",
            "source": "ISO code of the source currency.",
            "rest": "ignored.",
        },
        "float: the converted amount.",
    )


def test_numpy_style() -> None:
    assert parse_docstring(NUMPY) == Docstring(
        DESCRIPTION,
        {
            "amount": "how much to convert, in the source currency.",
            "source": "ISO codes.",
            "target": "ISO codes.",
        },
        "float the converted amount.",
    )


def test_sphinx_style() -> None:
    assert parse_docstring(SPHINX) == Docstring(
        DESCRIPTION,
        {
            "amount": "how much to convert, in the source currency.",
            "source": "ISO code of the source currency.",
        },
        "the converted amount.",
    )


def test_plain_and_empty_docstrings() -> None:
    assert parse_docstring(None) == Docstring()
    assert parse_docstring("") == Docstring()
    assert parse_docstring("  Just one line.  ") == Docstring("Just one line.")
    text = "First.\n\n    Second paragraph: with a colon.\n    "
    assert parse_docstring(text) == Docstring("First.\n\nSecond paragraph: with a colon.")


def test_a_google_section_without_entries_is_harmless() -> None:
    doc = parse_docstring("Summary.\n\nArgs:\n\nNote:\n    something.")
    assert doc == Docstring("Summary.")


def test_description_text_adds_returns() -> None:
    assert Docstring("Add.", {}, "the sum").text == "Add.\nReturns: the sum"
    assert Docstring("", {}, "the sum").text == "Returns: the sum"
    assert Docstring("Add.").text == "Add."


def test_parameter_docs_reach_the_schema_in_every_style() -> None:
    for doc in (GOOGLE, SPHINX, NUMPY):

        def convert(amount: float, source: str = "EUR") -> float:
            return amount

        convert.__doc__ = doc
        t = tool(convert)
        props = t.spec.parameters["properties"]  # type: ignore[index]
        assert props["amount"]["description"] == "how much to convert, in the source currency."
        assert props["source"]["description"].startswith("ISO code")
        assert t.spec.description.startswith(DESCRIPTION)
