"""Upstream failures on demand, through the control API, as the SDK experiences them."""

import time

import pytest
import requests
from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException

from tests.emulator.dypls_client import Dypls

A, B = "13800000001", "13900000002"


@pytest.fixture
def inject(emulator):
    def add(**fault: object) -> dict:
        answer = requests.post(f"{emulator.url}/__emulator/faults", json=fault, timeout=5)
        assert answer.status_code == 201, answer.text
        return answer.json()

    return add


def calls(emulator, action: str | None = None) -> list[dict]:
    params = {"action": action} if action else {}
    return requests.get(f"{emulator.url}/__emulator/calls", params=params, timeout=5).json()


def test_an_injected_business_code_comes_back_as_http_200_and_binds_nothing(
    dypls, inject, emulator
):
    inject(action="BindAxb", code="isp.SYSTEM_ERROR", message="system busy")

    answer = dypls.bind_axb(PhoneNoA=A, PhoneNoB=B)

    assert (answer["Code"], answer["Message"]) == ("isp.SYSTEM_ERROR", "system busy")
    assert calls(emulator, "BindAxb")[-1]["code"] == "isp.SYSTEM_ERROR"
    assert dypls.bind_axb(PhoneNoA=A, PhoneNoB=B)["Code"] == "OK"


def test_an_injected_http_status_is_raised_as_server_exception(dypls, inject):
    inject(action="QuerySecretNoRemain", code="ServiceUnavailable", http_status=503)

    with pytest.raises(ServerException) as caught:
        dypls.remain(SpecId=1, City="杭州")

    assert (caught.value.get_http_status(), caught.value.get_error_code()) == (
        503,
        "ServiceUnavailable",
    )


def test_a_fault_counts_down_and_then_calls_succeed_again(dypls, inject, emulator):
    inject(action="*", code="isv.FLOW_LIMIT", count=2)

    codes = [dypls.remain(SpecId=1, City="杭州")["Code"] for _ in range(3)]

    assert codes == ["isv.FLOW_LIMIT", "isv.FLOW_LIMIT", "OK"]
    assert requests.get(f"{emulator.url}/__emulator/faults", timeout=5).json() == []


def test_a_fault_for_one_action_leaves_the_others_alone(dypls, inject):
    inject(action="UnbindSubscription", code="isp.SYSTEM_ERROR")

    assert dypls.remain(SpecId=1, City="杭州")["Code"] == "OK"


def test_a_stall_delays_the_answer_and_then_applies_the_call(dypls, inject):
    inject(action="BindAxb", stall_ms=300)

    started = time.monotonic()
    answer = dypls.bind_axb(PhoneNoA=A, PhoneNoB=B)

    assert time.monotonic() - started >= 0.3
    x = answer["SecretBindDTO"]["SecretNo"]
    assert dypls.subs_id(PhoneNoX=x)["SubsId"] == answer["SecretBindDTO"]["SubsId"]


def test_a_stall_longer_than_the_read_timeout_is_an_sdk_http_error(emulator, clock, inject):
    impatient = Dypls(emulator.port, clock, timeout=1)
    inject(action="QuerySecretNoRemain", stall_ms=1500)

    with pytest.raises(ClientException) as caught:
        impatient.remain(SpecId=1, City="杭州")

    assert caught.value.get_error_code() == "SDK.HttpError"


def test_a_dropped_connection_is_an_sdk_http_error_and_binds_nothing(dypls, inject, emulator):
    inject(action="BindAxb", drop=True)

    with pytest.raises(ClientException) as caught:
        dypls.bind_axb(PhoneNoA=A, PhoneNoB=B, PhoneNoX="17005710001")

    assert caught.value.get_error_code() == "SDK.HttpError"
    assert calls(emulator, "BindAxb")[-1]["status"] is None
    assert dypls.subs_id(PhoneNoX="17005710001")["SubsId"] == ""


def test_a_fault_with_a_probability_hits_about_that_share_of_calls(dypls, inject):
    inject(action="QuerySecretNoRemain", code="isp.SYSTEM_ERROR", probability=0.5)

    codes = [dypls.remain(SpecId=1, City="杭州")["Code"] for _ in range(200)]

    assert 60 <= codes.count("isp.SYSTEM_ERROR") <= 140


def test_faults_are_listed_and_cleared(emulator, inject):
    fault = inject(action="BindAxb", drop=True, probability=0.2)
    faults_url = f"{emulator.url}/__emulator/faults"

    assert requests.get(faults_url, timeout=5).json() == [fault]
    assert requests.delete(faults_url, timeout=5).json() == {"cleared": 1}
    assert requests.get(faults_url, timeout=5).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"code": "isp.SYSTEM_ERROR"},
        {"action": "BindAxb"},
        {"action": "BindAxb", "drop": "yes"},
        {"action": "BindAxb", "http_status": 503},
        {"action": "*", "stall_ms": 5, "typo": 1},
        {"action": "BindAxc", "drop": True},
    ],
    ids=[
        "no action",
        "no effect",
        "drop not boolean",
        "status without code",
        "unknown field",
        "unknown action",
    ],
)
def test_a_malformed_fault_is_refused(emulator, body):
    answer = requests.post(f"{emulator.url}/__emulator/faults", json=body, timeout=5)

    assert answer.status_code == 400
    assert answer.json()["error"]


def test_calls_received_are_recorded_without_their_signature(dypls, emulator):
    dypls.remain(SpecId=1, City="杭州")

    recorded = calls(emulator)[-1]

    assert (recorded["action"], recorded["status"], recorded["code"]) == (
        "QuerySecretNoRemain",
        200,
        "OK",
    )
    assert recorded["params"]["City"] == "杭州" and "Signature" not in recorded["params"]
    assert recorded["at"].endswith("Z")


def test_reset_forgets_bindings_calls_and_faults(dypls, emulator, inject):
    x = dypls.bind_axb(PhoneNoA=A, PhoneNoB=B)["SecretBindDTO"]["SecretNo"]
    inject(action="UnbindSubscription", code="isp.SYSTEM_ERROR")

    requests.post(f"{emulator.url}/__emulator/reset", timeout=5).raise_for_status()

    assert requests.get(f"{emulator.url}/__emulator/faults", timeout=5).json() == []
    assert calls(emulator) == []
    assert dypls.subs_id(PhoneNoX=x)["SubsId"] == ""
