"""A quiet night: the database server (or a firewall between) closed the gateway's idle
connections. The morning's first requests are served as usual, not answered 503."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import psycopg

from app.extensions import db
from tests.conftest import Caller, axb, rows, terminate

OUR_BACKENDS = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"


def backends(gateway) -> set[int]:
    return {pid for (pid,) in rows(gateway, OUR_BACKENDS)}


def test_connections_closed_while_the_gateway_was_quiet_cost_no_request(
    another_worker, gateway, rides
):
    already = backends(gateway)
    worker = another_worker(db_pool_idle_check_s=0.2)
    caller = Caller(worker.test_client(), rides.token)
    caller.bind(phone_a="13800000011")  # the statement pool's writes; the token check's read
    assert caller.get("/v1/bindings").status_code == 200  # a list, through SQLAlchemy's pool
    workers = backends(gateway) - already
    terminate(workers)
    time.sleep(0.3)

    created = caller.post("/v1/bindings", json=axb(phone_a="13800000012"))
    assert created.status_code == 201, created.get_json()
    listed = caller.get("/v1/bindings")
    assert listed.status_code == 200, listed.get_json()
    assert len(listed.get_json()["items"]) == 2
    assert not workers & backends(gateway)


def pooled_connections(gateway) -> Iterator[psycopg.Connection]:
    """A connection of each pool: the statement pool's, and SQLAlchemy's."""
    with gateway.extensions["statements"].cursor() as cursor:
        yield cursor.connection
    with gateway.app_context(), db.engine.connect() as conn:
        yield conn.connection.dbapi_connection


def test_an_idle_connection_keeps_a_firewall_between_aware_of_it(gateway):
    """Keepalives every 30 s hold a firewall's or NAT table's state for a quiet connection,
    and unacknowledged data breaks it within 10 s instead of TCP's quarter of an hour."""
    for connection in pooled_connections(gateway):
        with socket.fromfd(connection.pgconn.socket, socket.AF_INET, socket.SOCK_STREAM) as tcp:
            assert tcp.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            assert tcp.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
            assert tcp.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 10
            assert tcp.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 3
            assert tcp.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 10_000
