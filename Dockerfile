# The gateway image: gunicorn (gunicorn.conf.py) serving wsgi:app as a non-root user.
#
#   docker build -t privacy-gateway .
#   docker run --rm --env-file gateway.env privacy-gateway flask --app wsgi db upgrade
#   docker run -d -p 8000:8000 --env-file gateway.env privacy-gateway
#
# Migrations are their own step (once per release, before the new instances start);
# the serving command never migrates. docs/operations.md has the details.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: resolves and installs the pinned requirements into a virtualenv --------
# Every pinned dependency ships a wheel (psycopg-binary, cryptography, ...), so no
# compiler is needed; should one ever build from source, its toolchain goes here only.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --requirement /tmp/requirements.txt

# --- runtime: the virtualenv and the code, nothing else ----------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG UID=10001
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GUNICORN_BIND=0.0.0.0:8000 \
    GUNICORN_CMD_ARGS="--worker-tmp-dir /dev/shm" \
    PROMETHEUS_MULTIPROC_DIR=/tmp/gateway-metrics
RUN groupadd --system --gid ${UID} gateway \
    && useradd --system --uid ${UID} --gid gateway --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin gateway
COPY --from=builder /opt/venv /opt/venv
WORKDIR /srv/gateway
COPY wsgi.py gunicorn.conf.py ./
COPY app ./app
COPY migrations ./migrations
COPY emulator ./emulator
# Writable by the app user: the multiprocess metrics directory and instance/ (the
# SQLite default, for a sandbox container only). The code itself stays root-owned.
RUN install -d -o gateway -g gateway /tmp/gateway-metrics /srv/gateway/instance
USER ${UID}:${UID}
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ['GUNICORN_BIND'].rsplit(':', 1)[1]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2)"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]
