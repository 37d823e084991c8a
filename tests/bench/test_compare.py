"""Comparing two gateways round by round: a drifting machine must not pick the winner."""

import sys

import pytest

from bench.compare import compare, paired, parse_args, round_line


def test_a_change_that_wins_every_round_wins_though_the_machine_slowed_in_between():
    # The machine loses a third of its speed over the run; b is 5 % cheaper in each round.
    a_cpu = [2.0, 2.4, 2.8, 3.0]
    b_cpu = [round(x * 0.95, 3) for x in a_cpu]

    verdict = paired(a_cpu, b_cpu, higher_is_better=False)

    assert verdict["ratio"] == pytest.approx(0.95)
    assert verdict["b_better"] == 4
    assert verdict["rounds"] == 4


def test_higher_throughput_counts_as_better_and_lower_cpu_too():
    rounds = {
        "a": [{"rps": 400.0, "cpu_ms_per_req": 3.0}, {"rps": 300.0, "cpu_ms_per_req": 4.0}],
        "b": [{"rps": 420.0, "cpu_ms_per_req": 2.9}, {"rps": 290.0, "cpu_ms_per_req": 4.1}],
    }

    summary = compare(rounds)

    assert summary["rps"]["b_better"] == 1
    assert summary["rps"]["ratio"] == pytest.approx((420 / 400 + 290 / 300) / 2, abs=1e-3)
    assert summary["cpu_ms_per_req"]["b_better"] == 1


def test_a_round_without_database_cpu_is_left_out_not_counted_as_zero():
    verdict = paired([1.0, None, 1.2], [0.9, 0.8, None], higher_is_better=False)

    assert verdict["rounds"] == 1
    assert verdict["ratio"] == pytest.approx(0.9)


def test_each_round_shows_how_the_clients_spread_over_the_workers():
    numbers = {"rps": 350.0, "cpu_ms_per_req": 2.5, "p99_ms": 120.4, "other_load_cores": 0.0}

    line = round_line("a", {**numbers, "worker_connections": [23, 9]})

    assert line == "a 350.0 req/s 2.500 ms/req p99 120 ms, clients per worker 23/9"


def test_a_side_must_be_a_source_tree(tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--a-tree", str(tmp_path)])

    assert "holds no gunicorn.conf.py" in capsys.readouterr().err


def test_gateway_variables_are_given_per_side():
    args = parse_args(["--b-env", "GUNICORN_WORKERS=4", "--b-env", "GUNICORN_THREADS=16"])

    assert dict(args.a_env) == {}
    assert dict(args.b_env) == {"GUNICORN_WORKERS": "4", "GUNICORN_THREADS": "16"}


def test_each_side_runs_this_interpreter_unless_given_its_own(tmp_path):
    other = tmp_path / "python"
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)

    args = parse_args(["--b-python", str(other)])

    assert args.a_python == sys.executable
    assert args.b_python == str(other)


def test_a_side_interpreter_must_be_an_executable_file(tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--b-python", str(tmp_path / "python")])

    assert "is not an executable interpreter" in capsys.readouterr().err
