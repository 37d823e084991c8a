"""Events travel to PostgreSQL as JSON: times and ids as the history shows them, nothing
else guessed at."""

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.services import history


def test_times_and_ids_are_written_as_the_history_shows_them():
    moment = datetime(2026, 11, 28, 13, 0, 5, 120000, tzinfo=UTC)
    binding_id = uuid.UUID("0193f0a2-7c1e-7d2a-9b3c-4d5e6f708192")
    event = {"occurred_at": moment, "binding_id": binding_id, "latency_ms": 12.5, "params": None}

    assert json.loads(history.encode_json([event])) == [
        {
            "occurred_at": "2026-11-28T13:00:05.120000+00:00",
            "binding_id": "0193f0a2-7c1e-7d2a-9b3c-4d5e6f708192",
            "latency_ms": 12.5,
            "params": None,
        }
    ]
    assert json.loads(history.encode_json(moment)) == history.jsonable(moment)


def test_a_value_the_history_has_no_text_for_is_refused():
    with pytest.raises(TypeError, match="Decimal is not JSON serializable"):
        history.encode_json({"amount": Decimal("1.5")})
