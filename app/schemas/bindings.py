"""Binding bodies, query arguments and output (contract §4, "Binding resource")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas.fields import Phone, Timestamp
from app.schemas.rows import RowSchema

TYPES = ("AXB", "AXN")
CALL_RESTRICTIONS = ("CONTROL_AX_DISABLE", "CONTROL_BX_DISABLE")
STATUSES = ("pending", "active", "unbound", "expired", "failed", "unknown")
MIN_LIFETIME = timedelta(seconds=120)
MAX_TTL_SECONDS = 366 * 24 * 3600


def _check_lifetime(data: dict[str, Any]) -> None:
    """Exactly one of expires_at / ttl_seconds; Alibaba refuses less than a minute, we ask two."""
    has_at, has_ttl = "expires_at" in data, "ttl_seconds" in data
    if has_at and has_ttl:
        raise ValidationError("Give expires_at or ttl_seconds, not both.", "expires_at")
    if has_at and data["expires_at"] < datetime.now(UTC) + MIN_LIFETIME:
        raise ValidationError("Must be at least 2 minutes in the future.", "expires_at")


def lifetime_end(data: dict[str, Any]) -> datetime | None:
    """The absolute expiry a body asks for, whichever way it said it."""
    if "ttl_seconds" in data:
        return datetime.now(UTC) + timedelta(seconds=data["ttl_seconds"])
    return data.get("expires_at")


class BindingCreateSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    pool_key = fields.String(
        required=True,
        validate=validate.Length(1, 64),
        metadata={"example": "FC100000000000001"},
    )
    phone_a = Phone(required=True)
    phone_b = Phone(metadata={"description": "Required for AXB."})
    phone_x = Phone(metadata={"description": "Pin X; otherwise Alibaba picks one."})
    expect_city = fields.String(validate=validate.Length(1, 32), metadata={"example": "杭州"})
    record_calls = fields.Boolean(load_default=False)
    out_id = fields.String(validate=validate.Length(1, 64), metadata={"example": "trip-42"})
    call_restrict = fields.String(validate=validate.OneOf(CALL_RESTRICTIONS))
    expires_at = Timestamp()
    ttl_seconds = fields.Integer(
        validate=validate.Range(min=120, max=MAX_TTL_SECONDS), metadata={"example": 3600}
    )

    @validates_schema
    def _rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "expires_at" not in data and "ttl_seconds" not in data:
            raise ValidationError("Give expires_at or ttl_seconds.", "expires_at")
        _check_lifetime(data)
        if data.get("type") == "AXB" and "phone_b" not in data:
            raise ValidationError("Required for AXB bindings.", "phone_b")
        if "phone_b" in data and data.get("phone_a") == data["phone_b"]:
            raise ValidationError("Must differ from phone_a.", "phone_b")


class BindingUpdateSchema(Schema):
    """Exactly one change per request, as Alibaba's UpdateSubscription does one operation."""

    phone_a = Phone()
    phone_b = Phone()
    expires_at = Timestamp()
    ttl_seconds = fields.Integer(validate=validate.Range(min=120, max=MAX_TTL_SECONDS))
    call_restrict = fields.String(
        allow_none=True,
        validate=validate.OneOf(CALL_RESTRICTIONS),
        metadata={"description": "null clears the restriction."},
    )

    @validates_schema
    def _one_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        changes = {"expires_at" if k == "ttl_seconds" else k for k in data}
        if len(changes) != 1:
            raise ValidationError(
                "Give exactly one of phone_a, phone_b, expires_at/ttl_seconds, call_restrict.",
                "_schema",
            )
        _check_lifetime(data)


class BindingRefreshArgsSchema(Schema):
    refresh = fields.Boolean(
        load_default=False,
        metadata={"description": "Ask Alibaba (QuerySubscriptionDetail) and reconcile."},
    )


class CallStatusArgsSchema(Schema):
    caller = Phone(required=True, metadata={"description": "The party about to dial."})


class BindingSchema(RowSchema):
    id = fields.UUID(metadata={"example": "0190f3a4-7c1e-7b2a-9d4e-5f6a7b8c9d0e"})
    type = fields.String(metadata={"enum": list(TYPES), "example": "AXB"})
    pool_key = fields.String(metadata={"example": "FC100000000000001"})
    subs_id = fields.String(
        allow_none=True,
        metadata={
            "example": "1000000768393849",
            "description": "Alibaba's SubsId; null while pending.",
        },
    )
    phone_x = fields.String(
        allow_none=True, metadata={"example": "17100000001", "description": "The virtual number."}
    )
    extension = fields.String(allow_none=True, metadata={"example": None})
    phone_a = fields.String(metadata={"example": "13800138000"})
    phone_b = fields.String(allow_none=True, metadata={"example": "13900139000"})
    expect_city = fields.String(allow_none=True, metadata={"example": None})
    record_calls = fields.Boolean(metadata={"example": False})
    out_id = fields.String(allow_none=True, metadata={"example": "trip-42"})
    call_restrict = fields.String(
        allow_none=True, metadata={"enum": [*CALL_RESTRICTIONS, None], "example": None}
    )
    status = fields.String(metadata={"enum": list(STATUSES), "example": "active"})
    expires_at = Timestamp()
    created_at = Timestamp()
    updated_at = Timestamp()
    unbound_at = Timestamp(allow_none=True, metadata={"example": None})
    client = fields.String(metadata={"example": "rides"})


class DialSchema(Schema):
    number = fields.String(
        allow_none=True,
        metadata={"example": "17100000001", "description": "null when there is nothing to dial."},
    )
    kind = fields.String(metadata={"enum": ["x", "temporary_x", "direct", "none"], "example": "x"})


class CallStatusSchema(Schema):
    status = fields.Integer(metadata={"enum": [1, 2, 3, 4], "example": 1})
    called_no = fields.String(allow_none=True, metadata={"example": "17100000001"})
    dial = fields.Nested(DialSchema)
    source = fields.String(
        metadata={
            "enum": ["QueryCallStatus", "QuerySubscriptionDetail"],
            "example": "QueryCallStatus",
            "description": "QuerySubscriptionDetail when Alibaba no longer knows QueryCallStatus.",
        }
    )


# Whole-body examples for the spec (the field examples alone make an invalid AXB body).
CREATE_EXAMPLE = {
    "type": "AXB",
    "pool_key": "FC100000000000001",
    "phone_a": "13800138000",
    "phone_b": "13900139000",
    "out_id": "trip-42",
    "ttl_seconds": 3600,
}
UPDATE_EXAMPLES = {
    "swap the driver": {"value": {"phone_b": "13700137000"}},
    "extend the trip": {"value": {"ttl_seconds": 7200}},
    "stop B calling X": {"value": {"call_restrict": "CONTROL_BX_DISABLE"}},
    "lift the restriction": {"value": {"call_restrict": None}},
}
