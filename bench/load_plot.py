"""The sweep's picture: throughput and p50/p99 against concurrency, direct vs gateway."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the bench runs headless

import matplotlib.pyplot as plt

SIDES = (("direct", "SDK direct", "tab:blue"), ("gateway", "gateway", "tab:orange"))


def plot_sweep(runs: list[dict], latency_ms: int, path: Path) -> None:
    concurrency = [run["concurrency"] for run in runs]
    figure, (throughput, latency) = plt.subplots(1, 2, figsize=(11, 4.2))
    for side, label, colour in SIDES:
        throughput.plot(
            concurrency, [run[side]["rps"] for run in runs], "o-", color=colour, label=label
        )
        for key, style in (("p50_ms", "o-"), ("p99_ms", "s--")):
            latency.plot(
                concurrency,
                [run[side][key] for run in runs],
                style,
                color=colour,
                label=f"{label} {key.removesuffix('_ms')}",
            )
    throughput.set(
        title="Throughput (upstream calls/s)", xlabel="concurrent clients", ylabel="per second"
    )
    latency.set(title="Latency per call", xlabel="concurrent clients", ylabel="ms (log)")
    latency.set_yscale("log")
    for axes in (throughput, latency):
        axes.set_xscale("log", base=2)
        axes.set_xticks(concurrency, [str(c) for c in concurrency])
        axes.grid(True, alpha=0.3)
        axes.legend()
    figure.suptitle(f"bench.load sweep, emulator latency {latency_ms} ms")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
