"""Blueprints, registered in one place."""

from app.api import bindings, health
from app.extensions import api


def register(app) -> None:
    api.register_blueprint(bindings.blp)
    app.register_blueprint(health.blp)
