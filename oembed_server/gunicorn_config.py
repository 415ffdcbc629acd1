"""gunicorn settings for the service: ``gunicorn -c python:oembed_server.gunicorn_config
"oembed_server:create_app()"``. It gives the worker processes one metrics directory
(prometheus_client's multiprocess mode), so ``/metrics`` adds every process's counts up
whichever of them answers the scrape.

``PROMETHEUS_MULTIPROC_DIR`` set (share it with ``oembed-server worker`` processes on the
same host, and their job and HubSpot counts join in): the files of processes no longer
running are removed at start, so counts begin again with the server. Unset: a private
directory is made for this server and removed when it stops. Command-line options
(``--workers``, ``--bind``) still apply on top of these."""
from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import tempfile

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Graceful stop: requests in flight finish (every accepted report is committed before
# its 202), up to this many seconds after SIGTERM.
graceful_timeout = 30
_made_dir: str | None = None
_PID_RE = re.compile(r"_(\d+)\.db$")


def on_starting(server) -> None:
    global _made_dir
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        os.makedirs(directory, exist_ok=True)
        _remove_files_of_ended_processes(directory)
    else:
        directory = _made_dir = tempfile.mkdtemp(prefix="oembed-server-metrics-")
        os.environ[MULTIPROC_ENV] = directory
    server.log.info("metrics directory: %s", directory)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _made_dir:
        shutil.rmtree(_made_dir, ignore_errors=True)


def _remove_files_of_ended_processes(directory: str) -> None:
    for path in glob.glob(os.path.join(directory, "*.db")):
        match = _PID_RE.search(path)
        if match is None or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            os.remove(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
