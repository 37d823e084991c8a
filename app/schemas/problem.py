"""The problem+json shape every error leaves in (RFC 9457), for the OpenAPI spec."""

from marshmallow import Schema, fields


class UpstreamSchema(Schema):
    code = fields.String(metadata={"example": "isv.NO_AVAILABLE_NUMBER"})
    message = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)


class ProblemSchema(Schema):
    type = fields.String(metadata={"example": "urn:privacy-gateway:problem:validation_failed"})
    title = fields.String(metadata={"example": "The request is invalid"})
    status = fields.Integer(metadata={"example": 422})
    detail = fields.String()
    code = fields.String(metadata={"example": "validation_failed"})
    request_id = fields.String(allow_none=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"example": {"phone_a": ["Missing data for required field."]}},
    )
    upstream = fields.Nested(UpstreamSchema)
