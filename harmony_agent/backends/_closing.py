"""``async with backend:`` for every backend that holds something to release."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["AsyncClosing"]


class AsyncClosing:
    """``async with backend:`` closes it on exit (subclasses define ``aclose``)."""

    async def aclose(self) -> None:
        """Release what the backend holds."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
