"""Extension singletons, bound to the app in create_app()."""

from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from app.errors import from_http_exception, problem_response


class Base(DeclarativeBase):
    pass


class GatewayApi(Api):
    """flask-smorest's Api, rendering its HTTP errors through our one problem renderer."""

    def handle_http_exception(self, error):  # type: ignore[override]
        return problem_response(from_http_exception(error))


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = GatewayApi()
