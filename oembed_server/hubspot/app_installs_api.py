"""App installs (2026-03): the app uninstalling itself from a portal, with that portal's
token (scope ``oauth``); HubSpot answers 204 and emails the portal's admins."""
from __future__ import annotations

from oembed_server.hubspot.api_call import ApiCall, Auth
from oembed_server.hubspot.client import HubSpotClient

PATH = "/appinstalls/2026-03/external-install"


def uninstall_call() -> ApiCall:
    # Idempotent in effect: once the app is gone, the portal's token is gone with it.
    return ApiCall("DELETE", PATH, Auth.OAUTH, idempotent=True)


def uninstall_from_portal(client: HubSpotClient) -> None:
    """The app leaves the portal whose token ``client`` holds."""
    client.execute(uninstall_call())
