"""A short-lived, per-process memory of tokens already checked against the database.

Every request authenticates; a hit here saves the query and the connection. Entries
live `TOKEN_CACHE_SECONDS` (default 2 s), so a token revoked or rotated on another
host stops working within that time everywhere, and at once in the process that
revoked it. Unknown tokens are never cached: a new token works immediately.
"""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

V = TypeVar("V")
MAX_ENTRIES = 10_000


class TokenCache(Generic[V]):
    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, V]] = {}

    def get(self, token_hash: str) -> V | None:
        entry = self._entries.get(token_hash)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token_hash: str, value: V) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[token_hash] = (time.monotonic() + self.ttl_s, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
