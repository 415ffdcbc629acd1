"""The dated Media Bridge API versions the specs list (``/media-bridge/2026-03/...``): the same
app settings and the same synchronous events as v1, served by the v1 handlers. A version no
shipped spec lists stays unknown (spec_check answers 404 for it)."""
from __future__ import annotations

from flask import Blueprint, Flask

from tests.hubspot_emulator import routes_events, routes_settings

# Each needs its trimmed spec in openapi/ (trim.py) for requests to pass spec_check.
DATED_VERSIONS = ("2026-03",)

blueprint = Blueprint("dated_events", __name__)


@blueprint.post("/media-bridge/<any(" + ", ".join(repr(v) for v in DATED_VERSIONS) + "):dated>/events/<kind>")
def dated_event(dated: str, kind: str):
    # The dated spec's event operations answer synchronously with the stored event, as v1 does.
    return routes_events.event(1, kind)


def register(app: Flask) -> None:
    for version in DATED_VERSIONS:
        app.register_blueprint(routes_settings.blueprint, url_prefix=f"/media-bridge/{version}/<int:app_id>",
                               name=f"settings_{version.replace('-', '_')}")
    app.register_blueprint(blueprint)
