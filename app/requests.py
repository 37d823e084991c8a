"""Per-request plumbing: the X-Request-ID and the one access-log line."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")

access_log = logging.getLogger("gateway.access")


def _begin() -> None:
    g.started = time.perf_counter()
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if VALID_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex


def _end(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.request_id
    client = g.get("client")
    access_log.info(
        "request",
        extra={
            "request_id": g.request_id,
            "client": client.name if client else None,
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule else None,
            "status": response.status_code,
            "latency_ms": round((time.perf_counter() - g.started) * 1000, 3),
        },
    )
    return response


def install(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_end)
