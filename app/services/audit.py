"""Audit search over bindings and their event history: pages, cursors, exports.

Pages are newest first and keyed by (time, id). A cursor names the last row seen, so
rows inserted between two requests neither repeat nor hide others, and a deep page
costs what the first one does (no OFFSET). The SQL is in app/services/audit_queries.py.

Reads go to the audit engine: the replica named by AUDIT_DATABASE_URL, else the
main database.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import Connection, Engine, Row

from app.errors import ValidationFailed
from app.extensions import db
from app.schemas.fields import as_utc
from app.services.audit_queries import BINDINGS, EVENTS, Listing, Shape, parameters, statement
from app.services.connections import reading
from app.services.history import Actor

EXPORT_PAGE = 200
BAD_CURSOR = {"cursor": ["Not a cursor of this list; start again without one."]}


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Row]
    next_cursor: str | None


def audit_engine() -> Engine:
    return db.engines.get("audit") or db.engine


def _hash_key() -> str:
    return current_app.config["GATEWAY_SETTINGS"].audit_hash_key


def find_bindings(actor: Actor, args: Mapping[str, Any]) -> Page:
    """One page of bindings: the caller's own, or everyone's when it audits."""
    owner_id = None if actor.client.audits else actor.client.id
    with reading(audit_engine()) as conn:
        return binding_page(conn, args, owner_id=owner_id, hash_key=_hash_key())


def find_events(args: Mapping[str, Any]) -> Page:
    with reading(audit_engine()) as conn:
        return event_page(conn, args, hash_key=_hash_key())


def all_bindings(actor: Actor, args: Mapping[str, Any]) -> Iterator[list[Row]]:
    """Every match, a page at a time: constant memory, and no transaction held open."""
    return _every_page(args, lambda page_args: find_bindings(actor, page_args))


def all_events(args: Mapping[str, Any]) -> Iterator[list[Row]]:
    return _every_page(args, find_events)


def _every_page(
    args: Mapping[str, Any], fetch: Callable[[dict[str, Any]], Page]
) -> Iterator[list[Row]]:
    """The first page is read now, so a bad cursor is a 422 rather than a broken download."""
    page = fetch({**args, "limit": EXPORT_PAGE})
    return _following(page, args, fetch)


def _following(
    page: Page, args: Mapping[str, Any], fetch: Callable[[dict[str, Any]], Page]
) -> Iterator[list[Row]]:
    yield page.items
    while page.next_cursor is not None:
        page = fetch({**args, "limit": EXPORT_PAGE, "cursor": page.next_cursor})
        yield page.items


def binding_page(
    conn: Connection, args: Mapping[str, Any], owner_id: int | None = None, hash_key: str = ""
) -> Page:
    """The query behind GET /v1/bindings (and the benchmark): filters, then one page."""
    return _page(conn, BINDINGS, args, hash_key, owner_id)


def event_page(conn: Connection, args: Mapping[str, Any], hash_key: str = "") -> Page:
    """The query behind GET /v1/events: event filters, plus the binding's own on a join."""
    if args.get("upstream_code", "OK") != "OK" and args.get("outcome") == "error":
        # Every code but OK is an error's: saying both makes the planner count them twice,
        # expect a handful of rows, and sort them all instead of walking the index.
        args = {name: value for name, value in args.items() if name != "outcome"}
    return _page(conn, EVENTS, args, hash_key)


def _page(
    conn: Connection,
    listing: Listing,
    args: Mapping[str, Any],
    hash_key: str,
    owner_id: int | None = None,
) -> Page:
    limit, cursor = args.get("limit", 50), args.get("cursor")
    shape = Shape(
        listing.tag,
        listing.filters.intersection(args),
        hashed=bool(hash_key),
        owned=owner_id is not None,
        after=bool(cursor),
    )
    values = {
        **parameters(args, hash_key),
        **_after(listing, cursor),
        "owner_id": owner_id,
        "count": limit + 1,
        "now": datetime.now(UTC),
    }
    rows = conn.execute(statement(shape), values).all()
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], _cursor(listing, getattr(last, listing.sort.name), last.id))


def _cursor(listing: Listing, at: datetime, row_id: Any) -> str:
    raw = json.dumps([listing.tag, as_utc(at).isoformat(), str(row_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after(listing: Listing, cursor: str | None) -> dict[str, Any]:
    """The position a cursor names; anything but a cursor of this list is a 422."""
    if not cursor:
        return {}
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tag, at_text, id_text = json.loads(raw)
        at = datetime.fromisoformat(at_text)
        row_id = listing.parse_id(id_text)
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError):
        raise ValidationFailed(errors=BAD_CURSOR) from None
    if tag != listing.tag or at.tzinfo is None:
        raise ValidationFailed(errors=BAD_CURSOR)
    return {"cursor_at": at, "cursor_id": row_id}
