"""Liveness and readiness probes, outside the versioned API and without auth."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.services import health

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    report = health.readiness()
    return jsonify(report), 200 if report["ready"] else 503
