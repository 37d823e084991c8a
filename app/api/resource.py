"""The base of every resource's views."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app import context


class Resource(MethodView):
    """Flask's MethodView less two costs it pays on every request for views that need them:
    a new instance per request (these views keep no state, so one serves them all), and the
    request's method and the app read through werkzeug's proxies, each read a failed
    attribute lookup first (app/context.py)."""

    init_every_request = False

    def dispatch_request(self, **kwargs: Any) -> Any:
        method = context.request().method
        handler = getattr(self, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = self.get
        return context.current_app().ensure_sync(handler)(**kwargs)
