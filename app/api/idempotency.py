"""The Idempotency-Key header on writes: replay, refuse, or run and remember.

It wraps a view between authentication and body parsing, so a body that fails
validation never claims a key (as Stripe does) and the stored answer is exactly
the response the first request got, problems included.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, g, make_response, request

from app import context
from app.errors import GatewayError, ValidationFailed, problem_response
from app.services import idempotency

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_LENGTH = 255
# Answers that mean "nothing happened, try again later" free the key for that retry.
RETRY_LATER = {429, 503}
KEPT_HEADERS = ("Location", "Content-Type", "Retry-After")

OPENAPI_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": MAX_LENGTH},
    "description": "Same key + same body: the first answer again (Idempotent-Replayed: true), "
    "no second upstream call. Same key + other body: 422. First still running: 409.",
}


def _fingerprint() -> str:
    """Method, path and the body's meaning (key order and spacing do not count)."""
    raw = request.get_data()
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        body = raw
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _replay(stored: idempotency.StoredResponse) -> Response:
    response = Response(stored.body, stored.status)
    response.headers.update(stored.headers)
    response.headers[REPLAYED] = "true"
    return response


def idempotent(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = context.request().headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 0 < len(key) <= MAX_LENGTH:
            raise ValidationFailed(errors={HEADER: [f"Must be 1 to {MAX_LENGTH} characters."]})
        client_id = g.client.id
        stored = idempotency.claim(client_id, key, _fingerprint())
        if stored is not None:
            return _replay(stored)
        try:
            response = make_response(view(*args, **kwargs))
        except GatewayError as error:
            response = problem_response(error)
        except BaseException:
            idempotency.release(client_id, key)
            raise
        if response.status_code in RETRY_LATER:
            idempotency.release(client_id, key)
        else:
            headers = {h: response.headers[h] for h in KEPT_HEADERS if h in response.headers}
            answer = idempotency.StoredResponse(
                response.status_code, response.get_data(as_text=True), headers
            )
            idempotency.complete(client_id, key, answer)
        return response

    return wrapper
