"""The problem+json shape every error leaves in (RFC 9457), for the OpenAPI spec."""

from marshmallow import Schema, fields


class UpstreamSchema(Schema):
    code = fields.String(metadata={"example": "isv.NO_AVAILABLE_NUMBER"})
    message = fields.String(allow_none=True, metadata={"example": "no available number"})
    request_id = fields.String(
        allow_none=True, metadata={"example": "9297B722-A016-43FB-8E8A-1C2D3E4F5A6B"}
    )


class ProblemSchema(Schema):
    """Output only: `required` tells client generators which members are always there."""

    type = fields.String(
        required=True, metadata={"example": "urn:privacy-gateway:problem:validation_failed"}
    )
    title = fields.String(required=True, metadata={"example": "The request is invalid"})
    status = fields.Integer(required=True, metadata={"example": 422})
    detail = fields.String(required=True, metadata={"example": "The request is invalid"})
    code = fields.String(
        required=True,
        metadata={
            "example": "validation_failed",
            "description": "Stable snake_case; branch on it.",
        },
    )
    request_id = fields.String(
        required=True, allow_none=True, metadata={"example": "trip-42/attempt-1"}
    )
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"example": {"phone_a": ["Missing data for required field."]}},
    )
    upstream = fields.Nested(
        UpstreamSchema, metadata={"description": "What Alibaba answered, when it answered."}
    )
