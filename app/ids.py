"""Identifiers the gateway mints: binding ids, request ids, client tokens."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid

TOKEN_PREFIX = "pgw_"


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 v7): new rows land at the right edge of the index."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Only this digest is stored: a leaked table does not leak working tokens."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
