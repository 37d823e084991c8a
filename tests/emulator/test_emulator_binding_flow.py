"""A ride from start to end, the way the gateway drives it: bind, look, change, find, release."""

import pytest
import requests

from emulator import DEFAULT_POOL_KEY
from emulator.pools import DEFAULT_CITIES, NUMBERS_PER_CITY

PASSENGER = "13800000001"
DRIVER = "13900000002"
NEW_DRIVER = "13900000003"
NEW_PASSENGER = "13800000004"


def test_a_ride_binds_queries_updates_finds_and_unbinds(dypls):
    bound = dypls.bind_axb(PhoneNoA=PASSENGER, PhoneNoB=DRIVER, ExpectCity="北京", OutId="ride-1")
    assert bound["Code"] == "OK"
    subs_id, x = bound["SecretBindDTO"]["SubsId"], bound["SecretBindDTO"]["SecretNo"]
    assert subs_id.isdigit() and len(subs_id) == 16
    assert bound["RequestId"].isupper()

    detail = dypls.detail(SubsId=subs_id, PhoneNoX=x)["SecretBindDetailDTO"]
    assert (detail["PhoneNoA"], detail["PhoneNoB"], detail["PhoneNoX"]) == (PASSENGER, DRIVER, x)
    assert detail["Status"] == 1 and detail["NeedRecord"] is False
    assert "CallRestrict" not in detail

    later = dypls.expiration(3600)
    for operation, change in [
        ("updateNoA", {"PhoneNoA": NEW_PASSENGER}),
        ("updateNoB", {"PhoneNoB": NEW_DRIVER}),
        ("updateExpire", {"Expiration": later}),
        ("updateCallRestrict", {"CallRestrict": "CONTROL_BX_DISABLE"}),
    ]:
        answer = dypls.update(SubsId=subs_id, PhoneNoX=x, OperateType=operation, **change)
        assert answer["Code"] == "OK", operation

    detail = dypls.detail(SubsId=subs_id, PhoneNoX=x)["SecretBindDetailDTO"]
    assert (detail["PhoneNoA"], detail["PhoneNoB"]) == (NEW_PASSENGER, NEW_DRIVER)
    assert detail["ExpireDate"] == later
    assert detail["CallRestrict"] == "CONTROL_BX_DISABLE"

    assert dypls.subs_id(PhoneNoX=x)["SubsId"] == subs_id

    unbound = dypls.unbind(SubsId=subs_id, SecretNo=x)
    assert unbound["Code"] == "OK" and unbound["ChargeId"] == "true"
    assert dypls.unbind(SubsId=subs_id, SecretNo=x)["Code"] == "isv.SUBS_NOT_EXIST"
    assert dypls.subs_id(PhoneNoX=x)["SubsId"] == ""


def test_clearing_the_call_restriction_removes_it_from_the_detail(dypls):
    bound = dypls.bind_axb(PhoneNoA=PASSENGER, PhoneNoB=DRIVER, CallRestrict="CONTROL_AX_DISABLE")
    subs_id, x = bound["SecretBindDTO"]["SubsId"], bound["SecretBindDTO"]["SecretNo"]
    assert dypls.detail(SubsId=subs_id, PhoneNoX=x)["SecretBindDetailDTO"]["CallRestrict"] == (
        "CONTROL_AX_DISABLE"
    )

    cleared = dypls.update(
        SubsId=subs_id,
        PhoneNoX=x,
        OperateType="updateCallRestrict",
        CallRestrict="CONTROL_CLEAR_DISABLE",
    )

    assert cleared["Code"] == "OK"
    assert "CallRestrict" not in dypls.detail(SubsId=subs_id, PhoneNoX=x)["SecretBindDetailDTO"]


def test_recording_flag_and_out_id_can_be_updated(dypls):
    bound = dypls.bind_axb(PhoneNoA=PASSENGER, PhoneNoB=DRIVER, IsRecordingEnabled=True)
    subs_id, x = bound["SecretBindDTO"]["SubsId"], bound["SecretBindDTO"]["SecretNo"]
    assert dypls.detail(SubsId=subs_id, PhoneNoX=x)["SecretBindDetailDTO"]["NeedRecord"] is True

    switched_off = dypls.update(
        SubsId=subs_id, PhoneNoX=x, OperateType="updateIsRecordingEnabled", IsRecordingEnabled=False
    )
    renamed = dypls.update(SubsId=subs_id, PhoneNoX=x, OperateType="updateOutId", OutId="ride-2")

    assert (switched_off["Code"], renamed["Code"]) == ("OK", "OK")
    assert dypls.detail(SubsId=subs_id, PhoneNoX=x)["SecretBindDetailDTO"]["NeedRecord"] is False


def test_an_unsupported_operate_type_is_an_invalid_parameter(dypls):
    bound = dypls.bind_axb(PhoneNoA=PASSENGER, PhoneNoB=DRIVER)
    subs_id, x = bound["SecretBindDTO"]["SubsId"], bound["SecretBindDTO"]["SecretNo"]

    answer = dypls.update(SubsId=subs_id, PhoneNoX=x, OperateType="updateAxgGroup", GroupId=1)

    assert answer["Code"] == "isv.INVALID_PARAMETERS"


def test_an_update_without_its_new_value_is_an_invalid_parameter(dypls):
    bound = dypls.bind_axb(PhoneNoA=PASSENGER, PhoneNoB=DRIVER)
    subs_id, x = bound["SecretBindDTO"]["SubsId"], bound["SecretBindDTO"]["SecretNo"]

    answer = dypls.update(SubsId=subs_id, PhoneNoX=x, OperateType="updateNoB")

    assert answer["Code"] == "isv.INVALID_PARAMETERS"


def test_before_dialling_the_caller_learns_to_dial_x(dypls):
    bound = dypls.bind_axb(PhoneNoA=PASSENGER, PhoneNoB=DRIVER)
    subs_id, x = bound["SecretBindDTO"]["SubsId"], bound["SecretBindDTO"]["SecretNo"]

    status = dypls.call_status(SubsId=subs_id, CallNo=PASSENGER)

    assert status["Code"] == "OK"
    assert status["SecretCallStatusDTO"] == {"Status": 1, "CalledNo": x}


@pytest.mark.parametrize(
    ("advice", "expected"),
    [
        ({"status": 2, "called_no": "17099999999"}, {"Status": 2, "CalledNo": "17099999999"}),
        ({"status": 3}, {"Status": 3, "CalledNo": None}),
    ],
)
def test_an_abnormal_number_changes_the_dial_advice(dypls, emulator, advice, expected):
    bound = dypls.bind_axb(PhoneNoA=PASSENGER, PhoneNoB=DRIVER)
    subs_id = bound["SecretBindDTO"]["SubsId"]
    control = requests.post(
        f"{emulator.url}/__emulator/call-status", json={"subs_id": subs_id, **advice}, timeout=5
    )
    assert control.status_code == 200

    status = dypls.call_status(SubsId=subs_id, CallNo=PASSENGER)

    assert status["SecretCallStatusDTO"] == expected


def test_a_temporary_x_advice_needs_the_number(emulator):
    answer = requests.post(
        f"{emulator.url}/__emulator/call-status", json={"subs_id": "1", "status": 2}, timeout=5
    )
    assert answer.status_code == 400


def test_call_status_for_a_malformed_caller_number_is_illegal(dypls):
    subs_id = dypls.bind_axb(PhoneNoA=PASSENGER, PhoneNoB=DRIVER)["SecretBindDTO"]["SubsId"]

    assert (
        dypls.call_status(SubsId=subs_id, CallNo="+86 138")["Code"] == "isv.MOBILE_NUMBER_ILLEGAL"
    )


def test_call_status_of_an_unknown_binding_does_not_exist(dypls):
    assert dypls.call_status(SubsId="1000000000000001")["Code"] == "isv.SUBS_NOT_EXIST"


def test_an_axn_binding_leaves_b_out_of_the_detail_until_one_is_set(dypls):
    bound = dypls.bind_axn(PhoneNoA=PASSENGER)
    subs_id, x = bound["SecretBindDTO"]["SubsId"], bound["SecretBindDTO"]["SecretNo"]
    assert "PhoneNoB" not in dypls.detail(SubsId=subs_id, PhoneNoX=x)["SecretBindDetailDTO"]

    dypls.update(SubsId=subs_id, PhoneNoX=x, OperateType="updateNoB", PhoneNoB=DRIVER)

    assert dypls.detail(SubsId=subs_id, PhoneNoX=x)["SecretBindDetailDTO"]["PhoneNoB"] == DRIVER


def test_several_pairs_on_one_x_are_listed_comma_separated_in_binding_order(dypls):
    first = dypls.bind_axb(PhoneNoA=PASSENGER, PhoneNoB=DRIVER)["SecretBindDTO"]
    x = first["SecretNo"]
    second = dypls.bind_axb(PhoneNoA=NEW_PASSENGER, PhoneNoB=NEW_DRIVER, PhoneNoX=x)

    listed = dypls.subs_id(PhoneNoX=x)["SubsId"]

    assert listed == f"{first['SubsId']},{second['SecretBindDTO']['SubsId']}"


def test_the_default_pool_spreads_over_several_cities(dypls):
    assert len(DEFAULT_CITIES) >= 5 and len(DEFAULT_CITIES) * NUMBERS_PER_CITY >= 200
    for city in DEFAULT_CITIES:
        bound = dypls.bind_axb(
            PoolKey=DEFAULT_POOL_KEY, PhoneNoA=PASSENGER, PhoneNoB=DRIVER, ExpectCity=city
        )
        assert bound["SecretBindDTO"]["SecretNo"][3:7] == DEFAULT_CITIES[city]


def test_purchasable_stock_per_city_nationally_and_as_a_list(dypls):
    city = dypls.remain(SpecId=1, City="杭州")["SecretRemainDTO"]
    national = dypls.remain(SpecId=1, City="全国")["SecretRemainDTO"]
    listed = dypls.remain(SpecId=1, City="全国列表")["SecretRemainDTO"]

    assert city["City"] == "杭州" and city["Amount"] > 0
    assert city["RemainDTOList"] == {"remainDTO": []}
    assert national["Amount"] == sum(
        entry["Amount"] for entry in listed["RemainDTOList"]["remainDTO"]
    )
    assert {"Amount": city["Amount"], "City": "杭州"} in listed["RemainDTOList"]["remainDTO"]


def test_an_unknown_spec_id_is_an_invalid_parameter(dypls):
    assert dypls.remain(SpecId=9, City="杭州")["Code"] == "isv.INVALID_PARAMETERS"
