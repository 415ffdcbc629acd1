"""Serving a WSGI app on a free loopback port in a thread, for tests that need a real socket."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from werkzeug.serving import make_server


@contextlib.contextmanager
def serve_in_thread(build_app: Callable[[str], Callable]) -> Iterator[str]:
    """Yield the base URL of ``build_app(base_url)`` served on 127.0.0.1.

    The port is known only once bound, and our app needs it as its public URL, so the
    server starts with a forwarding callable and the real app is plugged in after.
    """
    holder = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = build_app(base_url)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
