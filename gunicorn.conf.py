"""Production gunicorn settings: threads, because the upstream is I/O-bound.

Each worker holds one AcsClient whose connection pool is sized to its threads.
Override with GUNICORN_* variables; DYPLS_POOL_SIZE follows GUNICORN_THREADS.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
os.environ.setdefault("DYPLS_POOL_SIZE", str(threads))
keepalive = 5
timeout = 30
graceful_timeout = 30
preload_app = True
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
