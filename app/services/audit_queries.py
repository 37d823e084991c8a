"""The SQL of the audit lists: one statement per combination of filters, built once.

Values travel as bound parameters and the statement depends only on which filters a
search uses (its `Shape`), so it is built and compiled once, and psycopg can prepare it.
Building a six-walk UNION afresh costs more Python time than PostgreSQL needs to run it.

Newest first, keyed by (time, id). A filter that may match one of several columns (a
phone as A, B or X, or as its anonymised hash) runs one ordered index walk per
alternative, each stopping after a page, and merges the walks: a driver with thousands
of trips costs one page of rows, not thousands.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    Column,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    bindparam,
    or_,
    select,
    tuple_,
    union_all,
)

from app.services import queries as q
from app.services.retention import anonymised

PHONE_FILTERS = {
    "phone": ("phone_a", "phone_b", "phone_x"),
    "phone_a": ("phone_a",),
    "phone_b": ("phone_b",),
    "phone_x": ("phone_x",),
}
BINDING_EQUALS = ("subs_id", "out_id", "pool_key", "type")
EVENT_EQUALS = ("action", "outcome", "upstream_code", "binding_id")
BINDING_LEVEL = frozenset((*BINDING_EQUALS, "status", "created_from", "created_to"))
BINDING_FILTERS = frozenset((*PHONE_FILTERS, *BINDING_LEVEL, "client"))
EVENT_FILTERS = BINDING_FILTERS | {*EVENT_EQUALS, "occurred_from", "occurred_to"}
HASHED = "{}_hashed"


@dataclass(frozen=True, slots=True)
class Listing:
    """One searchable list: its sort key, the rows the API shows, what a cursor holds."""

    tag: str
    sort: Column
    id: Column
    rows_from: FromClause
    columns: tuple
    parse_id: Callable[[Any], Any]
    filters: frozenset[str]


BINDINGS = Listing(
    "b",
    q.bindings.c.created_at,
    q.bindings.c.id,
    q.bindings.join(q.clients, q.clients.c.id == q.bindings.c.client_id),
    q.BINDING_COLUMNS,
    uuid.UUID,
    BINDING_FILTERS,
)
EVENTS = Listing(
    "e",
    q.events.c.occurred_at,
    q.events.c.id,
    q.events.join(q.clients, q.clients.c.id == q.events.c.client_id),
    tuple(q.events_of_binding.selected_columns),
    int,
    EVENT_FILTERS,
)
LISTINGS = {listing.tag: listing for listing in (BINDINGS, EVENTS)}


@dataclass(frozen=True, slots=True)
class Shape:
    """Which filters a search uses: all a statement depends on."""

    tag: str
    filters: frozenset[str]
    hashed: bool = False  # phones also match their anonymised hash
    owned: bool = False  # confined to the caller's own rows (bindings:read)
    after: bool = False  # continues after a cursor's row


def parameters(args: Mapping[str, Any], hash_key: str) -> dict[str, Any]:
    """The bound values of a search: the filters, and each phone's hash when keyed."""
    values = dict(args)
    for name in PHONE_FILTERS:
        if name in args and hash_key:
            values[HASHED.format(name)] = anonymised(args[name], hash_key)
    return values


@lru_cache(maxsize=256)
def statement(shape: Shape) -> Select:
    """One page of the list, newest first; LIMIT is the bound `count`."""
    listing = LISTINGS[shape.tag]
    if listing is BINDINGS:
        source, table = BINDINGS.rows_from, q.bindings
        conditions = _binding_conditions(shape.filters)
        if shape.owned:
            conditions.append(q.bindings.c.client_id == bindparam("owner_id"))
    else:
        source, table = EVENTS.rows_from, q.events
        conditions = _event_conditions(shape.filters)
        if shape.filters & BINDING_LEVEL:
            source = source.join(q.bindings, q.bindings.c.id == q.events.c.binding_id)
            conditions += _binding_conditions(shape.filters)
    if "client" in shape.filters:
        conditions.append(table.c.client_id == _client_id())
    if shape.after:
        conditions += _after(listing)
    alternatives = _phone_alternatives(table, shape, conditions)
    if len(alternatives) > 1:
        return _merged(listing, source, conditions, alternatives)
    matches = [column == value for column, value in alternatives]
    return _newest(listing, source, [*conditions, *matches])


def _binding_conditions(filters: frozenset[str]) -> list[ColumnElement]:
    b = q.bindings.c
    conditions = [b[name] == bindparam(name) for name in BINDING_EQUALS if name in filters]
    if "status" in filters:
        conditions.append(q.derived_status.element == bindparam("status"))
    if "created_from" in filters:
        conditions.append(b.created_at >= bindparam("created_from"))
    if "created_to" in filters:
        conditions.append(b.created_at < bindparam("created_to"))
    return conditions


def _event_conditions(filters: frozenset[str]) -> list[ColumnElement]:
    e = q.events.c
    conditions = [e[name] == bindparam(name) for name in EVENT_EQUALS if name in filters]
    if "occurred_from" in filters:
        conditions.append(e.occurred_at >= bindparam("occurred_from"))
    if "occurred_to" in filters:
        conditions.append(e.occurred_at < bindparam("occurred_to"))
    return conditions


def _client_id() -> ColumnElement:
    return select(q.clients.c.id).where(q.clients.c.name == bindparam("client")).scalar_subquery()


def _after(listing: Listing) -> list[ColumnElement]:
    """Rows strictly older than the cursor's; the plain bound lets partitions be pruned."""
    at = bindparam("cursor_at", type_=listing.sort.type)
    row_id = bindparam("cursor_id", type_=listing.id.type)
    return [listing.sort <= at, tuple_(listing.sort, listing.id) < tuple_(at, row_id)]


Alternative = tuple[Column, BindParameter]


def _phone_alternatives(
    table: FromClause, shape: Shape, conditions: list[ColumnElement]
) -> list[Alternative]:
    """Each phone filter matches any of its columns, as the number or its anonymised hash.
    The widest filter drives the page (one index walk per alternative); the others
    narrow it as plain conditions, appended to `conditions`."""
    groups = []
    for name, columns in PHONE_FILTERS.items():
        if name in shape.filters:
            values = [bindparam(name)]
            if shape.hashed:
                values.append(bindparam(HASHED.format(name)))
            groups.append([(table.c[column], value) for column in columns for value in values])
    if not groups:
        return []
    groups.sort(key=len)
    conditions += [or_(*(column == value for column, value in group)) for group in groups[:-1]]
    return groups[-1]


def _newest(listing: Listing, source: FromClause, conditions: list[ColumnElement]) -> Select:
    return (
        select(*listing.columns)
        .select_from(source)
        .where(*conditions)
        .order_by(listing.sort.desc(), listing.id.desc())
        .limit(bindparam("count", type_=Integer))
    )


def _merged(
    listing: Listing,
    source: FromClause,
    conditions: list[ColumnElement],
    alternatives: list[Alternative],
) -> Select:
    """One walk per alternative, merged. Each walk leaves out what an earlier one matches,
    so they are disjoint and UNION ALL needs no de-duplication (json has no equality)."""
    walks = [
        _newest(
            listing,
            source,
            [
                *conditions,
                column == value,
                *(earlier.is_distinct_from(seen) for earlier, seen in alternatives[:index]),
            ],
        ).subquery()
        for index, (column, value) in enumerate(alternatives)
    ]
    merged = union_all(*(select(walk) for walk in walks)).subquery()
    newest = (merged.c[listing.sort.name].desc(), merged.c.id.desc())
    return select(merged).order_by(*newest).limit(bindparam("count", type_=Integer))
