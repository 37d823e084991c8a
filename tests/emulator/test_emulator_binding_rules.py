"""Alibaba's business rules, one per test. Refusals are HTTP 200 with `Code != "OK"`."""

import pytest

from emulator.bindings import AXB_PAIRS_PER_X
from emulator.rules import MIN_LEAD_S

POOL = "FC200000000000001"
OTHER_POOL = "FC200000000000002"
X1, X2, X3 = "17100000001", "17100000002", "17100000003"
A, B, C, D = "13800000001", "13900000002", "13700000003", "13600000004"


def pool(key: str, *numbers: str, locked: tuple[str, ...] = (), city: str = "杭州") -> dict:
    """A pool in the pools-file format; `number@city` puts one number in another city."""
    entries = []
    for spec in numbers:
        number, _, number_city = spec.partition("@")
        entries.append({"number": number, "city": number_city or city, "locked": number in locked})
    return {"key": key, "numbers": entries}


def binding_of(answer: dict) -> tuple[str, str]:
    assert answer["Code"] == "OK", answer
    return answer["SecretBindDTO"]["SubsId"], answer["SecretBindDTO"]["SecretNo"]


def test_expect_city_is_preferred_when_it_has_a_free_number(emulator_with_pools):
    dypls = emulator_with_pools(pool(POOL, X1, f"{X2}@北京", X3))

    _, x = binding_of(dypls.bind_axb(PoolKey=POOL, PhoneNoA=A, PhoneNoB=B, ExpectCity="北京"))

    assert x == X2


def test_another_city_is_used_when_the_expected_one_is_full(emulator_with_pools):
    dypls = emulator_with_pools(pool(POOL, X1, f"{X2}@北京"))
    dypls.bind_axn(PoolKey=POOL, PhoneNoA=C, PhoneNoX=X2)

    _, x = binding_of(dypls.bind_axb(PoolKey=POOL, PhoneNoA=A, PhoneNoB=B, ExpectCity="北京"))

    assert x == X1


def test_a_pinned_x_outside_the_pool_is_a_forbidden_action(emulator_with_pools):
    dypls = emulator_with_pools(pool(POOL, X1))

    answer = dypls.bind_axb(PoolKey=POOL, PhoneNoA=A, PhoneNoB=B, PhoneNoX=X2)

    assert answer["Code"] == "isv.FORBIDDEN_ACTION"


@pytest.mark.parametrize(
    ("second_a", "second_b"),
    [(A, C), (C, B), (B, C), (C, A)],
    ids=["A as A", "B as B", "B as A", "A as B"],
)
def test_a_number_already_on_a_pinned_x_is_a_bind_conflict(emulator_with_pools, second_a, second_b):
    dypls = emulator_with_pools(pool(POOL, X1, X2))
    binding_of(dypls.bind_axb(PoolKey=POOL, PhoneNoA=A, PhoneNoB=B, PhoneNoX=X1))

    answer = dypls.bind_axb(PoolKey=POOL, PhoneNoA=second_a, PhoneNoB=second_b, PhoneNoX=X1)

    assert answer["Code"] == "isv.BIND_CONFLICT"


def test_auto_selection_skips_conflicting_x_until_none_is_left(emulator_with_pools):
    dypls = emulator_with_pools(pool(POOL, X1, X2))
    binding_of(dypls.bind_axb(PoolKey=POOL, PhoneNoA=A, PhoneNoB=B, PhoneNoX=X1))

    assert binding_of(dypls.bind_axb(PoolKey=POOL, PhoneNoA=A, PhoneNoB=C))[1] == X2
    assert dypls.bind_axb(PoolKey=POOL, PhoneNoA=A, PhoneNoB=D)["Code"] == "isv.NO_AVAILABLE_NUMBER"


def test_locked_numbers_are_never_auto_selected_but_may_be_pinned(emulator_with_pools):
    dypls = emulator_with_pools(pool(POOL, X1, X2, locked=(X1,)))

    picked = {
        binding_of(dypls.bind_axb(PoolKey=POOL, PhoneNoA=a, PhoneNoB=b))[1]
        for a, b in [(A, B), (C, D)]
    }

    assert picked == {X2}
    assert binding_of(dypls.bind_axb(PoolKey=POOL, PhoneNoA=A, PhoneNoB=B, PhoneNoX=X1))[1] == X1


def test_one_x_carries_at_most_200_pairs(emulator_with_pools):
    dypls = emulator_with_pools(pool(POOL, X1))
    for i in range(AXB_PAIRS_PER_X):
        binding_of(dypls.bind_axb(PoolKey=POOL, PhoneNoA=f"138{i:08d}", PhoneNoB=f"139{i:08d}"))

    answer = dypls.bind_axb(PoolKey=POOL, PhoneNoA=A, PhoneNoB=C)

    assert answer["Code"] == "isv.NO_AVAILABLE_NUMBER"


def test_an_axn_binding_holds_its_x_alone(emulator_with_pools):
    dypls = emulator_with_pools(pool(POOL, X1))
    binding_of(dypls.bind_axn(PoolKey=POOL, PhoneNoA=A))

    assert dypls.bind_axn(PoolKey=POOL, PhoneNoA=C)["Code"] == "isv.NO_AVAILABLE_NUMBER"
    assert dypls.bind_axb(PoolKey=POOL, PhoneNoA=C, PhoneNoB=D)["Code"] == "isv.NO_AVAILABLE_NUMBER"
    assert dypls.bind_axb(PoolKey=POOL, PhoneNoA=C, PhoneNoB=D, PhoneNoX=X1)["Code"] == (
        "isv.BIND_CONFLICT"
    )


def test_an_axn_binding_needs_an_x_nobody_uses(emulator_with_pools):
    dypls = emulator_with_pools(pool(POOL, X1))
    binding_of(dypls.bind_axb(PoolKey=POOL, PhoneNoA=A, PhoneNoB=B))

    assert dypls.bind_axn(PoolKey=POOL, PhoneNoA=C)["Code"] == "isv.NO_AVAILABLE_NUMBER"


def test_a_and_b_must_be_different_numbers(dypls):
    assert dypls.bind_axb(PhoneNoA=A, PhoneNoB=A)["Code"] == "isv.ILLEGAL_ARGUMENT"


def test_bind_axb_without_b_is_an_invalid_parameter(dypls):
    assert dypls.bind_axb(PhoneNoA=A)["Code"] == "isv.INVALID_PARAMETERS"


@pytest.mark.parametrize(
    "number",
    [
        "+8613800000001",
        "8613800000001",
        "1380000000",
        "138000000012",
        "23800000001",
        "0571-88992688",
        "05718899",
        "1380000000a",
    ],
)
def test_a_malformed_phone_number_is_illegal(dypls, number):
    assert dypls.bind_axb(PhoneNoA=number, PhoneNoB=B)["Code"] == "isv.MOBILE_NUMBER_ILLEGAL"
    assert dypls.bind_axb(PhoneNoA=A, PhoneNoB=number)["Code"] == "isv.MOBILE_NUMBER_ILLEGAL"


def test_a_landline_with_area_code_is_a_valid_party(dypls):
    assert dypls.bind_axb(PhoneNoA="057188992688", PhoneNoB="01088992688")["Code"] == "OK"


@pytest.mark.parametrize(
    "expiration", ["2030-01-02T12:00:00", "2030-01-02 12:00", "2030-13-02 12:00:00", "tomorrow"]
)
def test_an_expiration_in_another_format_is_illegal(dypls, expiration):
    assert dypls.bind_axb(PhoneNoA=A, PhoneNoB=B, Expiration=expiration)["Code"] == (
        "isv.EXPIRE_DATE_ILLEGAL"
    )


def test_an_expiration_not_more_than_a_minute_ahead_in_china_time_is_illegal(dypls):
    too_soon = dypls.bind_axb(PhoneNoA=A, PhoneNoB=B, Expiration=dypls.expiration(MIN_LEAD_S))
    just_enough = dypls.bind_axb(
        PhoneNoA=A, PhoneNoB=B, Expiration=dypls.expiration(MIN_LEAD_S + 5)
    )

    assert too_soon["Code"] == "isv.EXPIRE_DATE_ILLEGAL"
    assert just_enough["Code"] == "OK"


def test_an_unknown_pool_key_does_not_exist(dypls):
    assert dypls.bind_axb(PoolKey="FC999999999999999", PhoneNoA=A, PhoneNoB=B)["Code"] == (
        "isv.POOLKEY_NOT_EXISTS"
    )


def test_unbinding_needs_subs_id_x_and_pool_to_match(emulator_with_pools):
    dypls = emulator_with_pools(pool(POOL, X1, X2), pool(OTHER_POOL, X3))
    subs_id, x = binding_of(dypls.bind_axb(PoolKey=POOL, PhoneNoA=A, PhoneNoB=B, PhoneNoX=X1))

    unknown = dypls.unbind(PoolKey=POOL, SubsId="1000000000000001", SecretNo=x)
    other_x = dypls.unbind(PoolKey=POOL, SubsId=subs_id, SecretNo=X2)
    other_pool = dypls.unbind(PoolKey=OTHER_POOL, SubsId=subs_id, SecretNo=x)

    assert [unknown["Code"], other_x["Code"], other_pool["Code"]] == ["isv.SUBS_NOT_EXIST"] * 3
    assert dypls.unbind(PoolKey=POOL, SubsId=subs_id, SecretNo=x)["Code"] == "OK"


@pytest.mark.parametrize(
    ("operation", "field", "taken"),
    [("updateNoB", "PhoneNoB", C), ("updateNoA", "PhoneNoA", D), ("updateNoA", "PhoneNoA", B)],
    ids=["B to another pair's A", "A to another pair's B", "A to its own B"],
)
def test_an_update_that_would_repeat_a_number_on_x_conflicts(dypls, operation, field, taken):
    subs_id, x = binding_of(dypls.bind_axb(PhoneNoA=A, PhoneNoB=B))
    binding_of(dypls.bind_axb(PhoneNoA=C, PhoneNoB=D, PhoneNoX=x))

    answer = dypls.update(SubsId=subs_id, PhoneNoX=x, OperateType=operation, **{field: taken})

    assert answer["Code"] == "isv.UPDATE_CONFLICT"


def test_an_update_to_a_malformed_number_is_illegal(dypls):
    subs_id, x = binding_of(dypls.bind_axb(PhoneNoA=A, PhoneNoB=B))

    answer = dypls.update(SubsId=subs_id, PhoneNoX=x, OperateType="updateNoB", PhoneNoB="12345")

    assert answer["Code"] == "isv.MOBILE_NUMBER_ILLEGAL"


def test_extending_to_less_than_a_minute_ahead_is_illegal(dypls):
    subs_id, x = binding_of(dypls.bind_axb(PhoneNoA=A, PhoneNoB=B))

    answer = dypls.update(
        SubsId=subs_id, PhoneNoX=x, OperateType="updateExpire", Expiration=dypls.expiration(30)
    )

    assert answer["Code"] == "isv.EXPIRE_DATE_ILLEGAL"


def test_query_subs_id_of_a_number_outside_the_pool_does_not_exist(dypls):
    assert dypls.subs_id(PhoneNoX="17999999999")["Code"] == "isv.NO_NOT_EXIST"
