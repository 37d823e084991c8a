"""The base of schemas that render database rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema


class RowSchema(Schema):
    """Reads a row's fields as attributes: psycopg's named tuples and SQLAlchemy's rows.

    marshmallow's own getter tries `row["name"]` first, which a tuple answers with a
    TypeError that marshmallow then catches: an exception raised and caught for every
    field of every row, a fifth of the instructions of rendering a binding. A named tuple is
    told apart first: asking an ABC whether it is a Mapping costs a Python call each time."""

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if isinstance(obj, tuple) or not isinstance(obj, Mapping):
            return getattr(obj, attr, default)
        return obj.get(attr, default)
