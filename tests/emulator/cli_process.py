"""`python -m emulator` as a child process, started and stopped the way an operator would."""

import signal
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def start_cli(*args: str) -> tuple[subprocess.Popen, int, str]:
    """Start `python -m emulator` on a free port; return it, the port its banner names, the banner."""
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    banner = process.stdout.readline()
    assert "listening on http://127.0.0.1:" in banner, process.stderr.read()
    port = int(banner.split("http://127.0.0.1:")[1].split()[0])
    return process, port, banner


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, as a service manager sends it: the CLI must end cleanly, status 0."""
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=5) == 0, process.stderr.read()
