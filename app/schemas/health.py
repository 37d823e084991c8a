"""What the probes answer (they are outside /v1 and need no token)."""

from marshmallow import Schema, fields


class LivenessSchema(Schema):
    status = fields.String(metadata={"example": "ok"})


class ReadinessChecksSchema(Schema):
    database = fields.String(
        metadata={"example": "ok", "description": "ok, or unreachable (the driver's error class)."}
    )
    schema = fields.String(
        metadata={"example": "ok", "description": "ok, or which revision the database is at."}
    )
    upstream_circuit = fields.String(
        metadata={
            "enum": ["closed", "open", "half_open"],
            "description": "Informative only: an open circuit does not make the instance unready.",
        }
    )


class ReadinessSchema(Schema):
    ready = fields.Boolean(metadata={"example": True})
    checks = fields.Nested(ReadinessChecksSchema)
