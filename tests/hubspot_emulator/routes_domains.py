"""/cms/v3/domains: the portal's CMS domains (the sites its pages are served from), paged as
HubSpot pages them (``limit``, ``after`` cursor), answered in the spec's Domain shape."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from tests.hubspot_emulator.responses import ApiError, portal_data

blueprint = Blueprint("domains", __name__)

DEFAULT_LIMIT = 10
MAX_LIMIT = 100


def domain_object(domain_id: str, host: str) -> dict:
    """A Domain as HubSpot answers it: the required flags, used for site and landing pages."""
    return {"id": domain_id, "domain": host, "isResolving": True, "isUsedForBlogPost": False,
            "isUsedForEmail": False, "isUsedForKnowledge": False, "isUsedForLandingPage": True,
            "isUsedForSitePage": True, "isSslEnabled": True, "isSslOnly": True,
            "created": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z"}


@blueprint.get("/cms/v3/domains")
def list_domains():
    try:
        limit = int(request.args.get("limit", DEFAULT_LIMIT))
        offset = int(request.args.get("after") or 0)
    except ValueError:
        raise ApiError(400, "limit and after must be whole numbers") from None
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ApiError(400, f"limit must be 1 to {MAX_LIMIT}, after a cursor from a previous answer")
    domains = portal_data().domains
    page = domains[offset:offset + limit]
    answer: dict = {"total": len(domains), "results": page}
    if offset + limit < len(domains):
        answer["paging"] = {"next": {"after": str(offset + limit)}}
    return jsonify(answer)
