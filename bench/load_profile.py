"""`--profile`: py-spy on every gunicorn worker during the gateway phase, and what it found.

Sampling keeps only the thread that holds the GIL (`--gil`), so samples approximate the CPU
spent in Python per step of the request path; a step's share of the samples times the measured
gateway CPU per request estimates its milliseconds. py-spy reads the workers' memory without
stopping them (`--nonblocking`), but its own CPU competes on a small machine: take throughput
from a run without `--profile`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.load_stack import OUT
from bench.load_stats import BenchFailed

SAMPLES_PER_S = 200
TOP_FUNCTIONS = 25
Stack = tuple[str, ...]


@dataclass(frozen=True)
class Profile:
    raw: Path
    flamegraph: Path
    sampler_pids: tuple[int, ...]


def _py_spy() -> str:
    beside_python = Path(sys.executable).with_name("py-spy")
    found = str(beside_python) if beside_python.exists() else shutil.which("py-spy")
    if not found:
        raise BenchFailed("--profile needs py-spy: .venv/bin/pip install py-spy")
    return found


@contextmanager
def sampling(master: int, seconds: float) -> Iterator[Profile]:
    """Raw stacks and a flame graph of gunicorn's master and all its workers, for `seconds`."""
    raw, flamegraph = OUT / "profile-stacks.txt", OUT / "profile.svg"
    record = [_py_spy(), "record", "--pid", str(master), "--subprocesses", "--gil"]
    record += ["--nonblocking", "--rate", str(SAMPLES_PER_S), "--duration", str(int(seconds) + 1)]
    samplers = [
        subprocess.Popen(
            [*record, "--format", kind, "-o", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for kind, path in (("raw", raw), ("flamegraph", flamegraph))
    ]
    try:
        yield Profile(raw, flamegraph, tuple(sampler.pid for sampler in samplers))
        for sampler in samplers:
            sampler.wait(timeout=60)
    finally:
        for sampler in samplers:
            if sampler.poll() is None:
                sampler.kill()
                sampler.wait()


def _frame_name(frame: str) -> str:
    """`Schema.load (marshmallow/schema.py:722)` → `Schema.load (marshmallow/schema.py)`."""
    name, _, where = frame.rpartition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if name else frame


def read_stacks(path: Path) -> Counter[Stack]:
    """py-spy's raw format: `frame;frame;… count` per record, root first. A frame name can
    hold a newline (source text of some functions), so a record ends at a trailing count."""
    stacks: Counter[Stack] = Counter()
    record = ""
    for line in path.read_text().splitlines():
        record += line
        frames, _, count = record.rpartition(" ")
        if frames and count.isdigit():
            stacks[tuple(_frame_name(f) for f in frames.split(";"))] += int(count)
            record = ""
    return stacks


Predicate = Callable[[Stack], bool]


def _in(function: str, filename: str) -> Predicate:
    """Stacks passing through `function` of a file whose path ends with `filename` (py-spy
    shortens some paths, so app files are matched by their tail)."""
    head, tail = f"{function} (", f"{filename})"
    return lambda stack: any(f.startswith(head) and f.endswith(tail) for f in stack)


def _package(name: str) -> Predicate:
    return lambda stack: any(f"({name}/" in frame for frame in stack)


def _any(*predicates: Predicate) -> Predicate:
    return lambda stack: any(p(stack) for p in predicates)


def _but_not(predicate: Predicate, *excluded: Predicate) -> Predicate:
    return lambda stack: predicate(stack) and not any(e(stack) for e in excluded)


IN_FLASK = _in("Flask.__call__", "flask/app.py")
IN_VIEW = _in("View.as_view.<locals>.view", "flask/views.py")
CREATE = _in("create", "services/bindings.py")
UNBIND = _in("unbind", "services/bindings.py")
FINISH = _in("_finish", "services/bindings.py")
RECORD = _in("_record", "services/bindings.py")
SDK = _in("AliyunProvider._call", "aliyun.py")
STEPS: tuple[tuple[str, Predicate], ...] = (
    ("gunicorn outside Flask (accept, parse, write)", _but_not(_package("gunicorn"), IN_FLASK)),
    ("partial stacks (py-spy lost the caller)", _but_not(lambda _: True, _package("gunicorn"))),
    ("Flask around the view (hooks, routing, errors)", _but_not(IN_FLASK, IN_VIEW)),
    ("  of which the access-log line", _in("_end", "requests.py")),
    ("bearer-token lookup (authenticate)", _in("authenticate", "clients.py")),
    ("rate limits (limits)", _package("limits")),
    ("body parsing and validation (webargs)", _in("Parser.parse", "webargs/core.py")),
    ("  of which phone numbers (phonenumbers)", _package("phonenumbers")),
    (
        "write-ahead (POST row+event, DELETE load+event)",
        _any(_but_not(CREATE, FINISH, SDK), _but_not(UNBIND, FINISH, RECORD, SDK)),
    ),
    ("  of which the DELETE's one statement", _in("load_for_unbind", "services/writes.py")),
    ("outcome transaction (update + call events)", FINISH),
    ("SDK call (AliyunProvider._call)", SDK),
    ("  of which request signing", _package("aliyunsdkcore/auth")),
    (
        "response dump (marshmallow) and JSON",
        _any(_in("Schema.dump", "marshmallow/schema.py"), _in("jsonify", "flask/json/__init__.py")),
    ),
    ("metrics (prometheus-client)", _package("prometheus_client")),
    ("DB pool checkout incl. pre-ping", _in("_ConnectionFairy._checkout", "pool/base.py")),
    ("  of which the pre-ping round trip", _in("DefaultDialect._do_ping_w_event", "default.py")),
    ("SQLAlchemy anywhere", _package("sqlalchemy")),
    ("psycopg anywhere", _package("psycopg")),
    ("logging anywhere", _in("Logger._log", "logging/__init__.py")),
)
"""The request path of POST and DELETE /v1/bindings, by the functions that implement it: when
the gateway's code moves, these follow (the flame graph and top functions need no upkeep)."""


def _library(frame: str) -> str:
    where = frame.rpartition(" (")[2].rstrip(")")
    return where.split("/", 1)[0] if "/" in where else where


def report(profile: Profile, cpu_ms_per_req: float) -> list[str]:
    """Steps of the request path and the costliest functions, as lines (also saved to
    bench/out/profile-top.txt)."""
    stacks = read_stacks(profile.raw)
    total = sum(stacks.values()) or 1
    estimate = f"share × {cpu_ms_per_req:.3f} ms gateway CPU/req"
    lines = [f"profile: {total} GIL-holding samples; ms/req estimated as {estimate}"]
    lines.append(f"{'step (inclusive)':52} share  ~ms/req")
    for label, matches in STEPS:
        share = sum(n for stack, n in stacks.items() if matches(stack)) / total
        lines.append(f"{label:52} {share:5.1%}  {share * cpu_ms_per_req:6.3f}")
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for stack, n in stacks.items():
        for frame in set(stack):
            if not frame.startswith("process "):  # py-spy's per-process root frames
                inclusive[frame] += n
        own[_library(stack[-1])] += n
    lines.append(
        "self time by package: "
        + ", ".join(f"{name} {n / total:.1%}" for name, n in own.most_common(12))
    )
    lines.append(f"top {TOP_FUNCTIONS} functions (inclusive):")
    lines += [f"  {n / total:5.1%}  {frame}" for frame, n in inclusive.most_common(TOP_FUNCTIONS)]
    (OUT / "profile-top.txt").write_text("\n".join(lines) + "\n")
    lines.append(f"flame graph: {profile.flamegraph}; raw stacks: {profile.raw}")
    return lines
