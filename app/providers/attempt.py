"""The result of asking Alibaba something: the calls made, and a value or an error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.errors import GatewayError
from app.providers.types import UpstreamCall

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class Attempt(Generic[T]):
    """Returned, never raised: the caller records `calls` first, then acts on the result."""

    calls: tuple[UpstreamCall, ...]
    value: T | None = None
    error: GatewayError | None = None

    @property
    def last(self) -> UpstreamCall:
        return self.calls[-1]

    def map(self, convert: Callable[[T], U]) -> Attempt[U]:
        if self.error is not None:
            return Attempt(self.calls, None, self.error)
        return Attempt(self.calls, convert(self.value), None)  # type: ignore[arg-type]

    def unwrap(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]
