"""What this provider's HubSpot app is, in one place: its scopes, the OAuth callback and
webhook paths, the webhook subscriptions, and the developer-project files that declare
it (platform 2026.03). The install flow (``/hubspot/connect``) and ``oembed-server
hubspot-project`` both read these, so the project uploaded to HubSpot and the authorize
URL can never ask for different scopes or name different URLs.

Pure: builds the files' JSON values; writing and validating them is ``usecases.hubspot_project``.
"""
from __future__ import annotations

import re
from typing import Any

# What the features need: OAuth itself; media objects (read) and events (write); module
# files in the design manager (content); contacts read, which HubSpot requires (as a
# required scope) for CRM and GDPR webhooks such as contact.privacyDeletion.
REQUIRED_SCOPES: tuple[str, ...] = ("oauth", "media_bridge.read", "media_bridge.write", "content",
                                    "crm.objects.contacts.read")
# Asked for, but an installer may decline them: form gates use the forms API when granted.
FORMS_SCOPE = "forms"
OPTIONAL_SCOPES: tuple[str, ...] = (FORMS_SCOPE,)

OAUTH_CALLBACK_PATH = "/hubspot/oauth-callback"
WEBHOOK_PATH = "/hubspot/webhooks"

PLATFORM_VERSION = "2026.03"
DISTRIBUTIONS = ("marketplace", "private")
PRIVACY_DELETION = "contact.privacyDeletion"
CONTACT_DELETION = "contact.deletion"
# HubSpot allows 10 requests in flight per installing account; this is the app's own cap.
MAX_CONCURRENT_REQUESTS = 10

APP_META_PATH = "src/app/app-hsmeta.json"
WEBHOOKS_META_PATH = "src/app/webhooks/webhooks-hsmeta.json"
PROJECT_FILE = "hsproject.json"
SUPPORT_FIELDS = ("supportEmail", "documentationUrl", "supportUrl", "supportPhone")

_UID_UNSAFE = re.compile(r"[^a-zA-Z0-9_\-.]+")


def redirect_url(public_url: str) -> str:
    return f"{public_url.rstrip('/')}{OAUTH_CALLBACK_PATH}"


def webhook_url(public_url: str) -> str:
    return f"{public_url.rstrip('/')}{WEBHOOK_PATH}"


def project_uid(name: str) -> str:
    """A component uid HubSpot accepts (1-64 of ``[a-zA-Z0-9_.-]``) derived from a name."""
    uid = _UID_UNSAFE.sub("_", name.strip().lower()).strip("_")[:64]
    return uid or "media_bridge"


def project_files(*, name: str, public_url: str, distribution: str,
                  required_scopes: tuple[str, ...] = REQUIRED_SCOPES,
                  optional_scopes: tuple[str, ...] = OPTIONAL_SCOPES,
                  support: dict[str, str] | None = None) -> dict[str, Any]:
    """The project's three files, by path relative to the project folder."""
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {', '.join(DISTRIBUTIONS)}, got {distribution!r}")
    base = public_url.rstrip("/")
    uid = project_uid(name)
    config: dict[str, Any] = {
        "name": name.strip(),
        "description": f"{name.strip()} in HubSpot: media objects, oEmbed embeds and viewing events on "
                       "contact timelines.",
        "distribution": distribution,
        "auth": {"type": "oauth", "redirectUrls": [redirect_url(base)],
                 "requiredScopes": list(required_scopes), "optionalScopes": list(optional_scopes),
                 "conditionallyRequiredScopes": []},
        "permittedUrls": {"fetch": [base], "iframe": [base], "img": [base]},
    }
    given = {k: v for k, v in (support or {}).items() if v}
    if given:
        config["support"] = given
    webhooks = {
        "uid": f"{uid}_webhooks"[:64], "type": "webhooks",
        "config": {
            "settings": {"targetUrl": webhook_url(base), "maxConcurrentRequests": MAX_CONCURRENT_REQUESTS},
            "subscriptions": {
                # A privacy deletion also fires contact.deletion; either may come first.
                "legacyCrmObjects": [{"subscriptionType": CONTACT_DELETION, "active": True}],
                "hubEvents": [{"subscriptionType": PRIVACY_DELETION, "active": True}],
            },
        },
    }
    return {
        PROJECT_FILE: {"name": name.strip(), "srcDir": "src", "platformVersion": PLATFORM_VERSION},
        APP_META_PATH: {"uid": uid, "type": "app", "config": config},
        WEBHOOKS_META_PATH: webhooks,
    }
