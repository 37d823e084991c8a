"""The Flask class the gateway runs on: Flask's own, less three costs it paid on every request.

Each was found counting or sampling the request path (docs/performance.md, tenth and
twentieth rounds); none changes what a client receives.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from inspect import CO_COROUTINE
from typing import Any

from flask import Flask, Request, Response
from flask.json.provider import DefaultJSONProvider
from flask.sessions import NullSession, SessionInterface

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


class NoSessions(SessionInterface):
    """The API is stateless, its callers known by bearer token: no cookie session is read or
    written. Flask's default interface looked for a secret key and, finding none, made a
    fresh null session for every request. Here every request shares one, which refuses any
    write as each fresh one did."""

    _shared = NullSession()

    def open_session(self, app: Flask, request: Request) -> NullSession:
        return self._shared

    def save_session(self, app: Flask, session: NullSession, response: Response) -> None:
        return None


class GatewayFlask(Flask):
    json_provider_class = JsonProvider
    session_interface = NoSessions()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """A plain function as it is, known by its code's flags; anything else as Flask
        decides. Flask asks `inspect.iscoroutinefunction` of each hook and view on every
        request, eight times per request here, and it walks methods and partials each time."""
        code = getattr(func, "__code__", None)
        if code is not None and not code.co_flags & CO_COROUTINE:
            return func
        return super().ensure_sync(func)
