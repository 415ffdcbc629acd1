"""Serve the emulator on 127.0.0.1 in a background thread, for real HTTP in tests and the bench."""
from __future__ import annotations

import logging
import threading

from werkzeug.serving import make_server

from tests.hubspot_emulator.app import create_emulator_app
from tests.hubspot_emulator.state import EmulatorState


class LiveEmulator:
    def __init__(self, state: EmulatorState | None = None, **state_options):
        self.state = state or EmulatorState(**state_options)
        self.app = create_emulator_app(self.state)
        self._server = None
        self._thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def env(self) -> dict[str, str]:
        """HUBSPOT_* variables pointing a client or script at this emulator."""
        s = self.state
        return {"HUBSPOT_API_BASE": self.url, "HUBSPOT_DEVELOPER_API_KEY": s.developer_api_key,
                "HUBSPOT_DEVELOPER_ACCESS_TOKEN": next(iter(s.developer_tokens)),
                "HUBSPOT_ACCESS_TOKEN": next(iter(s.access_tokens)),
                "HUBSPOT_REFRESH_TOKEN": next(iter(s.refresh_tokens)),
                "HUBSPOT_CLIENT_ID": s.client_id, "HUBSPOT_CLIENT_SECRET": s.client_secret,
                "HUBSPOT_APP_ID": str(s.app_id), "HUBSPOT_PORTAL_ID": str(s.portal_id)}

    def reset(self, state: EmulatorState | None = None, **state_options) -> EmulatorState:
        """A fresh account behind the same server: cheaper than a new server per test."""
        self.state = state or EmulatorState(**state_options)
        self.app.extensions["hubspot_emulator"] = self.state
        return self.state

    def start(self) -> LiveEmulator:
        # Dropped connections make werkzeug log broken pipes; they are the point, not news.
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        # A short poll: stop() waits one interval, and every test using the emulator pays it.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="hubspot-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> LiveEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
