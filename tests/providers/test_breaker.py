"""The circuit breaker's rules, on a clock the test moves."""

from app.providers.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_consecutive_failures_open_it_and_a_success_resets_the_count():
    breaker = CircuitBreaker(threshold=3, cooldown_s=10, clock=Clock())
    for healthy in (False, False, True, False, False):
        breaker.record(healthy)
    assert breaker.state == CLOSED and breaker.wait_s() is None

    breaker.record(False)
    assert breaker.state == OPEN
    assert breaker.wait_s() == 10


def test_after_the_cooldown_one_probe_decides():
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown_s=10, clock=clock)
    breaker.record(False)

    clock.now = 10.5
    assert breaker.state == HALF_OPEN
    assert breaker.wait_s() is None  # the probe
    assert breaker.wait_s() is not None  # everyone else still waits
    breaker.record(False)
    assert breaker.state == OPEN

    clock.now = 21
    assert breaker.wait_s() is None
    breaker.record(True)
    assert breaker.state == CLOSED
