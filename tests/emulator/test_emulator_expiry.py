"""What a binding looks like once its expiration has passed (the test clock jumps ahead)."""

import pytest
import requests

A, B = "13800000001", "13900000002"
LIFETIME_S = 120


@pytest.fixture
def expired(dypls, clock) -> tuple[str, str]:
    """A binding made two minutes ahead, then two minutes and a second later."""
    bound = dypls.bind_axb(PhoneNoA=A, PhoneNoB=B, Expiration=dypls.expiration(LIFETIME_S))
    clock.advance(LIFETIME_S + 1)
    return bound["SecretBindDTO"]["SubsId"], bound["SecretBindDTO"]["SecretNo"]


def test_an_expired_binding_is_still_reported_with_status_0(dypls, expired):
    subs_id, x = expired

    detail = dypls.detail(SubsId=subs_id, PhoneNoX=x)

    assert detail["Code"] == "OK"
    assert detail["SecretBindDetailDTO"]["Status"] == 0


def test_call_status_of_an_expired_binding_is_4(dypls, expired):
    subs_id, x = expired

    assert dypls.call_status(SubsId=subs_id)["SecretCallStatusDTO"] == {"Status": 4, "CalledNo": x}


def test_an_expired_binding_can_no_longer_be_updated(dypls, expired):
    subs_id, x = expired

    answer = dypls.update(
        SubsId=subs_id, PhoneNoX=x, OperateType="updateExpire", Expiration=dypls.expiration(600)
    )

    assert answer["Code"] == "isv.FORBIDDEN_ACTION"


def test_an_expired_binding_cannot_be_unbound(dypls, expired):
    subs_id, x = expired

    assert dypls.unbind(SubsId=subs_id, SecretNo=x)["Code"] == "isv.SUBS_NOT_EXIST"


def test_an_expired_binding_frees_its_pair_on_x_and_leaves_query_subs_id(dypls, expired):
    _, x = expired

    assert dypls.subs_id(PhoneNoX=x)["SubsId"] == ""
    assert dypls.bind_axb(PhoneNoA=A, PhoneNoB=B, PhoneNoX=x)["Code"] == "OK"


def test_extending_a_binding_keeps_it_alive_past_its_first_expiration(dypls, clock):
    bound = dypls.bind_axb(PhoneNoA=A, PhoneNoB=B, Expiration=dypls.expiration(LIFETIME_S))
    subs_id, x = bound["SecretBindDTO"]["SubsId"], bound["SecretBindDTO"]["SecretNo"]
    dypls.update(
        SubsId=subs_id, PhoneNoX=x, OperateType="updateExpire", Expiration=dypls.expiration(600)
    )

    clock.advance(LIFETIME_S + 1)

    assert dypls.detail(SubsId=subs_id, PhoneNoX=x)["SecretBindDetailDTO"]["Status"] == 1
    assert dypls.subs_id(PhoneNoX=x)["SubsId"] == subs_id


def test_shortening_a_binding_frees_x_at_the_new_time(dypls, clock):
    bound = dypls.bind_axb(PhoneNoA=A, PhoneNoB=B, Expiration=dypls.expiration(3600))
    subs_id, x = bound["SecretBindDTO"]["SubsId"], bound["SecretBindDTO"]["SecretNo"]
    dypls.update(
        SubsId=subs_id,
        PhoneNoX=x,
        OperateType="updateExpire",
        Expiration=dypls.expiration(LIFETIME_S),
    )

    clock.advance(LIFETIME_S + 1)

    assert dypls.subs_id(PhoneNoX=x)["SubsId"] == ""


def test_the_control_api_moves_binding_time_but_not_signature_time(dypls, emulator):
    bound = dypls.bind_axb(PhoneNoA=A, PhoneNoB=B, Expiration=dypls.expiration(LIFETIME_S))
    subs_id, x = bound["SecretBindDTO"]["SubsId"], bound["SecretBindDTO"]["SecretNo"]

    moved = requests.post(f"{emulator.url}/__emulator/clock", json={"advance_s": 3600}, timeout=5)

    assert moved.json()["offset_s"] == 3600
    assert dypls.detail(SubsId=subs_id, PhoneNoX=x)["SecretBindDetailDTO"]["Status"] == 0


def test_reset_brings_binding_time_back(emulator):
    requests.post(f"{emulator.url}/__emulator/clock", json={"advance_s": 60}, timeout=5)

    requests.post(f"{emulator.url}/__emulator/reset", timeout=5)

    assert requests.get(f"{emulator.url}/__emulator/clock", timeout=5).json()["offset_s"] == 0


@pytest.mark.parametrize("body", [{"advance_s": -5}, {"advance_s": "1h"}, {}, None])
def test_time_only_moves_forward_by_a_number_of_seconds(emulator, body):
    answer = requests.post(f"{emulator.url}/__emulator/clock", json=body, timeout=5)

    assert answer.status_code == 400
