"""The Flask class the gateway runs on: Flask's own, less two costs it paid on every request.

Both were found counting the request path's instructions under callgrind
(docs/performance.md, tenth round); neither changes what a client receives.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from inspect import CO_COROUTINE
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

COMPACT = {"separators": (",", ":")}


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON, with the encoder of its compact responses built once: `json.dumps`
    with any option builds a new JSONEncoder on every call. The text is the same."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._compact = json.JSONEncoder(
            default=self.default,
            ensure_ascii=self.ensure_ascii,
            sort_keys=self.sort_keys,
            **COMPACT,
        ).encode

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs == COMPACT:
            return self._compact(obj)
        return super().dumps(obj, **kwargs)


class GatewayFlask(Flask):
    json_provider_class = JsonProvider

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """A plain function as it is, known by its code's flags; anything else as Flask
        decides. Flask asks `inspect.iscoroutinefunction` of each hook and view on every
        request, eight times per request here, and it walks methods and partials each time."""
        code = getattr(func, "__code__", None)
        if code is not None and not code.co_flags & CO_COROUTINE:
            return func
        return super().ensure_sync(func)
