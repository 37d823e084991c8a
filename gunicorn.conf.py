"""Production gunicorn settings: threads, because the upstream is I/O-bound.

Each worker holds one AcsClient whose connection pool is sized to its threads.
Override with GUNICORN_* variables; DYPLS_POOL_SIZE follows GUNICORN_THREADS,
DB_STATEMENT_POOL_SIZE is half of it and DB_POOL_SIZE an eighth.

Metrics run in prometheus-client's multiprocess mode: every worker writes its
samples under PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. The variable
must be set before the app (and so prometheus_client) is imported, which
preload_app does right after this file is read; without one, a private
temporary directory is made here and removed on exit.
"""

import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# gthread, except that a thread that just answered keeps a busy keep-alive connection for its
# next request (GUNICORN_KEEPALIVE_LINGER_MS, 20 by default; 0 for plain gthread): app/server.py.
worker_class = "app.server.KeepAliveThreadWorker"
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
os.environ.setdefault("DYPLS_POOL_SIZE", str(threads))
# A thread holds a statement connection only for one statement, never across the upstream
# call, so half as many connections as threads serve the request path's writes: side by
# side with 32, PostgreSQL spent 3-7 % less CPU per request and the gateway 4-7 % less
# (docs/performance.md, eighth round). SQLAlchemy's pool serves the rest (token checks,
# reads, Idempotency-Key claims, audits): a quarter of that. Neither pool overflows.
os.environ.setdefault("DB_STATEMENT_POOL_SIZE", str(max(1, threads // 2)))
os.environ.setdefault("DB_POOL_SIZE", str(max(2, threads // 8)))
keepalive = 5
timeout = 30
graceful_timeout = 30
preload_app = True
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicornc's control socket lives under $HOME: instances on one host would share it,
# and the container's user has no home. Signals (HUP, TTIN, TTOU, TERM) do the job.
control_socket_disable = True

TEMPORARY_METRICS_PREFIX = "gateway-metrics-"
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=TEMPORARY_METRICS_PREFIX)
METRICS_DIR = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
METRICS_DIR.mkdir(parents=True, exist_ok=True)


def on_starting(server):
    """A previous run's samples would be added to this one's: start from an empty directory."""
    for stale in METRICS_DIR.glob("*.db"):
        stale.unlink()


def pre_fork(server, worker):
    """Each worker on a core of its own, the one the fewest live workers use
    (GUNICORN_PIN_WORKERS=0 leaves the placement to the kernel), and the app's start-up
    objects out of the cyclic collector's sight, so a worker's full collection does not
    walk them (app/server.py)."""
    from app.server import assign_cpu, freeze_startup_objects

    freeze_startup_objects()
    assign_cpu(worker, server.WORKERS.values())


def post_worker_init(worker):
    """A scrape reaches one worker, so each keeps its own gauges (pools, circuit) fresh."""
    from app import metrics

    metrics.start_sampler(worker.wsgi)


def child_exit(server, worker):
    """A dead worker's gauges leave the sums; its counters and histograms stay counted."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """The temporary directory made above goes with the instance (known by its name,
    since a HUP re-reads this file after the variable is set)."""
    if METRICS_DIR.name.startswith(TEMPORARY_METRICS_PREFIX):
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
