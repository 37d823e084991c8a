"""The one error type that crosses layers, and its one rendering: RFC 9457 problem+json.

Subclasses are declarations (status, code, title); constructors have no side
effects. Whatever goes wrong — a schema, werkzeug, the upstream, the database or a
bug — leaves the gateway through `problem_response`, with a stable `code` and the
request id, so that callers can branch on `code` and operators can grep the id.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from flask import Flask, Response, g
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

PROBLEM_TYPE = "urn:privacy-gateway:problem:{code}"
PROBLEM_MIMETYPE = "application/problem+json"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UpstreamInfo:
    """What Alibaba said, when it said anything."""

    code: str
    message: str | None = None
    request_id: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "request_id": self.request_id}


class GatewayError(Exception):
    status = 500
    code = "internal_error"
    title = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        upstream: UpstreamInfo | None = None,
        retry_after: int | None = None,
        allow: list[str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.upstream = upstream
        self.retry_after = retry_after
        self.allow = allow


class MalformedRequest(GatewayError):
    status, code, title = 400, "malformed_request", "The request could not be parsed"


class ValidationFailed(GatewayError):
    status, code, title = 422, "validation_failed", "The request is invalid"


class Unauthorized(GatewayError):
    status, code, title = 401, "unauthorized", "A valid bearer token is required"


class Forbidden(GatewayError):
    status, code, title = 403, "forbidden", "This client may not do that"


class NotFound(GatewayError):
    status, code, title = 404, "not_found", "No such resource"


class BindingNotActive(GatewayError):
    status, code, title = 409, "binding_not_active", "The binding is not active"


class SubscriptionGone(BindingNotActive):
    """Alibaba no longer knows the binding (isv.SUBS_NOT_EXIST): DELETE treats it as done."""


class IdempotencyKeyReused(GatewayError):
    status, code = 422, "idempotency_key_reused"
    title = "This Idempotency-Key was used with a different request"


class IdempotencyInProgress(GatewayError):
    status, code = 409, "idempotency_in_progress"
    title = "A request with this Idempotency-Key is still running"


class UpstreamRejectedInput(GatewayError):
    status, code, title = 422, "upstream_rejected_input", "Alibaba rejected the input"


class NoAvailableNumber(GatewayError):
    status, code, title = 409, "no_available_number", "The pool has no virtual number free"


class BindConflict(GatewayError):
    status, code, title = 409, "bind_conflict", "The numbers conflict with an existing binding"


class UpstreamForbidden(GatewayError):
    status, code, title = 409, "upstream_forbidden", "Alibaba refused the action"


class UnknownNumber(GatewayError):
    status, code, title = 422, "unknown_number", "The number is not in this account"


class UpstreamRateLimited(GatewayError):
    status, code, title = 429, "upstream_rate_limited", "Alibaba is throttling the account"


class RateLimited(GatewayError):
    status, code, title = 429, "rate_limited", "Too many requests from this client"


class UpstreamMisconfigured(GatewayError):
    status, code, title = 502, "upstream_misconfigured", "The Alibaba account is misconfigured"


class UpstreamFailed(GatewayError):
    status, code, title = 502, "upstream_error", "Alibaba failed to answer properly"


class UpstreamUnavailable(GatewayError):
    status, code, title = 503, "upstream_unavailable", "Alibaba is unavailable; failing fast"


class DatabaseUnavailable(GatewayError):
    status, code, title = 503, "database_unavailable", "The history database is unavailable"


class UpstreamTimeout(GatewayError):
    status, code, title = 504, "upstream_timeout", "Alibaba did not answer in time"


DATABASE_OUTAGES = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    psycopg.OperationalError,
)


def _request_id() -> str | None:
    return g.get("request_id")


def problem_response(error: GatewayError) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE.format(code=error.code),
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
        "request_id": _request_id(),
    }
    if error.errors:
        body["errors"] = error.errors
    if error.upstream:
        body["upstream"] = error.upstream.as_dict()
    response = Response(
        json.dumps(body, ensure_ascii=False), error.status, mimetype=PROBLEM_MIMETYPE
    )
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    if error.allow:
        response.headers["Allow"] = ", ".join(error.allow)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="privacy-gateway"'
    return response


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs nests messages by location then field; callers want field -> messages."""
    if isinstance(messages, list):
        return {prefix or "_request": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = str(key) if key not in ("json", "query", "headers", "view_args") else ""
        path = ".".join(p for p in (prefix, name) if p)
        flat.update(_flatten(value, path))
    return flat


def from_http_exception(exc: HTTPException) -> GatewayError:
    """werkzeug and webargs speak HTTPException; translate to the one gateway type."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    status = exc.code or 500
    if status == 422 and messages:
        return ValidationFailed(errors=_flatten(messages))
    if status == 400 and messages:
        return MalformedRequest("The body is not valid JSON", errors=_flatten(messages))
    error = GatewayError(exc.description, allow=getattr(exc, "valid_methods", None))
    error.status = status
    error.code = (exc.name or "error").lower().replace(" ", "_").replace("-", "_")
    error.title = exc.name or "Error"
    return error


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(GatewayError, problem_response)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return problem_response(from_http_exception(exc))
        if isinstance(exc, DATABASE_OUTAGES):
            log.error("database unavailable: %s", type(exc).__name__)
            return problem_response(DatabaseUnavailable(retry_after=1))
        log.exception("unhandled error")
        return problem_response(GatewayError("An unexpected error occurred"))
