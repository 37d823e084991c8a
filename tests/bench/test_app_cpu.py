"""bench.app_cpu --calls tells where the own path's calls go, package by package."""

import os
from collections import Counter

from bench.app_cpu import ROOT, by_package, package_path


def test_a_file_is_named_from_its_package_or_the_repository():
    site_packages = "/venv/lib/python3.11/site-packages/flask/app.py"
    standard = "/usr/lib/python3.11/json/encoder.py"

    assert package_path(site_packages) == "flask/app.py"
    assert package_path(standard) == "json/encoder.py"
    assert package_path(os.path.join(ROOT, "app", "requests.py")) == "app/requests.py"
    assert package_path("<frozen abc>") == "<frozen abc>"


def test_calls_add_up_by_package_with_c_functions_apart():
    calls = Counter(
        {
            "flask/app.py:1479(wsgi_app)": 1.0,
            "flask/ctx.py:377(push)": 2.0,
            "typing.py:2268(cast)": 3.0,
            "app/requests.py:59(_end)": 1.0,
            "<built-in method builtins.isinstance>": 5.0,
            "<method 'get' of 'dict' objects>": 4.0,
        }
    )

    assert by_package(calls) == {"flask": 3.0, "typing": 3.0, "app": 1.0, "built-in": 9.0}
