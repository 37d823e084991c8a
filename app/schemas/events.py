"""Event output: one row of a binding's append-only history."""

from marshmallow import Schema, fields

from app.schemas.fields import Timestamp


class EventSchema(Schema):
    id = fields.Integer()
    binding_id = fields.UUID()
    client = fields.String()
    action = fields.String(metadata={"example": "BindAxb"})
    outcome = fields.String(metadata={"enum": ["requested", "ok", "error"]})
    upstream_code = fields.String(allow_none=True)
    upstream_request_id = fields.String(allow_none=True)
    http_status = fields.Integer(allow_none=True)
    latency_ms = fields.Float(allow_none=True)
    request_id = fields.String(allow_none=True)
    idempotency_key = fields.String(allow_none=True)
    occurred_at = Timestamp()
    params = fields.Dict(allow_none=True)


class EventListSchema(Schema):
    items = fields.List(fields.Nested(EventSchema))
