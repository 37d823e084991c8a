"""Blueprints, registered in one place."""

from app.api import bindings, events, health
from app.extensions import api


def register() -> None:
    api.register_blueprint(bindings.blp)
    api.register_blueprint(events.blp)
    api.register_blueprint(health.blp)
