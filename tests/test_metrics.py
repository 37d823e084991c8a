"""/metrics as Prometheus scrapes it: latency by route and by Alibaba action and code,
bindings by type and client, the circuit and the pools — and nothing personal.

The registry is the process's own and outlives each test, so counts are compared
before and after rather than read as absolutes.
"""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from emulator import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET
from tests.conftest import axb


def scrape(http) -> dict[tuple[str, frozenset], float]:
    answer = http.get("/metrics")
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    families = text_string_to_metric_families(answer.get_data(as_text=True))
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in families
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_a_bind_shows_in_the_route_and_upstream_histograms(rides, http):
    before = scrape(http)
    rides.bind()
    after = scrape(http)

    upstream = {"action": "BindAxb", "code": "OK"}
    route = {"route": "/v1/bindings", "method": "POST", "status": "201"}
    for name, labels in (
        ("gateway_upstream_call_duration_seconds_count", upstream),
        ("gateway_http_request_duration_seconds_count", route),
        ("gateway_bindings_created_total", {"type": "AXB", "client": "rides"}),
    ):
        assert value(after, name, **labels) == value(before, name, **labels) + 1, name
    assert value(after, "gateway_upstream_call_duration_seconds_sum", **upstream) > value(
        before, "gateway_upstream_call_duration_seconds_sum", **upstream
    )


def test_alibaba_error_codes_are_labels(rides, http, emulator):
    emulator.fault(action="BindAxb", code="isv.NO_AVAILABLE_NUMBER")
    before = scrape(http)

    assert rides.post("/v1/bindings", json=axb()).status_code == 409

    labels = {"action": "BindAxb", "code": "isv.NO_AVAILABLE_NUMBER"}
    after = scrape(http)
    name = "gateway_upstream_call_duration_seconds_count"
    assert value(after, name, **labels) == value(before, name, **labels) + 1


def test_routes_are_templates_not_paths(rides, http):
    binding = rides.bind()
    before = scrape(http)

    assert rides.delete(f"/v1/bindings/{binding['id']}").status_code == 200
    rides.get("/no/such/page")

    after = scrape(http)
    route = {"route": "/v1/bindings/<uuid:binding_id>", "method": "DELETE", "status": "200"}
    histogram = "gateway_http_request_duration_seconds_count"
    assert value(after, histogram, **route) == value(before, histogram, **route) + 1
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert value(after, histogram, **unmatched) == value(before, histogram, **unmatched) + 1
    unbound = {"type": "AXB", "client": "rides"}
    assert value(after, "gateway_bindings_unbound_total", **unbound) == (
        value(before, "gateway_bindings_unbound_total", **unbound) + 1
    )


def test_no_phone_number_id_or_secret_reaches_a_label(rides, http):
    binding = rides.bind(out_id="trip-77")
    rides.get(f"/v1/bindings/{binding['id']}")
    text = http.get("/metrics").get_data(as_text=True)

    for private in (
        binding["phone_a"],
        binding["phone_b"],
        binding["phone_x"],
        binding["id"],
        "trip-77",
        rides.token,
        SANDBOX_ACCESS_KEY_ID,
        SANDBOX_ACCESS_KEY_SECRET,
    ):
        assert private not in text


@pytest.mark.parametrize("failures, state", [(0, "closed"), (5, "open")])
def test_the_circuit_state_is_sampled_at_scrape_time(gateway, http, failures, state):
    breaker = gateway.extensions["dypls"].breaker
    for _ in range(failures):
        breaker.record(healthy=False)

    samples = scrape(http)

    for name in ("closed", "open", "half_open"):
        assert value(samples, "gateway_circuit_breaker_state", state=name) == (name == state)


def test_database_pool_gauges(gateway, http):
    samples = scrape(http)

    settings = gateway.config["GATEWAY_SETTINGS"]
    assert value(samples, "gateway_db_pool_size", database="main") == settings.db_pool_size
    assert value(samples, "gateway_db_pool_size", database="statements") == (
        settings.db_statement_pool_size
    )
    # The scrape itself holds no connection while the gauges are read.
    assert value(samples, "gateway_db_pool_checked_out", database="main") == 0
    assert value(samples, "gateway_db_pool_checked_out", database="statements") == 0


def test_a_write_in_progress_shows_as_a_statement_connection_in_use(gateway, http):
    with gateway.extensions["statements"].cursor():
        samples = scrape(http)

    assert value(samples, "gateway_db_pool_checked_out", database="statements") == 1
