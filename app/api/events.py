"""/v1/events: the audit search over every binding's history (audit:read)."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import RAISE

from app.api.export import CSV_RESPONSE, csv_response, wants_csv
from app.api.openapi import doc_only, problems
from app.api.resource import Resource
from app.auth import requires
from app.schemas.audit import EventPageSchema, EventQuerySchema
from app.schemas.events import EventSchema
from app.services import audit
from app.services.clients import AUDIT

blp = Blueprint(
    "events",
    __name__,
    url_prefix="/v1/events",
    description="Audit: every upstream call and state change of every binding (audit:read).",
)


@blp.route("")
class EventCollection(Resource):
    @requires(AUDIT)
    @blp.arguments(EventQuerySchema(), location="query", unknown=RAISE)
    @blp.response(200, EventPageSchema)
    @doc_only(blp.alt_response(200, **CSV_RESPONSE))
    @problems(blp, 401, 403, 422)
    def get(self, args):
        """Search the event history of every binding, newest first

        `Accept: text/csv` exports every match (all pages) as CSV.
        """
        if wants_csv():
            return csv_response(audit.all_events(args), EventSchema(), "events")
        return audit.find_events(args)
