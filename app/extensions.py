"""Extension singletons, bound to the app in create_app()."""

from http import HTTPStatus

from flask_migrate import Migrate
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from app.errors import PROBLEM_MIMETYPE, from_http_exception, problem_response
from app.schemas.problem import ProblemSchema


class Base(DeclarativeBase):
    pass


class GatewayApi(Api):
    """flask-smorest's Api, rendering its HTTP errors through our one problem renderer."""

    def handle_http_exception(self, error):  # type: ignore[override]
        return problem_response(from_http_exception(error))

    def _register_responses(self) -> None:
        """Document the shared error responses as they leave: problem+json, not plain JSON
        (flask-smorest's own registration assumes its JSON error schema)."""
        for status in HTTPStatus:
            if status >= 400:
                self._register_problem(status.name, status.phrase)
        self._register_problem(self.DEFAULT_ERROR_RESPONSE_NAME, "Any other error")

    def _register_problem(self, name: str, description: str) -> None:
        response = {"description": description, "schema": ProblemSchema}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response(name, response, lazy=True)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = GatewayApi()
