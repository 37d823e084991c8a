"""Query arguments and pages of the audit lists (contract §4, "Lists").

Every filter is optional and they combine with AND. Phone filters take the same
formats as bodies; times need an offset. Ranges are half-open: from ≤ t < to.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas.bindings import STATUSES, TYPES, BindingSchema
from app.schemas.events import EventSchema
from app.schemas.fields import Phone, Timestamp

OUTCOMES = ("requested", "ok", "error")
MAX_LIMIT = 500


def _check_range(data: dict[str, Any], start: str, end: str, end_name: str) -> None:
    if start in data and end in data and data[start] >= data[end]:
        raise ValidationError("Must be later than the start of the range.", end_name)


class BindingQuerySchema(Schema):
    phone = Phone(metadata={"description": "Matches A, B or X."})
    phone_a = Phone()
    phone_b = Phone()
    phone_x = Phone()
    subs_id = fields.String(validate=validate.Length(1, 32))
    out_id = fields.String(validate=validate.Length(1, 64), metadata={"example": "trip-42"})
    pool_key = fields.String(validate=validate.Length(1, 64))
    type = fields.String(validate=validate.OneOf(TYPES))
    status = fields.String(
        validate=validate.OneOf(STATUSES),
        metadata={"description": "As shown: an active binding past expires_at is expired."},
    )
    client = fields.String(
        validate=validate.Length(1, 100),
        metadata={"description": "Client name; without audit:read only your own matches."},
    )
    created_from = Timestamp(
        metadata={
            "description": "The binding was created at or after.",
            "example": "2026-01-01T00:00:00Z",
        }
    )
    created_to = Timestamp(
        metadata={
            "description": "The binding was created before.",
            "example": "2026-02-01T00:00:00Z",
        }
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(
        validate=validate.Length(1, 200),
        metadata={"description": "next_cursor of the previous page."},
    )

    @validates_schema
    def _ranges(self, data: dict[str, Any], **kwargs: Any) -> None:
        _check_range(data, "created_from", "created_to", "created_to")


class EventQuerySchema(BindingQuerySchema):
    """Binding filters select events of the matching bindings; phones match the numbers
    the binding had when each event was written."""

    action = fields.String(
        validate=validate.Length(1, 64), metadata={"example": "UpdateSubscription.updateNoB"}
    )
    outcome = fields.String(validate=validate.OneOf(OUTCOMES))
    upstream_code = fields.String(
        validate=validate.Length(1, 64), metadata={"example": "isv.NO_AVAILABLE_NUMBER"}
    )
    binding_id = fields.UUID()
    occurred_from = Timestamp(
        data_key="from",
        metadata={
            "description": "The event occurred at or after.",
            "example": "2026-01-01T00:00:00Z",
        },
    )
    occurred_to = Timestamp(
        data_key="to",
        metadata={"description": "The event occurred before.", "example": "2026-02-01T00:00:00Z"},
    )

    @validates_schema
    def _occurred(self, data: dict[str, Any], **kwargs: Any) -> None:
        _check_range(data, "occurred_from", "occurred_to", "to")


class BindingPageSchema(Schema):
    items = fields.List(fields.Nested(BindingSchema))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass as cursor for the next page; null: last."}
    )


class EventPageSchema(Schema):
    items = fields.List(fields.Nested(EventSchema))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass as cursor for the next page; null: last."}
    )
