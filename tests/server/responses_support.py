"""Helpers for the Responses tests: harmony texts and an openai client for a served app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from openai import OpenAI

from harmony_agent.server import running

__all__ = ["call", "final", "serve", "think"]


def think(text: str) -> str:
    return f"<|channel|>analysis<|message|>{text}<|end|><|start|>assistant"


def final(text: str) -> str:
    return f"<|channel|>final<|message|>{text}<|return|>"


def call(name: str, **arguments: object) -> str:
    return (
        f"<|channel|>commentary to=functions.{name} <|constrain|>json"
        f"<|message|>{json.dumps(arguments)}<|call|>"
    )


@contextmanager
def serve(app: FastAPI) -> Iterator[OpenAI]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port); an OpenAI client for it."""
    with running(app) as url:
        client = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        try:
            yield client
        finally:
            client.close()
