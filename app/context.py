"""The objects behind Flask's context proxies, for code on every request's path.

Reading a name through a werkzeug proxy (`request.headers`, `g.client`,
`current_app.extensions`) first fails to find it on the proxy itself, so Python builds an
AttributeError and drops it before the proxy's `__getattr__` answers: about 9k instructions
a read under callgrind, where the object itself answers in under 1k. A request read through
them some forty times. These return the object itself, by the proxies' documented
`_get_current_object()`; code off the hot path keeps the proxies.
"""

from __future__ import annotations

from flask import Flask, Request
from flask import current_app as _current_app
from flask import g as _g
from flask import request as _request
from flask.ctx import _AppCtxGlobals


def current_app() -> Flask:
    return _current_app._get_current_object()


def request() -> Request:
    return _request._get_current_object()


def g() -> _AppCtxGlobals:
    return _g._get_current_object()
