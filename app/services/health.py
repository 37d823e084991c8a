"""Readiness: the database answers and its schema is at the migrations' head."""

from __future__ import annotations

from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import exc as sa_exc

from app.services.connections import reading


def _head() -> str | None:
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def readiness() -> dict[str, Any]:
    checks: dict[str, Any] = {}
    try:
        with reading() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        head = current_app.config.setdefault("MIGRATIONS_HEAD", _head())
        checks["database"] = "ok"
        checks["schema"] = "ok" if current == head else f"at {current}, head is {head}"
    except sa_exc.DBAPIError as exc:
        checks["database"] = f"unreachable ({type(exc.orig).__name__})"
    except sa_exc.TimeoutError:
        checks["database"] = "busy (no pooled connection came free in time)"
    # Informative only: every instance shares the upstream, so an open circuit is no
    # reason to take this one out of the load balancer.
    checks["upstream_circuit"] = current_app.extensions["dypls"].breaker.state
    ready = checks.get("database") == "ok" and checks.get("schema") == "ok"
    return {"ready": ready, "checks": checks}
