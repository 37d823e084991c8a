"""Per-client and account-wide rate limits, on Flask-Limiter's storage and strategy.

Limits are checked after authentication (they are keyed by client name), so they
are applied here rather than by Flask-Limiter's route decorators, which run before
the caller is known. The storage is RATELIMIT_STORAGE_URI: memory:// for one
instance, redis://… when several instances must share the counters.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g
from flask_limiter import Limiter
from limits import RateLimitItem, parse

from app.errors import RateLimited
from app.services.clients import Client

limiter = Limiter(key_func=lambda: g.client.name, default_limits=[])


def _parsed(expression: str) -> RateLimitItem:
    cache: dict[str, RateLimitItem] = current_app.extensions.setdefault("rate_items", {})
    if expression not in cache:
        cache[expression] = parse(expression)
    return cache[expression]


def _admit(item: RateLimitItem, *identifiers: str, detail: str) -> None:
    strategy = limiter.limiter
    if strategy.hit(item, *identifiers):
        return
    reset_at = strategy.get_window_stats(item, *identifiers).reset_time
    raise RateLimited(detail, retry_after=max(1, math.ceil(reset_at - time.time())))


def admit_client(client: Client) -> None:
    """One caller may not use more than its share (its own limit, or the default)."""
    settings = current_app.config["GATEWAY_SETTINGS"]
    item = _parsed(client.rate_limit or settings.client_rate_limit)
    _admit(item, "client", client.name, detail=f"Client {client.name} is over {item}")


def upstream_quota(view: Callable) -> Callable:
    """Routes that call Alibaba share the account's quota, across every client."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = current_app.config["GATEWAY_SETTINGS"]
        item = _parsed(settings.account_rate_limit)
        _admit(item, "account", detail=f"The Alibaba account's share is over {item}")
        return view(*args, **kwargs)

    return wrapper
