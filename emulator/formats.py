"""Text formats Alibaba accepts: phone numbers, China-time dates, the UTC signature timestamp."""

import re
from datetime import UTC, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
CHINA_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

_MOBILE = re.compile(r"1\d{10}")
_LANDLINE = re.compile(r"0\d{9,11}")
_CHINA_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_UTC_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d{1,3})?Z")


def is_phone_number(value: str) -> bool:
    """Mainland mobile (11 digits from 1) or landline with its 0-led area code, digits only."""
    return bool(_MOBILE.fullmatch(value) or _LANDLINE.fullmatch(value))


def parse_china_time(text: str) -> float | None:
    """`yyyy-MM-dd HH:mm:ss` read as Beijing time; None when it is not exactly that."""
    return _timestamp(text, CHINA_TZ) if _CHINA_TIME.fullmatch(text) else None


def format_china_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, CHINA_TZ).strftime(CHINA_TIME_FORMAT)


def parse_utc_timestamp(text: str) -> float | None:
    """The signature `Timestamp` (`YYYY-MM-DDThh:mm:ssZ`); None when it is not that format."""
    match = _UTC_TIMESTAMP.fullmatch(text)
    return _timestamp(match.group(1), UTC) if match else None


def _timestamp(text: str, zone: timezone) -> float | None:
    """Epoch seconds of an ISO-like local time already matched by a regex; None if impossible."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()
    except ValueError:
        return None


def format_utc(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def parse_bool(text: str) -> bool | None:
    """The SDK sends Python's `str(True)`; other clients send `true`. None for anything else."""
    return {"true": True, "false": False}.get(text.lower())
