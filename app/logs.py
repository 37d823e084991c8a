"""Logging: one JSON (or text) line per record, phone numbers masked, secrets redacted.

Scrubbing happens on the formatted line, so it covers messages, arguments,
extras and tracebacks alike, whoever logged them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import TextIO

MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?(1[3-9]\d)\d{4}(\d{4})(?![0-9A-Za-z])")
LANDLINE = re.compile(r"(?<![0-9A-Za-z])(0\d{2,3})\d{3,4}(\d{4})(?![0-9A-Za-z])")
TOKEN = re.compile(r"pgw_[A-Za-z0-9_\-]{8,}")
BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# Every number MOBILE masks holds 1, 3 to 9 and nine more digits; every one LANDLINE masks,
# 0 and nine more. One cheap scan for either spares a line without one their two costlier
# passes. A bare run of ten digits would be sound too, but the access line's hex request ids
# hold one about every tenth line, and a client name with a Unix time in it on every line.
PHONE_LIKE = re.compile(r"1[3-9]\d{9}|0\d{9}")
# One encoder for every line: json.dumps with options builds a new one per call.
ENCODE_JSON = json.JSONEncoder(ensure_ascii=False, default=str).encode
EXTRA_FIELDS = (
    "request_id",
    "client",
    "method",
    "route",
    "status",
    "latency_ms",
    "upstream_action",
    "upstream_code",
    "upstream_request_id",
)


class Scrubber:
    """Masks phone numbers (138****8000) and removes known secrets from a log line."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self.secrets = tuple(s for s in secrets if s)

    def __call__(self, line: str) -> str:
        for secret in self.secrets:
            line = line.replace(secret, "[redacted]")
        if "bearer" in line.lower():
            line = BEARER.sub(r"\1[redacted]", line)
        line = TOKEN.sub("pgw_[redacted]", line)
        if not PHONE_LIKE.search(line):
            return line
        line = MOBILE.sub(r"\1****\2", line)
        return LANDLINE.sub(r"\1****\2", line)


def _extras(record: logging.LogRecord) -> dict[str, object]:
    """The EXTRA_FIELDS a record carries. `extra=` puts them in the record's own dict, so
    they are read there: `hasattr` and `getattr` cost two calls a field, nine fields a line."""
    fields = record.__dict__
    return {name: fields[name] for name in EXTRA_FIELDS if name in fields}


class JsonFormatter(logging.Formatter):
    """`ts` is RFC 3339 in UTC to the millisecond, as datetime's isoformat writes it, made
    from the record's `created` and `msecs`: an aware datetime per line cost more. Lines
    come many to a second, so the second's text is kept and made anew when it changes."""

    def __init__(self, scrub: Scrubber) -> None:
        super().__init__()
        self.scrub = scrub
        self._second: tuple[int, str] = (-1, "")

    def _timestamp(self, record: logging.LogRecord) -> str:
        second, text = self._second
        if int(record.created) != second:
            second = int(record.created)
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, text)
        return f"{text}.{int(record.msecs):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self._timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self.scrub(ENCODE_JSON(entry))


class TextFormatter(logging.Formatter):
    def __init__(self, scrub: Scrubber) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self.scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        return self.scrub(f"{super().format(record)} {extras}".rstrip())


def configure_logging(
    level: int, fmt: str, secrets: tuple[str, ...], stream: TextIO | None = None
) -> None:
    """Route every logger through one scrubbing handler (stderr unless told otherwise)."""
    scrub = Scrubber(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(scrub) if fmt == "json" else TextFormatter(scrub))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_gateway", False):
            root.removeHandler(old)
    handler._gateway = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
