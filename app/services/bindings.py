"""Binding use cases: create, read, update, unbind, dial advice — each write-ahead.

The pattern is the same for every upstream call: commit the intent, call Alibaba,
commit the outcome with its event. A crash between the two leaves a `requested`
event (and, for creation, a `pending` binding) that `bindings reconcile` resolves.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row

from app import context, metrics
from app.errors import (
    BindingNotActive,
    DatabaseUnavailable,
    Forbidden,
    NotFound,
    SubscriptionGone,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.extensions import db
from app.ids import uuid7
from app.providers.aliyun import UNKNOWN_API, AliyunProvider
from app.providers.attempt import Attempt
from app.providers.types import (
    BindRequest,
    CallStatus,
    SubscriptionRef,
    UpdateRequest,
)
from app.services import history, writes
from app.services import queries as q
from app.services.connections import DATABASE_FAILURES, reading
from app.services.history import Actor

log = logging.getLogger(__name__)

UPDATE_OPERATIONS = {
    "phone_a": "updateNoA",
    "phone_b": "updateNoB",
    "expires_at": "updateExpire",
    "call_restrict": "updateCallRestrict",
}
CLEAR_RESTRICTION = "CONTROL_CLEAR_DISABLE"
LIVE = ("active", "expired")
DIAL_KINDS = {1: "x", 2: "temporary_x", 3: "direct", 4: "none"}


def _provider() -> AliyunProvider:
    return context.current_app().extensions["dypls"]


def lifetime_end(data: dict[str, Any]) -> datetime:
    """The absolute expiry a body asks for, whether it said expires_at or ttl_seconds,
    to the second: Alibaba keeps seconds, and reconcile compares with what it keeps."""
    if "ttl_seconds" in data:
        return (q.now() + timedelta(seconds=data["ttl_seconds"])).replace(microsecond=0)
    return data["expires_at"].astimezone(UTC).replace(microsecond=0)


def _ref(row: Row) -> SubscriptionRef:
    return SubscriptionRef(pool_key=row.pool_key, subs_id=row.subs_id, phone_x=row.phone_x)


def _visible(actor: Actor, binding_id: uuid.UUID) -> Row:
    """Another client's binding is a 404, unless the caller audits."""
    row = writes.load(binding_id)
    if row is None or (row.client_id != actor.client.id and not actor.client.audits):
        raise NotFound("No such binding")
    return row


def _owned(actor: Actor, row: Row | None) -> Row:
    """Only the owner changes a binding; audit:read reads all and changes nothing."""
    if row is None or row.client_id != actor.client.id:
        raise NotFound("No such binding")
    return row


def _record(actor: Actor, row: Row, attempt: Attempt, http_status: int) -> None:
    with db.engine.begin() as conn:
        history.record_calls(conn, actor, row.id, actor.client.id, attempt.calls, http_status)


def _finish(
    actor: Actor, binding_id: uuid.UUID, attempt: Attempt, http_status: int, **changes: Any
) -> Row:
    """Commit an upstream outcome: the binding's new state and the events of its calls.
    Only a binding's owner changes it, so the actor's client is the owner."""
    client = actor.client
    events = history.call_rows(actor, binding_id, client.id, attempt.calls, http_status)
    return writes.record_outcome(binding_id, client.name, changes, events)


def create(actor: Actor, data: dict[str, Any]) -> Row:
    """Bind A (and B) to an X; the pending row and its request event are committed first."""
    client = actor.client
    client.require_pool(data["pool_key"])
    _provider().ensure_available()
    request = BindRequest(
        type=data["type"],
        pool_key=data["pool_key"],
        phone_a=data["phone_a"],
        phone_b=data.get("phone_b"),
        expires_at=lifetime_end(data),
        phone_x=data.get("phone_x"),
        expect_city=data.get("expect_city"),
        record_calls=data["record_calls"],
        out_id=data.get("out_id"),
        call_restrict=data.get("call_restrict"),
    )
    binding_id, now = uuid7(), q.now()
    writes.write_ahead(
        {
            "id": binding_id,
            "client_id": client.id,
            "type": request.type,
            "pool_key": request.pool_key,
            "phone_x": request.phone_x,
            "phone_a": request.phone_a,
            "phone_b": request.phone_b,
            "expect_city": request.expect_city,
            "out_id": request.out_id,
            "record_calls": request.record_calls,
            "call_restrict": request.call_restrict,
            "status": "pending",
            "expires_at": request.expires_at,
            "created_at": now,
            "updated_at": now,
        },
        history.request_row(actor, binding_id, client.id, request.action, request.params),
    )

    attempt = _provider().bind(request)
    if attempt.error is not None:
        # After a timeout the binding may exist upstream: it stays pending for reconcile.
        status = "pending" if isinstance(attempt.error, UpstreamTimeout) else "failed"
        _finish(
            actor,
            binding_id,
            attempt,
            attempt.error.status,
            status=status,
            updated_at=q.now(),
        )
        raise attempt.error

    bound = attempt.value
    try:
        row = _finish(
            actor,
            binding_id,
            attempt,
            201,
            status="active",
            subs_id=bound.subs_id,
            phone_x=bound.phone_x,
            extension=bound.extension,
            updated_at=q.now(),
        )
    except DATABASE_FAILURES as exc:
        log.error("recording bind outcome failed: %s", getattr(exc, "orig", None) or exc)
        _compensate(actor, binding_id, request.pool_key, attempt)
        raise DatabaseUnavailable(
            "The binding could not be recorded, so it was released upstream", retry_after=1
        ) from None
    metrics.binding_created(request.type, client.name)
    return row


def _compensate(actor: Actor, binding_id: uuid.UUID, pool_key: str, bind: Attempt) -> None:
    """Upstream bound, history did not: release the X rather than leak an unrecorded binding.

    Whatever can still be recorded is: the bind, the release, and where the X went. If the
    release failed too, the row says `unknown` with its SubsId, for reconcile to settle.
    """
    bound = bind.value
    ref = SubscriptionRef(pool_key, bound.subs_id, bound.phone_x)
    unbind = _provider().unbind(ref)
    released = unbind.error is None or isinstance(unbind.error, SubscriptionGone)
    log.error("released unrecorded subscription %s upstream: %s", ref.subs_id, unbind.last.code)
    try:
        _finish(
            actor,
            binding_id,
            Attempt(bind.calls + unbind.calls),
            503,
            status="failed" if released else "unknown",
            subs_id=bound.subs_id,
            phone_x=bound.phone_x,
            updated_at=q.now(),
        )
    except DATABASE_FAILURES:
        log.error("could not record the compensation of subscription %s", ref.subs_id)


def get(actor: Actor, binding_id: uuid.UUID, refresh: bool = False) -> Row:
    row = _visible(actor, binding_id)
    if not refresh or row.status not in LIVE or row.subs_id is None:
        return row
    if row.client_id != actor.client.id:
        raise Forbidden("audit:read reads bindings, it does not reconcile them")
    return reconcile(actor, row)


def reconcile(actor: Actor, row: Row) -> Row:
    """Make the local row say what Alibaba says (QuerySubscriptionDetail), recording any drift."""
    attempt = _provider().query_detail(_ref(row))
    if isinstance(attempt.error, SubscriptionGone):
        return _apply_drift(actor, row, attempt, {"status": "unbound", "unbound_at": q.now()})
    if attempt.error is not None:
        _record(actor, row, attempt, attempt.error.status)
        raise attempt.error
    detail = attempt.value
    upstream = {
        "phone_a": detail.phone_a or row.phone_a,
        "phone_b": detail.phone_b,
        "expires_at": detail.expires_at or row.expires_at,
        "call_restrict": detail.call_restrict,
        "status": "active" if detail.active else "expired",
    }
    if detail.record_calls is not None:
        upstream["record_calls"] = detail.record_calls
    drift = {k: v for k, v in upstream.items() if getattr(row, k) != v}
    return _apply_drift(actor, row, attempt, drift)


def _apply_drift(actor: Actor, row: Row, attempt: Attempt, drift: dict[str, Any]) -> Row:
    if not drift:
        _record(actor, row, attempt, 200)
        return row
    changes = {
        "from": {k: history.jsonable(getattr(row, k)) for k in drift},
        "to": {k: history.jsonable(v) for k, v in drift.items()},
    }
    events = history.call_rows(actor, row.id, actor.client.id, attempt.calls, 200)
    events.append(history.change_row(actor, row.id, actor.client.id, "Reconciled", changes))
    return writes.record_outcome(row.id, row.client, {**drift, "updated_at": q.now()}, events)


def update(actor: Actor, binding_id: uuid.UUID, data: dict[str, Any]) -> Row:
    """One UpdateSubscription operation on an active binding."""
    field = "expires_at" if "ttl_seconds" in data else next(iter(data))
    value = lifetime_end(data) if field == "expires_at" else data[field]
    row = _owned(actor, writes.load(binding_id))
    if row.status != "active":
        raise BindingNotActive(f"The binding is {row.status}")
    _provider().ensure_available()
    request = UpdateRequest(
        ref=_ref(row),
        operation=UPDATE_OPERATIONS[field],
        **{field: value if field != "call_restrict" else value or CLEAR_RESTRICTION},
    )
    writes.record_request(
        history.request_row(actor, row.id, actor.client.id, request.action, request.params)
    )
    attempt = _provider().update(request)
    if attempt.error is not None:
        _record(actor, row, attempt, attempt.error.status)
        raise attempt.error
    return _finish(actor, row.id, attempt, 200, **{field: value}, updated_at=q.now())


def unbind(actor: Actor, binding_id: uuid.UUID) -> Row:
    """Idempotent: an unbound binding answers as is, and Alibaba's SUBS_NOT_EXIST means done.

    The binding is read and its request event written in one statement, which writes the
    event only if the caller owns the binding, it is live and the circuit lets calls go."""
    client = actor.client
    blocked = _provider().unavailable_for()
    event = history.request_row(actor, binding_id, client.id, "UnbindSubscription", None)
    row = _owned(actor, writes.load_for_unbind(binding_id, event, LIVE, proceed=blocked is None))
    if row.status == "unbound":
        return row
    if row.status not in LIVE:
        raise BindingNotActive(f"The binding is {row.status}")
    if blocked is not None:
        raise UpstreamUnavailable(retry_after=blocked)
    attempt = _provider().unbind(_ref(row))
    if attempt.error is not None and not isinstance(attempt.error, SubscriptionGone):
        _record(actor, row, attempt, attempt.error.status)
        raise attempt.error
    now = q.now()
    row = _finish(actor, row.id, attempt, 200, status="unbound", unbound_at=now, updated_at=now)
    metrics.binding_unbound(row.type, actor.client.name)
    return row


def call_status(actor: Actor, binding_id: uuid.UUID, caller: str) -> dict[str, Any]:
    """What the caller should dial now; falls back to QuerySubscriptionDetail when the
    upstream no longer knows QueryCallStatus."""
    row = _visible(actor, binding_id)
    if row.status not in LIVE or row.subs_id is None:
        raise BindingNotActive(f"The binding is {row.status}")
    provider = _provider()
    attempt = provider.query_call_status(_ref(row), caller)
    source = "QueryCallStatus"
    calls = attempt.calls
    if (
        attempt.error is not None
        and attempt.error.upstream
        and attempt.error.upstream.code == UNKNOWN_API
    ):
        detail = provider.query_detail(_ref(row))
        calls += detail.calls
        attempt = detail.map(lambda d: _status_from_detail(d.active, d.phone_x))
        source = "QuerySubscriptionDetail"
    _record(actor, row, Attempt(calls), attempt.error.status if attempt.error else 200)
    status = attempt.unwrap()
    return {
        "status": status.status,
        "called_no": status.called_no,
        "dial": _dial(status.status, status.called_no, row, caller),
        "source": source,
    }


def _status_from_detail(active: bool, phone_x: str) -> CallStatus:
    return (
        CallStatus(status=1, called_no=phone_x) if active else CallStatus(status=4, called_no=None)
    )


def _dial(status: int, called_no: str | None, row: Row, caller: str) -> dict[str, str | None]:
    """Status 3 is the platform asking to degrade: dial the other party's real number."""
    kind = DIAL_KINDS.get(status, "none")
    if kind == "direct":
        number = row.phone_b if caller == row.phone_a else row.phone_a
    elif kind == "none":
        number = None
    else:
        number = called_no or row.phone_x
    return {"number": number, "kind": kind}


def events(actor: Actor, binding_id: uuid.UUID) -> list[Row]:
    """A binding's timeline, oldest first."""
    _visible(actor, binding_id)
    with reading() as conn:
        return conn.execute(q.events_of_binding, {"binding_id": binding_id}).all()
