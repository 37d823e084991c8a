"""/v1/bindings: parse, authorise, call one service function, render."""

from __future__ import annotations

import uuid

from flask import url_for
from flask_smorest import Blueprint
from marshmallow import RAISE

from app.api.export import CSV_RESPONSE, csv_response, wants_csv
from app.api.idempotency import OPENAPI_PARAMETER, idempotent
from app.api.openapi import doc_only, problems
from app.api.resource import Resource
from app.auth import current_actor, requires
from app.ratelimit import upstream_quota
from app.schemas.audit import BindingPageSchema, BindingQuerySchema
from app.schemas.bindings import (
    CREATE_EXAMPLE,
    UPDATE_EXAMPLES,
    BindingCreateSchema,
    BindingRefreshArgsSchema,
    BindingSchema,
    BindingUpdateSchema,
    CallStatusArgsSchema,
    CallStatusSchema,
)
from app.schemas.events import EventListSchema
from app.services import audit, bindings
from app.services.clients import AUDIT, READ, WRITE

blp = Blueprint(
    "bindings",
    __name__,
    url_prefix="/v1/bindings",
    description="Bind phone numbers to a virtual number X (AXB/AXN), change, unbind, "
    "ask what to dial, read a binding's history.",
)

COMMON_ERRORS = (401, 403, 404, 422)
UPSTREAM_ERRORS = (409, 429, 502, 503, 504)


@blp.route("")
class BindingCollection(Resource):
    @requires(READ, AUDIT)
    @blp.arguments(BindingQuerySchema(), location="query", unknown=RAISE)
    @blp.response(200, BindingPageSchema)
    @doc_only(blp.alt_response(200, **CSV_RESPONSE))
    @problems(blp, 401, 403, 422)
    def get(self, args):
        """Search bindings, newest first: your own, or everyone's with audit:read

        `Accept: text/csv` exports every match (all pages) as CSV.
        """
        if wants_csv():
            return csv_response(
                audit.all_bindings(current_actor(), args), BindingSchema(), "bindings"
            )
        return audit.find_bindings(current_actor(), args)

    @requires(WRITE)
    @upstream_quota
    @idempotent
    @doc_only(blp.doc(parameters=[OPENAPI_PARAMETER]))
    @blp.arguments(BindingCreateSchema(), example=CREATE_EXAMPLE)
    @blp.response(201, BindingSchema, headers={"Location": {"schema": {"type": "string"}}})
    @problems(blp, 400, *COMMON_ERRORS, *UPSTREAM_ERRORS)
    def post(self, data):
        """Bind A (and B) to a virtual number X"""
        binding = bindings.create(current_actor(), data)
        return binding, 201, {"Location": url_for("bindings.BindingItem", binding_id=binding.id)}


@blp.route("/<uuid:binding_id>")
class BindingItem(Resource):
    @requires(READ, AUDIT)
    @blp.arguments(BindingRefreshArgsSchema(), location="query")
    @blp.response(200, BindingSchema)
    @problems(blp, *COMMON_ERRORS, *UPSTREAM_ERRORS)
    def get(self, args, binding_id: uuid.UUID):
        """Read a binding (refresh=true asks Alibaba and reconciles)"""
        return bindings.get(current_actor(), binding_id, refresh=args["refresh"])

    @requires(WRITE)
    @upstream_quota
    @idempotent
    @doc_only(blp.doc(parameters=[OPENAPI_PARAMETER]))
    @blp.arguments(BindingUpdateSchema(), examples=UPDATE_EXAMPLES)
    @blp.response(200, BindingSchema)
    @problems(blp, 400, *COMMON_ERRORS, *UPSTREAM_ERRORS)
    def patch(self, data, binding_id: uuid.UUID):
        """Change A, B, the expiry or the call restriction (one per request)"""
        return bindings.update(current_actor(), binding_id, data)

    @requires(WRITE)
    @upstream_quota
    @idempotent
    @doc_only(blp.doc(parameters=[OPENAPI_PARAMETER]))
    @blp.response(200, BindingSchema)
    @problems(blp, *COMMON_ERRORS, *UPSTREAM_ERRORS)
    def delete(self, binding_id: uuid.UUID):
        """Unbind (idempotent)"""
        return bindings.unbind(current_actor(), binding_id)


@blp.route("/<uuid:binding_id>/call-status")
class CallStatus(Resource):
    @requires(READ, AUDIT)
    @upstream_quota
    @blp.arguments(CallStatusArgsSchema(), location="query")
    @blp.response(200, CallStatusSchema)
    @problems(blp, *COMMON_ERRORS, *UPSTREAM_ERRORS)
    def get(self, args, binding_id: uuid.UUID):
        """What to dial now (QueryCallStatus), including the degrade to the real number"""
        return bindings.call_status(current_actor(), binding_id, args["caller"])


@blp.route("/<uuid:binding_id>/events")
class BindingEvents(Resource):
    @requires(READ, AUDIT)
    @blp.response(200, EventListSchema)
    @problems(blp, *COMMON_ERRORS)
    def get(self, binding_id: uuid.UUID):
        """The binding's event timeline, oldest first"""
        return {"items": bindings.events(current_actor(), binding_id)}
