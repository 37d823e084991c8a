"""Schemathesis against the live app, driven by the spec the app itself serves.

Requests are generated from /openapi.json: the spec's own examples, valid ones,
invalid ones, and valid ones aimed at a real binding. None may meet a server error,
and every answer must be what the spec says: status, content type, headers, body.
Invalid input must be refused and a missing token must be a 401.

Schema-valid requests may still be refused (422): the spec states shapes, while
business rules — a real mainland number, exactly one change per PATCH, an expiry at
least two minutes ahead — are checked by the service. So "valid data is accepted"
is the one check left out.

Bounded and derandomized: the same requests, in well under a minute, every run.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.services.clients import AUDIT, READ, WRITE
from tests.conftest import Caller

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
EXAMPLES_PER_STRATEGY = 20
BOUNDED = settings(
    max_examples=EXAMPLES_PER_STRATEGY,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)


def _strategies(schema, operation, caller: Caller) -> dict[str, Any]:
    strategies = {"valid": operation.as_strategy(generation_mode=GenerationMode.POSITIVE)}
    inputs = (operation.path_parameters, operation.query, operation.headers, operation.body)
    if any(len(part) for part in inputs):
        strategies["invalid"] = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    examples = schema.get_strategies_from_examples(operation)
    if examples:
        strategies["spec examples"] = st.one_of(examples)
    if "binding_id" in operation.path_parameters:
        binding = caller.bind()
        # Values a generator would not guess: a live binding, and one of its own numbers.
        real = {"caller": binding["phone_a"]}
        strategies["valid, on a live binding"] = operation.as_strategy(
            generation_mode=GenerationMode.POSITIVE,
            path_parameters={"binding_id": binding["id"]},
            query={name: real[name] for name in real if name in operation.query},
        )
    return strategies


def test_generated_requests_get_answers_the_spec_allows(gateway, make_caller, subtests):
    caller = make_caller("fuzzer", scopes=(WRITE, READ, AUDIT))
    auth = {"Authorization": f"Bearer {caller.token}"}
    schema = schemathesis.openapi.from_wsgi("/openapi.json", gateway)

    for result in schema.get_all_operations():
        operation = result.ok()
        for name, strategy in _strategies(schema, operation, caller).items():

            @BOUNDED
            @given(case=strategy)
            def answers_as_specified(case) -> None:
                case.call_and_validate(headers=auth, checks=CHECKS)

            with subtests.test(f"{operation.method.upper()} {operation.path}: {name}"):
                answers_as_specified()
