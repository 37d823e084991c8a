"""The wire format beyond what the SDK's request classes use: GET, and parameters in a form body.

`CommonRequest` can send both, signed as usual, so the emulator must accept both as Alibaba does.
"""


def test_a_get_request_is_served_like_a_post(dypls):
    answer = dypls.common("QuerySecretNoRemain", method="GET", SpecId="1", City="杭州")

    assert answer["Code"] == "OK"
    assert answer["SecretRemainDTO"]["City"] == "杭州"


def test_parameters_in_a_form_body_are_read_and_signed(dypls):
    answer = dypls.common("QuerySecretNoRemain", form={"SpecId": "1", "City": "上海"})

    assert answer["Code"] == "OK"
    assert answer["SecretRemainDTO"]["City"] == "上海"


def test_a_bind_can_mix_query_and_form_parameters(dypls):
    answer = dypls.common(
        "BindAxn",
        form={"PhoneNoA": "13800000001", "Expiration": dypls.expiration(600)},
        PoolKey="FC100000000000001",
    )

    assert answer["Code"] == "OK"
