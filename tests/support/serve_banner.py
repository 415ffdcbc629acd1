"""Reading what `oembed-server serve` prints before it answers: its banner ends with the
email preview's URL."""
from __future__ import annotations

import subprocess
import time


def read_serve_banner(proc: subprocess.Popen, timeout_s: float) -> str:
    """The lines the server printed up to its last banner line (or until it exits or the
    timeout passes, so a failed start shows its output in the test's assertion)."""
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Email preview:"):
            break
    return "".join(lines)
