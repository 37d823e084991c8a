"""Documentation-only decorators: the OpenAPI description without a per-request cost.

flask-smorest's `alt_response` and `doc` attach their part of the description to a
wrapper that does nothing but call the view. A write route documents ten alternative
answers, so ten such wrappers ran on every bind and unbind. `doc_only` keeps what the
decorator documents and drops its wrapper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask_smorest import Blueprint

from app.errors import PROBLEM_MIMETYPE
from app.schemas.problem import ProblemSchema

View = TypeVar("View", bound=Callable)
PROBLEM = {"schema": ProblemSchema, "content_type": PROBLEM_MIMETYPE}


def doc_only(decorator: Callable[[View], View]) -> Callable[[View], View]:
    """Apply a pass-through flask-smorest decorator (`alt_response`, `doc`) for its
    description only; the view itself stays the one that runs."""

    def apply(view: View) -> View:
        view._apidoc = decorator(view)._apidoc  # type: ignore[attr-defined]
        return view

    return apply


def problems(blp: Blueprint, *statuses: int) -> Callable[[View], View]:
    """Document problem+json answers for `statuses`."""

    def decorate(view: View) -> View:
        for status in statuses:
            view = doc_only(blp.alt_response(status, **PROBLEM))(view)
        return view

    return decorate
