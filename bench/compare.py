"""`python -m bench.compare`: which of two gateways costs less, measured side by side.

On this shared 2-core machine the speed drifts from minute to minute: two `bench.load` runs of
one tree differ by ±10–15 %, more than most single changes save. So this starts both gateways
at once, `a` and `b`, each on its own fresh database, against one emulator, and alternates
short closed-loop windows between them (a b, then b a, ...): the two windows of a round see
nearly the same machine. It prints each round, then each side's medians and the median of the
per-round ratios b ÷ a with the number of rounds b won; a change is real when the ratio holds
and b wins most rounds. The last stdout line is JSON.

A side is a source tree (`--a-tree`, `--b-tree`; default this checkout; a `git worktree` of
main, say, run with this checkout's virtualenv), gateway variables (`--a-env`, `--b-env`,
NAME=VALUE, repeatable, as `bench.load --gateway-env` takes them) and the interpreter that
runs its gunicorn (`--a-python`, `--b-python`; default this one; another virtualenv's
`bin/python` with the same requirements, to weigh one CPython build against another).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

from bench.load import OTHER_LOAD_WARNING_CORES, environment_setting, run_main
from bench.load_gateway import closed_loop
from bench.load_stack import ROOT, Stack, fresh_database, start_emulator, start_gateway
from bench.load_stats import require_few_errors
from emulator import DEFAULT_POOL_KEY

SIDES = ("a", "b")
# What each round records, and whether b is better when its number is higher.
MEASURES = {
    "rps": True,
    "cpu_ms_per_req": False,
    "db_cpu_ms_per_req": False,
    "context_switches_per_req": False,
    "p50_ms": False,
    "p99_ms": False,
}
KEPT = (*MEASURES, "other_load_cores")


def paired(a: list[float | None], b: list[float | None], higher_is_better: bool) -> dict:
    """Each side's median over the rounds, the median of b ÷ a round by round, and in how
    many rounds b did better. A round where either side has no number (or a's is 0, which
    nothing divides by) is left out."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x and y is not None]
    if not pairs:
        return {"a": None, "b": None, "ratio": None, "b_better": 0, "rounds": 0}
    wins = sum(1 for x, y in pairs if (y > x if higher_is_better else y < x))
    return {
        "a": round(statistics.median(x for x, _ in pairs), 3),
        "b": round(statistics.median(y for _, y in pairs), 3),
        "ratio": round(statistics.median(y / x for x, y in pairs), 3),
        "b_better": wins,
        "rounds": len(pairs),
    }


def compare(rounds: dict[str, list[dict]]) -> dict[str, dict]:
    return {
        measure: paired(
            [r.get(measure) for r in rounds["a"]],
            [r.get(measure) for r in rounds["b"]],
            higher_is_better,
        )
        for measure, higher_is_better in MEASURES.items()
    }


def _start_sides(stack: ExitStack, args: argparse.Namespace) -> dict[str, Stack]:
    emulator = start_emulator(stack, args.latency_ms)
    started = {}
    for side in SIDES:
        root = getattr(args, f"{side}_tree")
        overrides = dict(getattr(args, f"{side}_env"))
        database = stack.enter_context(fresh_database(side))
        python = getattr(args, f"{side}_python")
        gateway = start_gateway(
            stack, database, emulator, overrides, root, f"gateway-{side}", python
        )
        started[side] = Stack(emulator, gateway)
        print(f"{side}: {root} {python} {overrides or ''} on :{gateway.port}", flush=True)
    return started


def run(args: argparse.Namespace) -> dict:
    rounds: dict[str, list[dict]] = {side: [] for side in SIDES}
    with ExitStack() as stack:
        sides = _start_sides(stack, args)
        for number in range(1, args.rounds + 1):
            order = SIDES if number % 2 else SIDES[::-1]
            for side in order:
                result = closed_loop(
                    sides[side], DEFAULT_POOL_KEY, args.concurrency, args.warmup, args.window
                )
                require_few_errors(f"{side}, round {number}", result)
                numbers = {key: result[key] for key in KEPT}
                numbers["worker_connections"] = [w["connections"] for w in result["workers"]]
                rounds[side].append(numbers)
            print(
                f"round {number}: "
                + "  ".join(round_line(side, rounds[side][-1]) for side in SIDES)
            )
    summary = compare(rounds)
    print(_verdict(summary), flush=True)
    return {"summary": summary, "rounds": rounds, "settings": _settings(args)}


def round_line(side: str, numbers: dict) -> str:
    """One side's round, with how its clients spread over the workers; flagged when other
    processes took CPU during its window (the round still counts: the pairing is there to
    absorb such drift)."""
    line = f"{side} {numbers['rps']:.1f} req/s {numbers['cpu_ms_per_req']:.3f} ms/req"
    line += f" p99 {numbers['p99_ms']:.0f} ms, clients per worker "
    line += "/".join(str(count) for count in numbers["worker_connections"])
    if numbers["other_load_cores"] > OTHER_LOAD_WARNING_CORES:
        line += f" (other processes: {numbers['other_load_cores']:.2f} cores)"
    return line


def _verdict(summary: dict[str, dict]) -> str:
    parts = []
    for measure, numbers in summary.items():
        if numbers["ratio"] is not None:
            parts.append(
                f"{measure} ×{numbers['ratio']:.3f}"
                f" (b better in {numbers['b_better']} of {numbers['rounds']})"
            )
    return "b ÷ a: " + ", ".join(parts)


def _settings(args: argparse.Namespace) -> dict:
    return {
        "concurrency": args.concurrency,
        "latency_ms": args.latency_ms,
        "window_s": args.window,
        "warmup_s": args.warmup,
        **{f"{side}_tree": str(getattr(args, f"{side}_tree")) for side in SIDES},
        **{f"{side}_env": dict(getattr(args, f"{side}_env")) for side in SIDES},
        **{f"{side}_python": getattr(args, f"{side}_python") for side in SIDES},
    }


def _tree(text: str) -> Path:
    path = Path(text).resolve()
    if not (path / "gunicorn.conf.py").is_file():
        raise argparse.ArgumentTypeError(f"{path} holds no gunicorn.conf.py")
    return path


def _python(text: str) -> str:
    path = Path(text)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise argparse.ArgumentTypeError(f"{path} is not an executable interpreter")
    return str(path)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    for side in SIDES:
        parser.add_argument(f"--{side}-tree", type=_tree, default=ROOT, metavar="PATH")
        parser.add_argument(
            f"--{side}-env",
            action="append",
            default=[],
            type=environment_setting,
            metavar="NAME=VALUE",
        )
        parser.add_argument(f"--{side}-python", type=_python, default=sys.executable)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--window", type=float, default=6, help="seconds measured per window")
    parser.add_argument("--warmup", type=float, default=2, help="seconds before each window")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.window <= 0 or args.warmup < 0 or args.concurrency < 1:
        parser.error("rounds, window and concurrency must be positive, warmup not negative")
    return args


def main() -> int:
    return run_main(run, parse_args(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
