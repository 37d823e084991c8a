"""Operators read the logs; phone numbers, AccessKeys and tokens must not be in them."""

import io
import json
import logging
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.logs import LANDLINE, MOBILE, Scrubber, configure_logging
from emulator import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET
from tests.conftest import axb


@pytest.fixture
def log_at(gateway):
    """The gateway's own log handler at a level, writing into a buffer instead of stderr."""
    settings = gateway.config["GATEWAY_SETTINGS"]
    secrets = (settings.access_key_id, settings.access_key_secret)

    def configure(level: int, fmt: str = "json") -> io.StringIO:
        buffer = io.StringIO()
        configure_logging(level, fmt, secrets, stream=buffer)
        return buffer

    yield configure
    configure_logging(settings.log_level, settings.log_format, secrets)


@pytest.fixture
def log_output(log_at):
    return log_at(logging.INFO)


def test_a_day_of_traffic_leaks_no_secret_token_or_phone(rides, emulator, log_output):
    binding = rides.bind()
    emulator.fault(
        action="UnbindSubscription",
        code="SignatureDoesNotMatch",
        http_status=400,
        message="sts is:POST&AccessKeyId%3Dsandbox-access-key-id",
        count=1,
    )
    rides.delete(f"/v1/bindings/{binding['id']}")
    rides.post("/v1/bindings", data="{", content_type="application/json")
    logging.getLogger("app").error("caller %s used Bearer %s", "13800000001", rides.token)

    output = log_output.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert any(line.get("route") == "/v1/bindings" and line.get("status") == 201 for line in lines)
    for secret in (SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET, rides.token, "13800000001"):
        assert secret not in output
    assert "138****0001" in output


def test_the_access_line_names_the_client_and_the_request(rides, log_output):
    before = datetime.now(UTC).replace(microsecond=0)
    rides.post("/v1/bindings", json=axb(), headers={"X-Request-ID": "req-1"})

    (line,) = [json.loads(x) for x in log_output.getvalue().splitlines() if '"gateway.access"' in x]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["ts"])
    assert before <= datetime.fromisoformat(line["ts"]) <= datetime.now(UTC)
    assert line["request_id"] == "req-1"
    assert line["client"] == "rides"
    assert line["status"] == 201
    assert line["latency_ms"] > 0


def test_the_text_format_names_the_same_fields(rides, log_at):
    buffer = log_at(logging.INFO, "text")

    rides.post("/v1/bindings", json=axb(), headers={"X-Request-ID": "req-13800138000"})

    (line,) = [x for x in buffer.getvalue().splitlines() if " gateway.access " in x]
    assert " INFO gateway.access request request_id=req-138****8000 client=rides " in line
    assert " method=POST route=/v1/bindings status=201 latency_ms=" in line
    assert re.search(r" upstream_action=BindAxb upstream_code=OK upstream_request_id=\S+$", line)


def test_each_line_carries_the_time_of_its_own_record(log_output):
    """The formatter keeps a second's text for the lines that follow within it."""
    log = logging.getLogger("app")
    times = (1764331199.75, 1764331199.875, 1764331200.0, 1764331200.5, 1764331199.25)
    for created in times:
        record = log.makeRecord(log.name, logging.INFO, "", 0, "tick", (), None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        log.handle(record)

    stamps = [json.loads(line)["ts"] for line in log_output.getvalue().splitlines()]
    assert stamps == [
        "2025-11-28T11:59:59.750+00:00",
        "2025-11-28T11:59:59.875+00:00",
        "2025-11-28T12:00:00.000+00:00",
        "2025-11-28T12:00:00.500+00:00",
        "2025-11-28T11:59:59.250+00:00",
    ]
    assert [datetime.fromisoformat(stamp).timestamp() for stamp in stamps] == pytest.approx(times)


def test_above_info_a_request_leaves_no_access_line(rides, log_at):
    output = log_at(logging.WARNING)

    rides.post("/v1/bindings", json=axb())

    assert output.getvalue() == ""


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("A=13800138000 B=+8613900139000", "A=138****8000 B=139****9000"),
        ("landline 057188992688", "landline 0571****2688"),
        (
            "subs 1000000768393849 request 9297B722A01643FB",
            "subs 1000000768393849 request 9297B722A01643FB",
        ),
        ("token pgw_abcdefghijklmnopqrstuvwxyz", "token pgw_[redacted]"),
        ("AUTHORIZATION: BEARER abc.def", "AUTHORIZATION: BEARER [redacted]"),
        ("key s3cret in 0571 8899 2688", "key [redacted] in 0571 8899 2688"),
        ("no numbers here, latency 9.813", "no numbers here, latency 9.813"),
    ],
)
def test_scrubber(line, expected):
    assert Scrubber(("s3cret",))(line) == expected


# Digit runs of every length a number can have, beside the prefixes and neighbours that
# decide whether MOBILE or LANDLINE masks them.
NUMBERISH = st.lists(
    st.one_of(
        st.text(alphabet="0123456789", min_size=1, max_size=13),
        st.sampled_from(["+86", "86", "0", "1", " ", "-", "x", "+", '"']),
    ),
    max_size=8,
).map("".join)


@settings(derandomize=True, max_examples=500)
@given(NUMBERISH)
def test_the_scrubbers_shortcut_never_spares_a_number(text):
    """A line the cheap scan finds nothing phone-like in skips the phone passes: never one
    they would mask."""
    masked_always = LANDLINE.sub(r"\1****\2", MOBILE.sub(r"\1****\2", text))
    assert Scrubber()(text) == masked_always
