"""Bearer-token authentication and scope checks for the views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from app import context
from app.errors import Forbidden
from app.ratelimit import admit_client
from app.services.clients import authenticate
from app.services.history import Actor

BEARER = "bearer "


def _token() -> str | None:
    header = context.request().headers.get("Authorization", "")
    if header[: len(BEARER)].lower() != BEARER:
        return None
    return header[len(BEARER) :].strip() or None


def requires(*scopes: str) -> Callable:
    """Authenticate the caller and demand any one of `scopes` (401, then 403)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            client = authenticate(_token())
            context.g().client = client
            if not client.scopes.intersection(scopes):
                raise Forbidden(f"This needs the {' or '.join(scopes)} scope")
            admit_client(client)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def current_actor() -> Actor:
    state = context.g()
    return Actor(
        client=state.client,
        request_id=state.get("request_id"),
        idempotency_key=context.request().headers.get("Idempotency-Key"),
    )
