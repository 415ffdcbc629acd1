"""CMS domains (OAuth, scope ``content``): the hosts a portal's pages, landing pages and
blog posts are served from, read page by page (``GET /cms/v3/domains``)."""
from __future__ import annotations

from oembed_server.hubspot import response_shapes
from oembed_server.hubspot.api_call import ApiCall, Auth
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.paging import PageFollower

PATH = "/cms/v3/domains"
PAGE_SIZE = 100


def list_call(after: str | None = None) -> ApiCall:
    params: dict[str, str | int] = {"limit": PAGE_SIZE}
    if after is not None:
        params["after"] = after
    return ApiCall("GET", PATH, Auth.OAUTH, idempotent=True, params=params)


def portal_domains(client: HubSpotClient) -> list[str]:
    """Every domain of the portal (the ``domain`` field, as HubSpot spells it), in order."""
    follower = PageFollower(PAGE_SIZE)
    domains: list[str] = []
    after: str | None = None
    while True:
        call = list_call(after)
        answer = client.execute(call)
        body = response_shapes.check(answer.body, response_shapes.CMS_DOMAIN_PAGE, call, answer.status,
                                     response_shapes.client_secrets(client))
        domains.extend(str(d["domain"]) for d in body["results"])
        after = follower.next_cursor(body, call, answer.status)
        if after is None:
            return domains

