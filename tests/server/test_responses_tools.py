"""Built-in tools through /v1/responses: code_interpreter in the sandbox, web_search in
the browser against fake search and web servers on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

import harmony_agent as ha
from harmony_agent.browser import SearXNG
from harmony_agent.server import create_app
from harmony_agent.testing.fake_search import FakeSearchServer, Hit
from harmony_agent.testing.fake_web import Route, WebServer
from tests.server.responses_support import final, serve
from tests.tools.conftest import requires_sandbox

PAGE = b"""<html><head><title>Tide pools</title></head><body><h1>Tide pools</h1>
<p>Hermit crabs change shells as they grow.</p></body></html>"""


def browse(function: str, **arguments: object) -> str:
    return (
        f"<|channel|>analysis to=browser.{function} <|constrain|>json"
        f"<|message|>{json.dumps(arguments)}<|call|>"
    )


@requires_sandbox
@pytest.mark.slow
def test_code_interpreter_runs_in_the_sandbox_and_streams_its_events() -> None:
    backend = ha.backends.Scripted(
        [
            "<|channel|>analysis to=python code<|message|>print(6 * 7)<|call|>",
            final("The answer is 42."),
        ]
    )
    with (
        ha.PythonTool(timeout=20, pool_size=0) as python,
        serve(create_app(backend, tools=[python])) as client,
    ):
        events = list(
            client.responses.create(
                model="gpt-oss",
                input="What is 6 times 7?",
                tools=[{"type": "code_interpreter", "container": {"type": "auto"}}],
                stream=True,
            )
        )
    types = [e.type for e in events]
    code_events = [t for t in types if "code_interpreter" in t]
    assert code_events[0] == "response.code_interpreter_call.in_progress"
    assert code_events[-3:] == [
        "response.code_interpreter_call_code.done",
        "response.code_interpreter_call.interpreting",
        "response.code_interpreter_call.completed",
    ]
    assert "response.code_interpreter_call_code.delta" in code_events
    response = events[-1].response
    assert response.status == "completed" and response.output_text == "The answer is 42."
    ci, message = response.output
    assert ci.type == "code_interpreter_call" and ci.status == "completed"
    assert ci.code == "print(6 * 7)"
    assert ci.outputs is not None and ci.outputs[0].type == "logs"
    assert ci.outputs[0].logs.strip() == "42"
    # the model read the kernel's answer in its next prompt
    assert "<|start|>python to=assistant<|channel|>analysis<|message|>42" in (
        backend.encoding.decode(backend.prompts[1])
    )
    assert message.type == "message"


def test_web_search_runs_the_browser_with_its_items() -> None:
    with (
        WebServer({"/tide.html": Route(PAGE)}) as web,
        FakeSearchServer("searxng", [Hit(web.url("/tide.html"), "Tide pools", "crabs")]) as api,
    ):
        url = web.url("/tide.html")
        script = [
            browse("search", query="hermit crabs"),
            browse("open", id=url),
            final("They change shells as they grow."),
        ]
        backend = ha.backends.Scripted([*script, *script, final("Yes.")])
        browser = ha.BrowserTool(search=SearXNG(api.base_url), allowed_hosts=["127.0.0.1"])
        with serve(create_app(backend, tools=[browser])) as client:
            response = client.responses.create(
                model="gpt-oss", input="How do hermit crabs grow?", tools=[{"type": "web_search"}]
            )
            events = list(
                client.responses.create(
                    model="gpt-oss",
                    input="How do hermit crabs grow?",
                    tools=[{"type": "web_search_preview"}],
                    stream=True,
                )
            )
            # the searches sent back as input (a turn still going on) are restored as they
            # ran, the pages the browser answered included
            items = [o.model_dump(exclude_none=True) for o in response.output[:2]]
            client.responses.create(
                model="gpt-oss",
                input=[{"role": "user", "content": "How do hermit crabs grow?"}, *items],
                tools=[{"type": "web_search"}],
            )
    assert response.status == "completed"
    assert response.output_text == "They change shells as they grow."
    search, page, message = response.output
    assert search.type == "web_search_call" and search.status == "completed"
    assert search.action.type == "search" and search.action.query == "hermit crabs"
    assert page.type == "web_search_call" and page.action.type == "open_page"
    assert page.action.url == url
    assert message.type == "message"
    prompt = backend.encoding.decode(backend.prompts[2])
    assert "Hermit crabs change shells as they grow." in prompt  # the page, read
    assert "namespace browser {" in backend.encoding.decode(backend.prompts[0])
    web_events = [e.type for e in events if "web_search" in e.type]
    assert (
        web_events
        == [
            "response.web_search_call.in_progress",
            "response.web_search_call.searching",
            "response.web_search_call.completed",
        ]
        * 2
    )
    assert events[-1].response.output_text == "They change shells as they grow."
    again = backend.encoding.decode(backend.prompts[-1])
    assert again.count('<|message|>{"query": "hermit crabs"}<|call|>') == 1
    assert "Hermit crabs change shells as they grow." in again
    assert again.endswith("<|end|><|start|>assistant")
