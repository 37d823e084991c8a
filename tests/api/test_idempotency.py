"""The backend retries on every timeout; an Idempotency-Key makes the retry harmless."""

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import axb, rows


def post(caller, key, **overrides):
    return caller.post("/v1/bindings", json=axb(**overrides), headers={"Idempotency-Key": key})


def test_a_retry_gets_the_first_answer_without_a_second_bind(rides, emulator, gateway):
    first = post(rides, "trip-42")
    again = post(rides, "trip-42")

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(emulator.calls("BindAxb")) == 1
    assert len(rows(gateway, "SELECT id FROM bindings")) == 1
    events = rows(gateway, "SELECT DISTINCT idempotency_key FROM binding_events")
    assert [e.idempotency_key for e in events] == ["trip-42"]


def test_key_order_and_spacing_do_not_make_a_different_body(rides, emulator):
    first = post(rides, "k1")
    body = '{"ttl_seconds": 3600, "phone_b": "13900000002", "phone_a": "13800000001", "pool_key": "FC100000000000001", "type": "AXB"}'
    again = rides.post(
        "/v1/bindings",
        data=body,
        content_type="application/json",
        headers={"Idempotency-Key": "k1"},
    )

    assert again.get_json() == first.get_json()
    assert len(emulator.calls("BindAxb")) == 1


def test_the_same_key_with_another_body_is_refused(rides, emulator):
    post(rides, "trip-43")

    answer = post(rides, "trip-43", phone_b="13900000009")

    assert answer.status_code == 422
    assert answer.get_json()["code"] == "idempotency_key_reused"
    assert len(emulator.calls("BindAxb")) == 1


def test_keys_belong_to_one_client(rides, make_caller, emulator):
    scooters = make_caller("scooters")

    assert post(rides, "shared").status_code == 201
    assert post(scooters, "shared", phone_a="13800000005").status_code == 201
    assert len(emulator.calls("BindAxb")) == 2


def test_a_failed_answer_is_replayed_too(rides, emulator):
    emulator.fault(action="BindAxb", code="isv.NO_AVAILABLE_NUMBER", count=1)

    first = post(rides, "trip-44")
    again = post(rides, "trip-44")

    assert first.status_code == again.status_code == 409
    assert again.get_json() == first.get_json()
    assert again.content_type == "application/problem+json"
    assert len(emulator.calls("BindAxb")) == 1


def test_a_body_that_fails_validation_does_not_claim_the_key(rides):
    assert post(rides, "trip-45", phone_a="nope").status_code == 422
    assert post(rides, "trip-45").status_code == 201


def test_concurrent_duplicates_bind_once(rides, emulator):
    emulator.fault(action="BindAxb", stall_ms=300, count=1)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post(rides, "burst"), range(8)))

    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    in_progress = [a.get_json() for a in answers if a.status_code == 409]
    assert all(p["code"] == "idempotency_in_progress" for p in in_progress)
    assert len(emulator.wait_for_calls("BindAxb", 1)) == 1


def test_delete_honours_the_key(rides, emulator):
    binding = rides.bind()
    path = f"/v1/bindings/{binding['id']}"

    first = rides.delete(path, headers={"Idempotency-Key": "end-42"})
    again = rides.delete(path, headers={"Idempotency-Key": "end-42"})

    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(emulator.calls("UnbindSubscription")) == 1


def test_an_overlong_key_is_refused_naming_the_header(rides):
    answer = post(rides, "k" * 256)

    assert answer.status_code == 422
    assert "Idempotency-Key" in answer.get_json()["errors"]
