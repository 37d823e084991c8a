"""Phone numbers: what a caller may send, and what the gateway hands to Alibaba."""

import pytest
from marshmallow import ValidationError

from app.schemas.fields import normalise_phone


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
