"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""

import sys

from app import create_app
from app.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"configuration error: {error}")
