"""Per-client and account-wide rate limits, on `limits` (the library under Flask-Limiter).

Limits are checked after authentication (they are keyed by client name), so they are
applied by the views' decorators rather than by a before-request hook, which would run
before the caller is known. `limits` is used directly: Flask-Limiter would add three
hooks to every request for route limits this gateway does not have.

The storage is RATELIMIT_STORAGE_URI: memory:// for one instance, redis://… when several
instances must share the counters.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app import context
from app.config import Settings
from app.errors import RateLimited
from app.services.clients import Client

EXTENSION = "rate_limits"


class SweeplessMemoryStorage(MemoryStorage):
    """memory:// without its sweeper: MemoryStorage starts a 10 ms timer thread again
    whenever the last one has ended, which on a busy gateway is a new thread for almost
    every request. Fixed windows need no sweeper: an expired counter is dropped when it
    is next read (MemoryStorage.get), and the keys are few (one per client, one account)."""

    def _MemoryStorage__schedule_expiry(self) -> None:
        return None


def _storage(uri: str) -> Storage:
    if uri.startswith("memory://"):
        return SweeplessMemoryStorage()
    return storage_from_string(uri)


class RateLimits:
    """The account's quota and each client's share, counted in one storage."""

    def __init__(self, settings: Settings) -> None:
        self._strategy = FixedWindowRateLimiter(_storage(settings.ratelimit_storage_uri))
        self._default_client = parse(settings.client_rate_limit)
        self._account = parse(settings.account_rate_limit)
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, expression: str | None) -> RateLimitItem:
        if expression is None:
            return self._default_client
        if expression not in self._items:
            self._items[expression] = parse(expression)
        return self._items[expression]

    def _admit(self, item: RateLimitItem, *identifiers: str, detail: str) -> None:
        if self._strategy.hit(item, *identifiers):
            return
        reset_at = self._strategy.get_window_stats(item, *identifiers).reset_time
        raise RateLimited(detail, retry_after=max(1, math.ceil(reset_at - time.time())))

    def admit_client(self, client: Client) -> None:
        item = self._item(client.rate_limit)
        self._admit(item, "client", client.name, detail=f"Client {client.name} is over {item}")

    def admit_account(self) -> None:
        item = self._account
        self._admit(item, "account", detail=f"The Alibaba account's share is over {item}")


def install(app: Flask, settings: Settings) -> None:
    app.extensions[EXTENSION] = RateLimits(settings)


def admit_client(client: Client) -> None:
    """One caller may not use more than its share (its own limit, or the default)."""
    context.current_app().extensions[EXTENSION].admit_client(client)


def upstream_quota(view: Callable) -> Callable:
    """Routes that call Alibaba share the account's quota, across every client."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        context.current_app().extensions[EXTENSION].admit_account()
        return view(*args, **kwargs)

    return wrapper
