"""Probes and metrics: outside the versioned API and without auth, for load balancers,
orchestrators and Prometheus."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from app import context, metrics
from app.api.openapi import doc_only
from app.schemas.health import LivenessSchema, ReadinessSchema
from app.services import health

blp = Blueprint(
    "health",
    __name__,
    description="Liveness, readiness and Prometheus metrics; no token needed.",
)

NO_AUTH = {"security": []}
METRICS_RESPONSE = {
    "description": "Prometheus text exposition format.",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}


@blp.route("/healthz")
@doc_only(blp.doc(**NO_AUTH))
@blp.response(200, LivenessSchema)
def healthz():
    """Liveness: 200 while the process serves"""
    return {"status": "ok"}


@blp.route("/readyz")
@doc_only(blp.doc(**NO_AUTH))
@blp.response(200, ReadinessSchema)
@doc_only(blp.alt_response(503, schema=ReadinessSchema, description="Not ready: see checks."))
def readyz():
    """Readiness: the database answers and its schema is at the migrations' head"""
    report = health.readiness()
    return report, 200 if report["ready"] else 503


@blp.route("/metrics")
@doc_only(blp.doc(**NO_AUTH, responses={"200": METRICS_RESPONSE}))
def metrics_text():
    """Prometheus metrics of every worker of this instance"""
    body, content_type = metrics.exposition(context.current_app())
    return Response(body, content_type=content_type)
