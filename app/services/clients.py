"""Internal callers: bearer tokens (stored hashed), scopes and pool allow-lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from limits import parse as parse_limit
from sqlalchemy import bindparam, insert, select, update

from app import context
from app.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from app.extensions import db
from app.ids import hash_token, new_token
from app.models import ApiClient
from app.services.connections import reading
from app.services.token_cache import TokenCache

WRITE = "bindings:write"
READ = "bindings:read"
AUDIT = "audit:read"
SCOPES = (WRITE, READ, AUDIT)

clients = ApiClient.__table__


@dataclass(frozen=True, slots=True)
class Client:
    id: int
    name: str
    scopes: frozenset[str]
    pools: frozenset[str] | None
    rate_limit: str | None = None

    @property
    def audits(self) -> bool:
        return AUDIT in self.scopes

    def may_use_pool(self, pool_key: str) -> bool:
        return self.pools is None or pool_key in self.pools

    def require_pool(self, pool_key: str) -> None:
        if not self.may_use_pool(pool_key):
            raise Forbidden(f"This client may not use pool {pool_key}")


@dataclass(frozen=True, slots=True)
class ClientInfo:
    name: str
    scopes: list[str]
    pools: list[str] | None
    rate_limit: str | None
    created_at: datetime
    revoked_at: datetime | None


_AUTH_QUERY = select(
    clients.c.id, clients.c.name, clients.c.scopes, clients.c.pools, clients.c.rate_limit
).where(clients.c.token_hash == bindparam("token_hash"), clients.c.revoked_at.is_(None))


def authenticate(token: str | None) -> Client:
    """The client a bearer token belongs to; unknown or revoked tokens are 401."""
    if not token:
        raise Unauthorized()
    token_hash = hash_token(token)
    cache = _cache()
    client = cache.get(token_hash)
    if client is not None:
        return client
    with reading() as conn:
        row = conn.execute(_AUTH_QUERY, {"token_hash": token_hash}).first()
    if row is None:
        raise Unauthorized("The bearer token is unknown or revoked")
    pools = frozenset(row.pools) if row.pools is not None else None
    client = Client(row.id, row.name, frozenset(row.scopes), pools, row.rate_limit)
    cache.put(token_hash, client)
    return client


def _cache() -> TokenCache[Client]:
    extensions = context.current_app().extensions
    if "token_cache" not in extensions:
        settings = current_app.config["GATEWAY_SETTINGS"]
        extensions["token_cache"] = TokenCache(settings.token_cache_s)
    return extensions["token_cache"]


def create_client(
    name: str, scopes: list[str], pools: list[str] | None, rate_limit: str | None = None
) -> str:
    """Register a caller and return its token: the only time the token is ever seen."""
    _check_rate(rate_limit)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValidationFailed(errors={"scope": [f"Choose from {', '.join(SCOPES)}."]})
    token = new_token()
    with db.engine.begin() as conn:
        if conn.execute(select(clients.c.id).where(clients.c.name == name)).first():
            raise ValidationFailed(errors={"name": [f"A client named {name} exists."]})
        conn.execute(
            insert(clients).values(
                name=name,
                token_hash=hash_token(token),
                scopes=sorted(set(scopes)),
                pools=sorted(set(pools)) if pools else None,
                rate_limit=rate_limit,
                created_at=datetime.now(UTC),
            )
        )
    return token


def _check_rate(rate_limit: str | None) -> None:
    if rate_limit is None:
        return
    try:
        parse_limit(rate_limit)
    except ValueError:
        raise ValidationFailed(errors={"rate_limit": ["Use a form like 100/second."]}) from None


def list_clients() -> list[ClientInfo]:
    query = select(
        clients.c.name,
        clients.c.scopes,
        clients.c.pools,
        clients.c.rate_limit,
        clients.c.created_at,
        clients.c.revoked_at,
    ).order_by(clients.c.name)
    with reading() as conn:
        return [ClientInfo(*row) for row in conn.execute(query)]


def revoke_client(name: str) -> None:
    _change(name, revoked_at=datetime.now(UTC))


def rotate_client(name: str) -> str:
    """A new token for an active client; the old one stops working at once."""
    token = new_token()
    _change(name, token_hash=hash_token(token))
    return token


def _change(name: str, **values: object) -> None:
    statement = (
        update(clients)
        .where(clients.c.name == name, clients.c.revoked_at.is_(None))
        .values(**values)
    )
    with db.engine.begin() as conn:
        if conn.execute(statement).rowcount != 1:
            raise NotFound(f"No active client named {name}")
    _cache().clear()
