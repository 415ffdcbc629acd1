"""Everything the emulated HubSpot remembers, plus the switches tests use to make it misbehave.

One EmulatorState is one developer account with one app, installed in its default portal
and installable by OAuth in any of its test portals; each portal keeps its own media
objects and design-manager files. Enough for every call the scripts and the install flow
make, and small enough to read back in assertions."""
from __future__ import annotations

import collections
import dataclasses
import itertools
import re
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.hubspot_emulator.journal import APP_UNINSTALL_EVENT, WebhooksJournal
from tests.hubspot_emulator.webhooks import WebhookDeliveries

MEDIA_TYPES = ("VIDEO", "AUDIO", "DOCUMENT", "IMAGE", "OTHER")
OBJECT_SUFFIX = {"VIDEO": "Videos", "AUDIO": "Audio", "IMAGE": "Images", "DOCUMENT": "Documents", "OTHER": "Other"}
ALL_SCOPES = frozenset({"media_bridge.read", "media_bridge.write", "content", "oauth", "crm.objects.contacts.read",
                        "forms"})
# A developer account's token: what the specs name for app-level Media Bridge calls.
DEVELOPER_SCOPES = frozenset({"developers-read", "developers-write"})


def _prop(name, label, type_="string", field_type="text", unique=False, read_only=False):
    return {"name": name, "label": label, "type": type_, "fieldType": field_type, "groupName": "media_information",
            "hasUniqueValue": unique, "modificationMetadata": {"readOnlyValue": read_only}}


def media_properties(media_type: str) -> list[dict]:
    props = [
        _prop("hs_title", "Title"),
        _prop("hs_oembed_url", "oEmbed URL"),
        _prop("hs_file_url", "File URL"),
        _prop("hs_thumbnail_url", "Thumbnail URL"),
        _prop("hs_poster_url", "Poster URL"),
        _prop("hs_external_id", "External ID", unique=True),
        _prop("hs_folder_path", "Folder path"),
        _prop("hs_details_page_link", "Details page link"),
        _prop("hs_object_id", "Record ID", "number", "number", read_only=True),
        _prop("hs_createdate", "Create date", "datetime", "date", read_only=True),
        _prop("hs_lastmodifieddate", "Last modified date", "datetime", "date", read_only=True),
    ]
    if media_type in ("VIDEO", "AUDIO"):
        props.insert(1, _prop("hs_duration", "Duration (ms)", "number", "number"))
    return props


def required_properties(media_type: str) -> tuple[str, ...]:
    return ("hs_title", "hs_oembed_url", "hs_file_url") if media_type == "IMAGE" else ("hs_title", "hs_oembed_url")


@dataclasses.dataclass
class TokenInfo:
    hub_id: int
    app_id: int
    scopes: frozenset[str]
    expires_at: float
    # The grant (refresh token) it came from; None for tokens the emulator was started with.
    refresh_token: str | None = None


@dataclasses.dataclass
class AuthCode:
    redirect_uri: str
    hub_id: int
    scopes: frozenset[str]
    expires_at: float


@dataclasses.dataclass
class PortalData:
    """What one portal holds: media objects (by type), their unique-value index, CMS files."""
    objects: dict[str, dict[str, MediaObject]] = dataclasses.field(default_factory=dict)
    unique_index: dict[str, dict[tuple[str, str], str]] = dataclasses.field(default_factory=dict)
    source_files: dict[tuple[str, str], dict] = dataclasses.field(default_factory=dict)
    # CMS domains (/cms/v3/domains), as Domain objects.
    domains: list[dict] = dataclasses.field(default_factory=list)
    # Marketing forms (routes_forms): definitions by id, the contacts submissions made
    # (id -> properties), each visitor token a submission tied to a contact, and the
    # submissions as received.
    forms: dict[str, dict] = dataclasses.field(default_factory=dict)
    contacts: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    utk_contacts: dict[str, str] = dataclasses.field(default_factory=dict)
    submissions: list[dict] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Fault:
    """One injected misbehaviour, applied to the next ``times`` matching requests after
    letting ``skip`` of them through untouched."""
    kind: str  # "status" | "rate_limit" | "drop" | "drop_after" | "latency" | "mangle"
    times: int = 1
    method: str | None = None
    path: str | None = None  # regular expression searched in the path
    skip: int = 0
    status: int = 503
    retry_after: float | None = None
    seconds: float = 0.0
    hub_id: int | None = None  # only requests made with this portal's token
    mangle: str | None = None  # for kind "mangle": a name in mangling.MANGLINGS

    def matches(self, method: str, path: str, hub_id: int | None = None) -> bool:
        return ((self.method is None or self.method == method) and (self.path is None or re.search(self.path, path))
                and (self.hub_id is None or self.hub_id == hub_id))


@dataclasses.dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    auth: str  # "hapikey", "bearer", "none"
    status: int  # 0: the connection was dropped before any handling
    json: Any = None
    hub_id: int | None = None  # the portal of the request's access token, if any
    answered_at: float = dataclasses.field(default_factory=time.monotonic)


@dataclasses.dataclass
class MediaObject:
    id: str
    object_type: str
    properties: dict[str, str]
    created_at: str
    updated_at: str
    archived: bool = False


class EmulatorState:
    def __init__(self, *, app_id: int = 4242, portal_id: int = 777, developer_api_key: str = "emu-dev-key-0001",
                 access_token: str = "emu-access-token-0001", refresh_token: str = "emu-refresh-token-0001",
                 client_id: str = "emu-client-id", client_secret: str = "emu-client-secret-0001",
                 token_lifetime_s: int = 1800, rate_limit: int = 100, rate_interval_ms: int = 10_000,
                 rate_limit_retry_after: float | None = None, metadata_includes_hash: bool = True,
                 scopes: frozenset[str] = ALL_SCOPES, clock: Callable[[], float] = time.monotonic,
                 developer_access_token: str = "emu-dev-access-token-0001", validate_spec: bool = True,
                 accept_developer_hapikey: bool = True,
                 test_portals: dict[int, str] | None = None, code_lifetime_s: float = 300.0,
                 webhook_time_scale: float = 1.0):
        self.app_id = app_id
        self.portal_id = portal_id
        self.developer_api_key = developer_api_key
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime_s = token_lifetime_s
        self.rate_limit = rate_limit
        self.rate_interval_ms = rate_interval_ms
        self.rate_limit_retry_after = rate_limit_retry_after
        self.metadata_includes_hash = metadata_includes_hash
        self.clock = clock
        self.lock = threading.RLock()
        self._ids = itertools.count(1001)
        # Portals an admin may pick on the consent page: hub id -> name.
        self.test_portals: dict[int, str] = {portal_id: "Test portal"} | dict(test_portals or {})
        self.code_lifetime_s = code_lifetime_s
        # Portals whose account cannot grant optional scopes (routes_oauth grants the rest).
        self.optional_scopes_refused: set[int] = set()
        self.refresh_scopes: dict[str, frozenset[str]] = {refresh_token: frozenset(scopes)}
        self.refresh_tokens: dict[str, int] = {refresh_token: portal_id}  # refresh token -> hub id
        self.revoked_refresh_tokens: list[str] = []  # in the order DELETE /oauth/v1/refresh-tokens came
        self.access_tokens: dict[str, TokenInfo] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self.developer_tokens: dict[str, frozenset[str]] = {developer_access_token: DEVELOPER_SCOPES}
        # Hold requests to HubSpot's published specs (spec_check.py); what drifted is kept here.
        self.validate_spec = validate_spec
        self.accept_developer_hapikey = accept_developer_hapikey
        self.spec_violations: list[dict] = []
        self.spec_operations: collections.Counter[str] = collections.Counter()
        self.issue_access_token(scopes, token=access_token)
        # App-level (developer account): shared by every portal the app is installed in.
        self.definitions: dict[str, dict] = {}  # media type -> definition
        self.properties: dict[str, list[dict]] = {}  # object type name -> property definitions
        self.schemas: dict[str, dict] = {}  # object type name -> patched schema fields
        self.oembed_domains: dict[str, dict] = {}
        self.event_visibility: dict[str, dict] = {}  # event type -> settings
        # Portal-level: each portal's own objects and files.
        self.portal_data: dict[int, PortalData] = {portal_id: PortalData()}
        self.events: list[dict] = []  # {"version", "kind", "event"}
        self.requests: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self._windows: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        # App webhooks (webhooks.py): the project's subscriptions and signed deliveries.
        self.webhooks = WebhookDeliveries(app_id, client_secret, time_scale=webhook_time_scale)
        # The Webhooks Journal (journal.py), and the app's client-credentials tokens that read it.
        self.journal = WebhooksJournal(app_id)
        self.app_tokens: dict[str, TokenInfo] = {}
        self.uninstalled: list[int] = []  # portals, in the order they uninstalled the app

    # --- portals ----------------------------------------------------------------------
    def data(self, hub_id: int | None = None) -> PortalData:
        """One portal's objects and files (the default portal's when ``hub_id`` is None)."""
        with self.lock:
            return self.portal_data.setdefault(self.portal_id if hub_id is None else hub_id, PortalData())

    # The default portal's holdings, as single-portal tests read them.
    @property
    def objects(self) -> dict[str, dict[str, MediaObject]]:
        return self.data().objects

    @property
    def unique_index(self) -> dict[str, dict[tuple[str, str], str]]:
        return self.data().unique_index

    @property
    def source_files(self) -> dict[tuple[str, str], dict]:
        return self.data().source_files

    def add_test_portal(self, hub_id: int, name: str) -> None:
        with self.lock:
            self.test_portals[hub_id] = name

    def issue_code(self, hub_id: int, redirect_uri: str, scopes: frozenset[str]) -> str:
        code = f"emu-code-{secrets.token_hex(12)}"
        with self.lock:
            self.auth_codes[code] = AuthCode(redirect_uri, hub_id, frozenset(scopes),
                                             self.clock() + self.code_lifetime_s)
        return code

    def set_domains(self, hub_id: int, hosts: list[str]) -> None:
        """The portal's CMS domains (what /cms/v3/domains lists)."""
        from tests.hubspot_emulator.routes_domains import domain_object
        with self.lock:
            self.data(hub_id).domains = [domain_object(self.next_id(), host) for host in hosts]

    def revoke_refresh_token(self, token: str) -> bool:
        """DELETE /oauth/v1/refresh-tokens/{token}: the grant ends; its access tokens stop working."""
        with self.lock:
            hub_id = self.refresh_tokens.pop(token, None)
            if hub_id is None:
                return False
            self.revoked_refresh_tokens.append(token)
            self.access_tokens = {t: i for t, i in self.access_tokens.items()
                                  if not (i.hub_id == hub_id and i.refresh_token == token)}
            return True

    def uninstall(self, hub_id: int) -> None:
        """The app leaves the portal (its admin uninstalled it, or the app asked to): its
        refresh and access tokens stop working, and the journal records it if subscribed."""
        with self.lock:
            self.refresh_tokens = {t: h for t, h in self.refresh_tokens.items() if h != hub_id}
            self.access_tokens = {t: i for t, i in self.access_tokens.items() if i.hub_id != hub_id}
            self.uninstalled.append(hub_id)
        self.journal.lifecycle_event(hub_id, APP_UNINSTALL_EVENT)

    def issue_app_token(self, scopes: frozenset[str]) -> str:
        """A client-credentials token: the app's own, for no portal (the journal takes it)."""
        token = f"emu-cc-{secrets.token_hex(12)}"
        with self.lock:
            self.app_tokens[token] = TokenInfo(0, self.app_id, frozenset(scopes),
                                               self.clock() + self.token_lifetime_s)
        return token

    # --- ids and tokens ---------------------------------------------------------------
    def next_id(self) -> str:
        return str(next(self._ids))

    def issue_access_token(self, scopes: frozenset[str] = ALL_SCOPES, token: str | None = None,
                           hub_id: int | None = None, refresh_token: str | None = None) -> str:
        """A new access token, for the app's portal or (``hub_id``) another one it is installed in."""
        token = token or f"emu-at-{secrets.token_hex(12)}"
        self.access_tokens[token] = TokenInfo(hub_id or self.portal_id, self.app_id, frozenset(scopes),
                                              self.clock() + self.token_lifetime_s, refresh_token)
        return token

    def expire_tokens(self) -> None:
        """Every access token issued so far is now expired; refresh tokens still work."""
        with self.lock:
            for info in self.access_tokens.values():
                info.expires_at = self.clock() - 1

    # --- faults -----------------------------------------------------------------------
    def inject(self, kind: str, **options) -> Fault:
        fault = Fault(kind=kind, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def fail_next(self, status: int = 503, times: int = 1, **match) -> Fault:
        return self.inject("status", status=status, times=times, **match)

    def rate_limit_storm(self, times: int, retry_after: float | None = None, **match) -> Fault:
        return self.inject("rate_limit", times=times, retry_after=retry_after, **match)

    def drop_connections(self, times: int = 1, after_processing: bool = False, **match) -> Fault:
        return self.inject("drop_after" if after_processing else "drop", times=times, **match)

    def add_latency(self, seconds: float, times: int = 1, **match) -> Fault:
        return self.inject("latency", seconds=seconds, times=times, **match)

    def mangle_next(self, how: str, times: int = 1, **match) -> Fault:
        """Handle the next matching requests as usual, then answer 200 with a mangled body."""
        from tests.hubspot_emulator.mangling import MANGLINGS
        if how not in MANGLINGS:
            raise ValueError(f"unknown mangling {how!r}: one of {', '.join(MANGLINGS)}")
        return self.inject("mangle", mangle=how, times=times, **match)

    def take_faults(self, method: str, path: str, kinds: tuple[str, ...], hub_id: int | None = None) -> list[Fault]:
        """The faults that apply to this request, each used up by one."""
        taken = []
        with self.lock:
            for fault in self.faults:
                if fault.kind not in kinds or fault.times <= 0 or not fault.matches(method, path, hub_id):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.times -= 1
                taken.append(fault)
            self.faults = [f for f in self.faults if f.times > 0]
        return taken

    # --- rate limits ------------------------------------------------------------------
    def take_rate_slot(self, key: str) -> int | None:
        """Count a request on ``key``'s rolling window; returns the remaining budget, or None
        when the window is spent (the request must be refused)."""
        with self.lock:
            now = self.clock()
            window = self._windows[key]
            while window and window[0] <= now - self.rate_interval_ms / 1000:
                window.popleft()
            if len(window) >= self.rate_limit:
                return None
            window.append(now)
            return self.rate_limit - len(window)

    # --- read-back helpers for tests -----------------------------------------------------
    def count(self, method: str | None = None, path: str | None = None, status: int | None = None) -> int:
        return sum(1 for r in self.requests if (method is None or r.method == method)
                   and (path is None or re.search(path, r.path)) and (status is None or r.status == status))

    def counts(self) -> dict[str, int]:
        """Requests per "METHOD path", for a quick look at what a script did."""
        return dict(collections.Counter(f"{r.method} {r.path}" for r in self.requests))

    def live_objects(self, object_type: str | None = None, hub_id: int | None = None) -> list[MediaObject]:
        objects = self.data(hub_id).objects
        types = [object_type] if object_type else list(objects)
        return [o for t in types for o in objects.get(t, {}).values() if not o.archived]

    def object_type_name(self, media_type: str) -> str:
        return f"a{self.app_id}_{OBJECT_SUFFIX[media_type]}"

    def define_media_types(self, *media_types: str) -> None:
        """Shortcut for tests that start from an app already set up."""
        with self.lock:
            for media_type in media_types:
                if media_type in self.definitions:
                    continue
                name = self.object_type_name(media_type)
                self.properties[name] = media_properties(media_type)
                self.objects.setdefault(name, {})
                self.definitions[media_type] = {
                    "objectTypeId": f"2-{self.next_id()}", "objectTypeName": name, "mediaType": media_type,
                    "properties": [p["name"] for p in self.properties[name]],
                    "propertyGroups": [{"name": "media_information", "label": "Media information"}],
                }

    def object_type_for(self, name_or_id: str) -> tuple[str, str] | None:
        """(object type name, media type) for a name like a42_Videos or an id like 2-1001."""
        for media_type, definition in self.definitions.items():
            if name_or_id in (definition["objectTypeName"], definition["objectTypeId"]):
                return definition["objectTypeName"], media_type
        return None

    def summary(self) -> dict[str, Any]:
        return {
            "definitions": {t: d["objectTypeName"] for t, d in self.definitions.items()},
            "objects": {t: len([o for o in objs.values() if not o.archived]) for t, objs in self.objects.items()},
            "oembedDomains": list(self.oembed_domains.values()),
            "sourceFiles": sorted(f"{env}/{path}" for env, path in self.source_files),
            "portals": {hub: {"objects": len(self.live_objects(hub_id=hub)), "sourceFiles": len(data.source_files)}
                        for hub, data in self.portal_data.items()},
            "events": len(self.events),
            "requests": len(self.requests),
        }
