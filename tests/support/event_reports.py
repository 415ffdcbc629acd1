"""Player reports as the player sends them to POST /events, built tersely."""
from __future__ import annotations

import json
import re
import time

SESSION = "sess-0123456789abcdefXYZ"
# The player's secret for SESSION (and any other session a test opens with the same helper).
SESSION_SECRET = "secret-0123456789abcdefXYZ"


def player_token(client, path: str = "/embed/sample-video?hs_portal_id=42") -> str:
    """The token exactly as the player page hands it to player-events.js."""
    html = client.get(path).get_data(as_text=True)
    config = json.loads(re.search(r'id="player-config">(.*?)</script>', html).group(1))
    assert config["events"]["url"] == "/events"
    return config["events"]["token"]


def body(token: str, **fields) -> dict:
    base = {"token": token, "kind": "played", "state": "STARTED", "externalId": "sample-video",
            "sessionId": SESSION, "sessionSecret": SESSION_SECRET, "occurredTimestamp": int(time.time() * 1000),
            "portalId": 42,
            "contactUtk": "utk-1", "pageId": "77", "pageUrl": "https://www.example.com/landing",
            "pageName": "Landing"}
    return {k: v for k, v in (base | fields).items() if v is not ...}


def attention(token: str, spans: list[int], **fields) -> dict:
    return body(token, kind="attention", state=..., spans=spans, spanSeconds=1, durationSeconds=8.003, **fields)
