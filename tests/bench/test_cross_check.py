"""The wrk cross-check reads wrk's report into the numbers bench.loadgen gives."""

import pytest

from bench.cross_check import parse_wrk
from bench.load_stats import BenchFailed

REPORT = """Running 20s test @ http://127.0.0.1:41235
  32 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    81.20ms   40.11ms 312.40ms   71.02%
    Req/Sec    11.02      4.01    30.00     66.10%
  Latency Distribution
     50%   {p50}
     75%  101.33ms
     90%  130.02ms
     99%   {p99}
  6546 requests in 20.01s, 4.12MB read
{extra}Requests/sec:    327.14
Transfer/sec:    210.80KB
unexpected statuses: {unexpected}
"""


def a_report(p50="69.63ms", p99="1.20s", extra="", unexpected=0) -> str:
    return REPORT.format(p50=p50, p99=p99, extra=extra, unexpected=unexpected)


def test_a_clean_run_gives_rate_percentiles_in_milliseconds_and_no_errors():
    assert parse_wrk(a_report()) == {
        "rps": 327.14,
        "p50_ms": 69.63,
        "p99_ms": 1200.0,
        "errors": 0,
        "requests": 6546,
    }


def test_microseconds_are_converted_too():
    assert parse_wrk(a_report(p50="850.00us"))["p50_ms"] == pytest.approx(0.85)


def test_failed_answers_count_once_and_socket_errors_beside_them():
    extra = "  Socket errors: connect 0, read 2, write 0, timeout 1\n"
    extra += "  Non-2xx or 3xx responses: 4\n"

    assert parse_wrk(a_report(extra=extra, unexpected=5))["errors"] == 5 + 3


def test_a_report_without_its_percentiles_fails_the_run_instead_of_reporting_zero():
    with pytest.raises(BenchFailed):
        parse_wrk("Running 20s test @ http://127.0.0.1:41235\nRequests/sec:    327.14\n")
