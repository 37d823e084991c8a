"""Rows for the append-only event history, and the one place that writes them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from app.providers.types import Params, UpstreamCall
from app.services import queries as q
from app.services.clients import Client


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking, and the ids that tie their request to its events."""

    client: Client
    request_id: str | None = None
    idempotency_key: str | None = None


def _row(actor: Actor, binding_id: uuid.UUID, client_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "occurred_at": datetime.now(UTC),
        "binding_id": binding_id,
        "client_id": client_id,
        "upstream_code": None,
        "upstream_request_id": None,
        "http_status": None,
        "latency_ms": None,
        "request_id": actor.request_id,
        "idempotency_key": actor.idempotency_key,
        "params": None,
        **fields,
    }


def request_row(
    actor: Actor, binding_id: uuid.UUID, client_id: int, action: str, params: Params
) -> dict[str, Any]:
    return _row(actor, binding_id, client_id, action=action, outcome="requested", params=params)


def call_rows(
    actor: Actor,
    binding_id: uuid.UUID,
    client_id: int,
    calls: Iterable[UpstreamCall],
    http_status: int | None,
) -> list[dict[str, Any]]:
    """One event per upstream call, whatever it answered."""
    return [
        _row(
            actor,
            binding_id,
            client_id,
            action=call.action,
            outcome="ok" if call.code == "OK" else "error",
            upstream_code=call.code,
            upstream_request_id=call.request_id,
            http_status=http_status,
            latency_ms=call.latency_ms,
            params=call.params,
        )
        for call in calls
    ]


def record_calls(
    conn: Connection,
    actor: Actor,
    binding_id: uuid.UUID,
    client_id: int,
    calls: Iterable[UpstreamCall],
    http_status: int | None,
) -> None:
    rows = call_rows(actor, binding_id, client_id, calls, http_status)
    if rows:
        conn.execute(q.insert_event, rows)


def change_row(
    actor: Actor, binding_id: uuid.UUID, client_id: int, action: str, params: dict[str, Any]
) -> dict[str, Any]:
    """A state change the gateway made on its own (reconcile, expiry, compensation)."""
    return _row(actor, binding_id, client_id, action=action, outcome="ok", params=params)


def record_change(
    conn: Connection,
    actor: Actor,
    binding_id: uuid.UUID,
    client_id: int,
    action: str,
    params: dict[str, Any],
) -> None:
    conn.execute(q.insert_event, change_row(actor, binding_id, client_id, action, params))


def jsonable(value: Any) -> Any:
    """Event contents are JSON: times as ISO 8601, ids as strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _json_default(value: Any) -> Any:
    """The encoder's fallback: a time or an id as `jsonable` writes it, and nothing else."""
    converted = jsonable(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
    return converted


# Events go to PostgreSQL as one JSON document. The encoder turns a time or an id into text
# where it meets one, instead of a call to `jsonable` for every value of every event.
encode_json = json.JSONEncoder(default=_json_default).encode
