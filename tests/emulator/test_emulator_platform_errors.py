"""Errors of Alibaba's API gateway: HTTP 4xx, raised by the SDK as ServerException.

Each test is a caller getting something wrong and the SDK telling them what Alibaba would.
"""

import time

import aliyunsdkcore.utils.parameter_helper as sdk_helper
import pytest
import requests
from aliyunsdkcore.acs_exception.exceptions import ServerException

from emulator import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET
from emulator.pop import REPLAY_WINDOW_S
from emulator.protocol import signed_query, string_to_sign
from tests.emulator.dypls_client import OTHER_ACCESS_KEY_ID, OTHER_ACCESS_KEY_SECRET, Dypls


def raised_by(call) -> ServerException:
    with pytest.raises(ServerException) as caught:
        call()
    return caught.value


def test_a_wrong_secret_is_reported_by_the_sdk_as_invalid_access_key_secret(emulator, clock):
    wrong_secret = Dypls(emulator.port, clock, SANDBOX_ACCESS_KEY_ID, "not-the-secret")

    error = raised_by(lambda: wrong_secret.remain(SpecId=1, City="杭州"))

    assert error.get_http_status() == 400
    assert error.get_error_code() == "InvalidAccessKeySecret"
    assert error.get_request_id()


def test_a_tampered_call_gets_signature_does_not_match_with_the_server_string_to_sign(emulator):
    """A signature wrong for another reason than the secret keeps Alibaba's own code."""
    params = {
        "Action": "QuerySecretNoRemain",
        "Version": "2017-05-25",
        "AccessKeyId": SANDBOX_ACCESS_KEY_ID,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureType": "",
        "SignatureNonce": "0123456789abcdef0123456789abcdef",
        "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "SpecId": "1",
        "City": "杭州",
    }
    signed = signed_query("POST", params, SANDBOX_ACCESS_KEY_SECRET)

    answer = requests.post(f"{emulator.url}/?{signed.replace('SpecId=1', 'SpecId=2')}", timeout=5)

    assert answer.status_code == 400
    assert answer.json()["Code"] == "SignatureDoesNotMatch"
    server_text = answer.json()["Message"].split(":", 1)[1]
    assert server_text == string_to_sign("POST", {**params, "SpecId": "2"})


def test_an_unknown_access_key_id_is_not_found(emulator, clock):
    stranger = Dypls(emulator.port, clock, "nobody-knows-me", "secret")

    error = raised_by(lambda: stranger.remain(SpecId=1, City="杭州"))

    assert (error.get_http_status(), error.get_error_code()) == (404, "InvalidAccessKeyId.NotFound")


def test_every_configured_key_pair_is_accepted(emulator, clock):
    second = Dypls(emulator.port, clock, OTHER_ACCESS_KEY_ID, OTHER_ACCESS_KEY_SECRET)

    assert second.remain(SpecId=1, City="杭州")["Code"] == "OK"


def test_a_caller_whose_clock_is_16_minutes_off_gets_timestamp_expired(dypls, clock):
    clock.advance(REPLAY_WINDOW_S + 60)

    error = raised_by(lambda: dypls.remain(SpecId=1, City="杭州"))

    assert (error.get_http_status(), error.get_error_code()) == (400, "InvalidTimeStamp.Expired")


def test_a_timestamp_in_another_format_is_refused(dypls, monkeypatch):
    monkeypatch.setattr(sdk_helper, "get_iso_8061_date", lambda: "2025/01/02 03:04:05")

    error = raised_by(lambda: dypls.remain(SpecId=1, City="杭州"))

    assert (error.get_http_status(), error.get_error_code()) == (400, "InvalidTimeStamp.Format")


def test_replaying_a_nonce_is_refused(dypls, monkeypatch):
    monkeypatch.setattr(sdk_helper, "get_uuid", lambda: "0123456789abcdef0123456789abcdef")
    assert dypls.remain(SpecId=1, City="杭州")["Code"] == "OK"

    error = raised_by(lambda: dypls.remain(SpecId=1, City="杭州"))

    assert (error.get_http_status(), error.get_error_code()) == (400, "SignatureNonceUsed")


def test_a_parameter_the_gateway_requires_is_mandatory(dypls):
    error = raised_by(lambda: dypls.bind_axb(PhoneNoB="13900000002"))

    assert error.get_http_status() == 400
    assert error.get_error_code() == "MissingPhoneNoA"
    assert error.get_error_msg() == "PhoneNoA is mandatory for this action."


def test_an_action_dyplsapi_does_not_have_is_not_found(dypls):
    error = raised_by(lambda: dypls.common("BindAxyz", PoolKey="FC100000000000001"))

    assert (error.get_http_status(), error.get_error_code()) == (404, "InvalidApi.NotFound")


def test_platform_errors_carry_alibabas_envelope(emulator):
    answer = requests.get(emulator.url + "/?Action=BindAxb", timeout=5)

    assert answer.status_code == 400
    assert set(answer.json()) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert answer.json()["Code"] == "MissingVersion"
    assert answer.headers["x-acs-request-id"] == answer.json()["RequestId"]
