# Two commands matter: `make run` (sandbox gateway on :8000) and `make test`.
# Each sets itself up: virtualenv, pinned requirements, migrations.

# The interpreter sets the pace of every request. A distribution's CPython (Debian's
# python3.11 here) is built with profile-guided optimisation and LTO, as the production
# image's python:3.11-slim is; a default pyenv build is neither, and runs the same request
# path slower (docs/performance.md, fifteenth round). So the virtualenv is made from it
# where it is installed with its venv module (Debian's python3.11-venv), else from python3;
# `make PYTHON=...` picks another.
DISTRO_PYTHON := /usr/bin/python3.11
PYTHON ?= $(or $(shell $(DISTRO_PYTHON) -c "import ensurepip, venv" 2>/dev/null && echo $(DISTRO_PYTHON)),python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export TEST_DATABASE_URL

.PHONY: run test lint format

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	@PATH="$(CURDIR)/$(BIN):$$PATH" ./scripts/run-sandbox.sh

test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
