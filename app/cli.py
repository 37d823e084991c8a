"""Operator commands: `flask --app wsgi clients …` and `flask --app wsgi bindings …`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.errors import GatewayError
from app.services import clients as client_service
from app.services import maintenance

clients = AppGroup("clients", help="Internal callers and their bearer tokens.")
bindings = AppGroup("bindings", help="Reconcile and expire bindings.")


def _fail(error: GatewayError) -> None:
    messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in (error.errors or {}).items())
    raise click.ClickException(messages or error.detail)


@clients.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, help="Repeatable.")
@click.option("--pool", "pools", multiple=True, help="Allowed pool key; repeatable. Default: all.")
def create_client(name: str, scopes: tuple[str, ...], pools: tuple[str, ...]) -> None:
    """Create a client; its token is printed alone on the last line (only its hash is kept)."""
    try:
        token = client_service.create_client(name, list(scopes), list(pools) or None)
    except GatewayError as error:
        _fail(error)
    click.echo(f"created client {name} with scopes {', '.join(sorted(set(scopes)))}")
    click.echo(token)


@clients.command("list")
def list_clients() -> None:
    """List clients (never their tokens)."""
    for info in client_service.list_clients():
        state = f"revoked {info.revoked_at:%Y-%m-%d}" if info.revoked_at else "active"
        pools = ",".join(info.pools) if info.pools else "*"
        click.echo(f"{info.name}\t{' '.join(info.scopes)}\tpools={pools}\t{state}")


@clients.command("revoke")
@click.argument("name")
def revoke_client(name: str) -> None:
    """Revoke a client's token at once."""
    try:
        client_service.revoke_client(name)
    except GatewayError as error:
        _fail(error)
    click.echo(f"revoked client {name}")


@clients.command("rotate")
@click.argument("name")
def rotate_client(name: str) -> None:
    """Issue a new token (printed alone on the last line); the old one stops working."""
    try:
        token = client_service.rotate_client(name)
    except GatewayError as error:
        _fail(error)
    click.echo(f"rotated token of client {name}")
    click.echo(token)


@bindings.command("expire")
def expire_bindings() -> None:
    """Mark past-due active bindings `expired` (reads already derive it; this stores it)."""
    click.echo(f"expired {maintenance.expire_due()} bindings")


@bindings.command("reconcile")
def reconcile_bindings() -> None:
    """Compare local active bindings with Alibaba and repair drift, recording each repair."""
    summary = maintenance.reconcile_all()
    click.echo(" ".join(f"{k}={v}" for k, v in summary.items()))


def register(app: Flask) -> None:
    app.cli.add_command(clients)
    app.cli.add_command(bindings)
