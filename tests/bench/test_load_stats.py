"""The load benchmark's window: a request that never answers must show, not vanish."""

import pytest

from bench.load_stats import BenchFailed, Tally, require_few_errors


def a_window_of_ten_seconds() -> Tally:
    tally = Tally(start=100.0, end=110.0)
    for i in range(49):
        tally.record(sent=101.0 + i * 0.05, done=101.02 + i * 0.05, due=None, outcome="OK", ok=True)
    return tally


def test_a_request_in_flight_at_the_end_counts_with_its_wait_so_far():
    tally = a_window_of_ten_seconds()
    tally.sending(key=1, sent=108.0)

    tally.close_window()
    summary = tally.summary()

    assert summary["requests"] == 49
    assert summary["unanswered_at_end"] == 1
    assert summary["p99_ms"] == pytest.approx(2000.0)
    require_few_errors("gateway", summary)


def test_a_stall_too_rare_for_p99_still_shows_as_the_longest_wait():
    tally = Tally(start=100.0, end=110.0)
    for i in range(199):
        tally.record(
            sent=101.0 + i * 0.04, done=101.005 + i * 0.04, due=None, outcome="OK", ok=True
        )
    tally.record(sent=109.0, done=109.3, due=None, outcome="OK", ok=True)

    summary = tally.summary()

    assert summary["p99_ms"] == pytest.approx(5.0)
    assert summary["max_ms"] == pytest.approx(300.0)


def test_a_request_answered_in_time_leaves_nothing_behind():
    tally = a_window_of_ten_seconds()
    tally.sending(key=1, sent=108.0)
    tally.answered(key=1)

    tally.close_window()

    assert tally.summary()["unanswered_at_end"] == 0


def test_a_request_waiting_through_the_whole_window_fails_the_run():
    tally = a_window_of_ten_seconds()
    tally.sending(key=7, sent=99.0)  # its connection was never accepted, say

    tally.close_window()
    summary = tally.summary()

    assert summary["stalled_through_window"] == 1
    with pytest.raises(BenchFailed, match="whole window"):
        require_few_errors("gateway", summary)
