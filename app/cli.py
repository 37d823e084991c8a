"""Operator commands: `flask --app wsgi clients …` and `flask --app wsgi bindings …`."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.config import ConfigError
from app.errors import GatewayError
from app.services import clients as client_service
from app.services import maintenance, retention

clients = AppGroup("clients", help="Internal callers and their bearer tokens.")
bindings = AppGroup("bindings", help="Reconcile and expire bindings.")
history = AppGroup("history", help="Partitions and retention of the event history.")


def _fail(error: GatewayError) -> None:
    messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in (error.errors or {}).items())
    raise click.ClickException(messages or error.detail)


@clients.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, help="Repeatable.")
@click.option("--pool", "pools", multiple=True, help="Allowed pool key; repeatable. Default: all.")
@click.option("--rate-limit", help="e.g. 200/second; default CLIENT_RATE_LIMIT.")
def create_client(
    name: str, scopes: tuple[str, ...], pools: tuple[str, ...], rate_limit: str | None
) -> None:
    """Create a client; its token is printed alone on the last line (only its hash is kept)."""
    try:
        token = client_service.create_client(name, list(scopes), list(pools) or None, rate_limit)
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
        limit = info.rate_limit or "default"
        click.echo(f"{info.name}\t{' '.join(info.scopes)}\tpools={pools}\trate={limit}\t{state}")


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
    """Mark past-due active bindings `expired` (reads already derive it; this stores it),
    and purge Idempotency-Keys older than 24 h."""
    click.echo(f"expired {maintenance.expire_due()} bindings")
    click.echo(f"purged {maintenance.purge_idempotency_keys()} idempotency keys")


@bindings.command("reconcile")
@click.option(
    "--pending-after",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds after which a pending binding counts as lost in a crash "
    "(default: the upstream timeouts plus 5 s).",
)
def reconcile_bindings(pending_after: float | None) -> None:
    """Compare local bindings with Alibaba: repair drift, adopt or settle pending ones."""
    settings = current_app.config["GATEWAY_SETTINGS"]
    if pending_after is None:
        pending_after = settings.connect_timeout + settings.read_timeout + 5
    summary = maintenance.reconcile_all(timedelta(seconds=pending_after))
    if summary is None:
        click.echo("another reconcile is running; nothing done")
        return
    keys = ("checked", "repaired", "failed", "adopted", "unknown", "orphans")
    click.echo(" ".join(f"{k}={summary[k]}" for k in keys))


@history.command("partitions")
@click.option("--months", type=click.IntRange(1, 120), default=3, show_default=True)
def create_partitions(months: int) -> None:
    """Create the missing monthly partitions of binding_events from this month on."""
    if not retention.is_partitioned():
        click.echo("SQLite keeps the history in one table: no partitions to create.")
        return
    created = retention.prepare_partitions(months)
    click.echo(f"created {len(created)} partitions" + "".join(f"\n  {n}" for n in created))


@history.command("purge")
@click.option("--older-than", "days", type=click.IntRange(1), required=True, help="Days.")
@click.option("--anonymise", is_flag=True, help="Hash phone numbers instead of deleting.")
def purge_history(days: int, anonymise: bool) -> None:
    """Delete (or anonymise) events and ended bindings older than DAYS."""
    try:
        summary = retention.purge(days, anonymise=anonymise)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    click.echo(" ".join(f"{k}={v}" for k, v in summary.items()))


def register(app: Flask) -> None:
    app.cli.add_command(clients)
    app.cli.add_command(bindings)
    app.cli.add_command(history)
