"""Phone numbers: what a caller may send, and what the gateway hands to Alibaba."""

import random

import pytest
from marshmallow import ValidationError

from app.schemas.fields import national_digits, normalise_phone


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("13800138000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("010 6552 9988", "01065529988"),
        ("+86 571 8702 2088", "057187022088"),
    ],
)
def test_mainland_numbers_are_kept_as_alibaba_wants_them(sent, kept):
    assert normalise_phone(sent) == kept


@pytest.mark.parametrize(
    "sent",
    [
        "12345",  # too short for any number
        "10012345678",  # mobile-shaped, but no such prefix
        "12012345678",
        "+14155550100",  # not mainland China
        "+85291234567",  # Hong Kong has its own plan
        "phone",
    ],
)
def test_anything_else_is_refused(sent):
    with pytest.raises(ValidationError):
        normalise_phone(sent)


def _outcome(normalise, sent: str) -> str:
    try:
        return normalise(sent)
    except ValidationError:
        return "refused"


def test_the_eleven_digit_shortcut_answers_as_libphonenumbers_whole_way_for_every_prefix():
    """Every five-digit prefix from 10000 to 19999, each with three random endings: the
    carrier prefixes parsing strips, landlines, unallocated ranges, mobiles."""
    endings = random.Random(8)
    for prefix in range(10000, 20000):
        for _ in range(3):
            sent = f"{prefix}{endings.randrange(10**6):06d}"
            assert _outcome(normalise_phone, sent) == _outcome(national_digits, sent), sent
