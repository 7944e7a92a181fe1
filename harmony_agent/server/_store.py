"""A bounded in-memory store of responses, least recently used first out.

For ``previous_response_id`` the server keeps, per response, the harmony messages the
next turn continues from (the input and the output, tool answers included) and the
response object itself (for ``GET /v1/responses/{id}``). It also remembers, per output
item id, the exact messages that item stands for, so a client that sends output items
back as input gets the prompt the model wrote, token for token.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from harmony_agent.format._messages import Message

__all__ = ["LRU", "ResponseStore", "StoredResponse"]

_K = TypeVar("_K")
_V = TypeVar("_V")


class LRU(Generic[_K, _V]):
    """A dict that holds at most ``size`` entries, dropping the least recently used."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        self.size = size
        self._data: OrderedDict[_K, _V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: _K) -> _V | None:
        """The value, marked as just used, or None."""
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: _K, value: _V) -> None:
        """Store ``value``; the oldest entry goes when the store is full."""
        if self.size == 0:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)


@dataclass(frozen=True)
class StoredResponse:
    """One stored response: what the next turn continues from, and the object sent."""

    messages: tuple[Message, ...]
    calls: dict[str, str]
    body: dict[str, Any]


class ResponseStore:
    """Responses by id and output items by id, each bounded (``size`` responses).

    Args:
        size: how many responses to keep (0: none; ``previous_response_id`` then always
            answers 404). Items are kept for ``8 * size`` ids.
    """

    def __init__(self, size: int = 1024) -> None:
        self.responses: LRU[str, StoredResponse] = LRU(size)
        self.items: LRU[str, tuple[Message, ...]] = LRU(8 * size)

    def __len__(self) -> int:
        return len(self.responses)

    def get(self, response_id: str) -> StoredResponse | None:
        """The stored response, or None when unknown or evicted."""
        return self.responses.get(response_id)

    def put(
        self,
        response_id: str,
        stored: StoredResponse,
        items: Sequence[tuple[str, Sequence[Message]]] = (),
    ) -> None:
        """Keep a response and the messages of each of its output items."""
        self.responses.put(response_id, stored)
        for item_id, messages in items:
            self.items.put(item_id, tuple(messages))

    def recall(self, item_id: str) -> tuple[Message, ...] | None:
        """The messages an output item stands for, or None when not ours (or evicted)."""
        return self.items.get(item_id)
