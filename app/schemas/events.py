"""Event output: one row of a binding's append-only history."""

from marshmallow import Schema, fields

from app.schemas.fields import Timestamp
from app.schemas.rows import RowSchema


class EventSchema(RowSchema):
    id = fields.Integer(metadata={"example": 1042})
    binding_id = fields.UUID(metadata={"example": "0190f3a4-7c1e-7b2a-9d4e-5f6a7b8c9d0e"})
    client = fields.String(metadata={"example": "rides"})
    action = fields.String(metadata={"example": "BindAxb"})
    outcome = fields.String(metadata={"enum": ["requested", "ok", "error"], "example": "ok"})
    upstream_code = fields.String(allow_none=True, metadata={"example": "OK"})
    upstream_request_id = fields.String(
        allow_none=True, metadata={"example": "9297B722-A016-43FB-8E8A-1C2D3E4F5A6B"}
    )
    http_status = fields.Integer(allow_none=True, metadata={"example": 201})
    latency_ms = fields.Float(allow_none=True, metadata={"example": 48.2})
    request_id = fields.String(allow_none=True, metadata={"example": "trip-42/attempt-1"})
    idempotency_key = fields.String(allow_none=True, metadata={"example": "trip-42-bind"})
    occurred_at = Timestamp()
    params = fields.Dict(
        allow_none=True,
        metadata={
            "example": {"PoolKey": "FC100000000000001", "PhoneNoA": "13800138000"},
            "description": "The parameters sent to Alibaba; never credentials.",
        },
    )


class EventListSchema(Schema):
    items = fields.List(fields.Nested(EventSchema))
