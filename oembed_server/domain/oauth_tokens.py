"""An OAuth token pair as HubSpot issues it: what the client refreshes and storage keeps."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class OAuthTokens:
    access_token: str = dataclasses.field(repr=False)
    refresh_token: str | None = dataclasses.field(default=None, repr=False)
    # Wall-clock epoch seconds; None when the lifetime is unknown (a token from the environment).
    expires_at: float | None = None
