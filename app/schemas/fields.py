"""Fields shared by every resource: phone numbers and times, validated the contract's way."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from marshmallow import ValidationError, fields

# libphonenumber compiles its metadata patterns through re's own cache, which holds 512; with
# Flask's, the SDK's and the log scrubber's beside them it overflowed, and every request
# recompiled some (1.5 % of the gateway's own instructions). Its own cache keeps them.
phonenumbers.enable_pattern_cache()

PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
MAX_PHONE_LENGTH = 20
ELEVEN_DIGITS_FROM_ONE = re.compile(r"1[0-9]{10}")


def normalise_phone(value: str) -> str:
    """Mainland number as Alibaba wants it: digits only, no +86, landlines with their 0 area code.

    A mobile sent as its eleven digits, the usual case, is already that form: libphonenumber
    only has to say it is a mobile, without parsing and formatting it, which were nine
    tenths of its cost (tests/schemas/test_fields.py holds the shortcut to the full path)."""
    if ELEVEN_DIGITS_FROM_ONE.fullmatch(value) and _is_mobile(int(value)):
        return value
    return national_digits(value)


def _is_mobile(national_number: int) -> bool:
    number = phonenumbers.PhoneNumber(country_code=86, national_number=national_number)
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


def national_digits(value: str) -> str:
    """libphonenumber's whole way: parse, check region and type, format, keep the digits."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("Not a phone number.") from exc
    # number_type is UNKNOWN for an invalid number, so it answers is_valid_number too.
    if (
        phonenumbers.region_code_for_number(number) != "CN"
        or phonenumbers.number_type(number) not in PHONE_TYPES
    ):
        raise ValidationError("Not a valid mainland China mobile or landline number.")
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


class Phone(fields.String):
    """Accepts 13800138000, +8613800138000 or 8613800138000; loads as 13800138000."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("example", "13800138000")
        # All the spec can say: whether it is a real mainland number is libphonenumber's call.
        metadata.setdefault("minLength", 1)
        metadata.setdefault("maxLength", MAX_PHONE_LENGTH)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > MAX_PHONE_LENGTH:
            raise ValidationError("Not a phone number.")
        return normalise_phone(text.strip())


class Timestamp(fields.AwareDateTime):
    """RFC 3339 with an offset on input (a naive time is refused); UTC with Z on output."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("example", "2026-01-02T03:04:05Z")
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any):
        if value is None:
            return None
        return as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything the gateway stores is UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
