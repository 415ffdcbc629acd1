"""Upsert the whole catalog into the portal as media objects, 100 per batch call, keyed by
hs_external_id so a repeat or a resumed run never duplicates; record object ids back in
the catalog; optionally archive objects whose media left the catalog.

Private items are never sent: they are counted as withheld, and one that was synced
before it turned private has its media object archived (by the id the catalog recorded)
on the next run, with or without --prune."""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable

from oembed_server.domain.media import MediaItem, MediaType
from oembed_server.domain.media_object_mapping import (
    ID_PROPERTY,
    SYNCED_PROPERTIES,
    changed_properties,
    creation_properties,
    is_sent_to_hubspot,
    item_problems,
    media_object_properties,
)
from oembed_server.hubspot import crm_objects_api
from oembed_server.hubspot.api_call import ApiCall
from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.client_config import DEFAULT_MEDIA_BRIDGE_VERSION
from oembed_server.hubspot.crm_objects_api import BATCH_LIMIT, CrmObjects
from oembed_server.hubspot.media_bridge_api import MEDIA_TYPES, MediaBridgeSettings, get_object_definition
from oembed_server.storage.catalog_store import CatalogStore


class SyncInputError(ValueError):
    """The catalog or the app setup is not ready for a sync; nothing was written."""


class MissingObjectDefinition(SyncInputError):
    """The app has no object definition for a media type the catalog holds."""


@dataclasses.dataclass
class TypeReport:
    object_type: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0


@dataclasses.dataclass
class SyncReport:
    types: dict[str, TypeReport] = dataclasses.field(default_factory=dict)
    write_calls: int = 0
    lookup_calls: int = 0
    recorded_ids: int = 0
    # Private items left out of the sync.
    withheld: int = 0

    @property
    def changed(self) -> bool:
        return any(t.created or t.updated or t.archived for t in self.types.values())

    def to_dict(self) -> dict:
        return {"changed": self.changed, "writeCalls": self.write_calls, "lookupCalls": self.lookup_calls,
                "recordedIds": self.recorded_ids, "withheld": self.withheld,
                "types": {k: dataclasses.asdict(v) for k, v in self.types.items()}}

    def lines(self) -> list[str]:
        lines = [f"{media_type} ({t.object_type}): {t.created} created, {t.updated} updated, "
                 f"{t.unchanged} unchanged, {t.archived} archived" for media_type, t in self.types.items()]
        lines.append(f"{self.withheld} private item(s) withheld: never sent to HubSpot")
        lines.append(f"{self.write_calls} write call(s), {self.lookup_calls} look-up call(s)")
        if not self.changed:
            lines.append("Nothing to change: HubSpot already matches the catalog.")
        return lines


Progress = Callable[[int], None]


def _definition_properties(definition: dict) -> list[str] | None:
    props = definition.get("properties")
    if not isinstance(props, list) or not props:
        return None
    # The spec's PropertyDefinition wraps each property as {"objectTypeId", "property": {...}}.
    return [(p.get("property") or p)["name"] if isinstance(p, dict) else str(p) for p in props]


@dataclasses.dataclass
class _Catalog:
    by_type: dict[MediaType, list[MediaItem]]
    withheld: int
    # Private items still holding the id of a media object synced before they turned private.
    to_archive: dict[MediaType, list[MediaItem]]


def _load_catalog(catalog: CatalogStore, library: str | None = None) -> _Catalog:
    by_type: dict[MediaType, list[MediaItem]] = defaultdict(list)
    to_archive: dict[MediaType, list[MediaItem]] = defaultdict(list)
    withheld = 0
    problems = []
    for item in catalog.iter_all(library=library):
        if not is_sent_to_hubspot(item):
            withheld += 1
            if item.hubspot_object_id:
                to_archive[item.media_type].append(item)
            continue
        problems += item_problems(item)
        by_type[item.media_type].append(item)
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise SyncInputError(f"{len(problems)} catalog item(s) cannot become media objects: {shown}")
    return _Catalog(dict(by_type), withheld, dict(to_archive))


def _chunks(seq: list, size: int) -> Iterable[list]:
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


class _Sync:
    def __init__(self, catalog: CatalogStore, objects: CrmObjects, app: MediaBridgeSettings, public_url: str,
                 progress: Progress | None, record_ids: bool = True, first_sync: bool = False):
        self.catalog = catalog
        self.record_ids = record_ids
        self.first_sync = first_sync
        self.objects = objects
        self.app = app
        self.public_url = public_url
        self.progress = progress or (lambda n: None)
        self.report = SyncReport()

    def object_types(self, media_types: Iterable[str], required: set[str]) -> dict[str, dict]:
        definitions = {}
        for media_type in media_types:
            self.report.lookup_calls += 1
            definition = self.app.object_definition(media_type)
            if definition is not None:
                definitions[media_type] = definition
        missing = sorted(required - set(definitions))
        if missing:
            raise MissingObjectDefinition(f"the app has no object definition for {', '.join(missing)}: run "
                                 f"scripts/setup_media_types.py --types {','.join(missing)} first")
        return definitions

    def upsert_type(self, media_type: str, definition: dict, items: list[MediaItem]) -> None:
        object_type = definition["objectTypeName"]
        allowed = _definition_properties(definition)
        report = self.report.types.setdefault(media_type, TypeReport(object_type))
        wanted_props = [p for p in SYNCED_PROPERTIES if allowed is None or p in allowed]
        # Upsert inputs, each with the item it creates (None for an update: its id is known already).
        pending: list[tuple[dict, MediaItem | None]] = []
        for chunk in _chunks(items, BATCH_LIMIT):
            if self.first_sync:
                # A portal this app never wrote to holds none of them: upserting all skips the
                # look-ups, and a repeat (a resumed run) still lands on the same objects.
                held = {}
            else:
                self.report.lookup_calls += 1
                found = self.objects.batch_read(object_type, [i.external_id for i in chunk], wanted_props,
                                                ID_PROPERTY)
                held = {(o.get("properties") or {}).get(ID_PROPERTY): o for o in found.found}
            known_ids: dict[str, str] = {}
            for item in chunk:
                desired = media_object_properties(item, self.public_url, allowed)
                current = held.get(item.external_id)
                if current is None:
                    pending.append(({"idProperty": ID_PROPERTY, "id": item.external_id,
                                     "properties": creation_properties(desired)}, item))
                    report.created += 1
                    continue
                # Taken from the look-up: HubSpot's answer to an update need not echo hs_external_id.
                if item.hubspot_object_id != str(current["id"]):
                    known_ids[item.external_id] = str(current["id"])
                changes = changed_properties(desired, current.get("properties") or {})
                if changes:
                    pending.append(({"idProperty": ID_PROPERTY, "id": item.external_id, "properties": changes}, None))
                    report.updated += 1
                else:
                    report.unchanged += 1
            self._record(known_ids)
            # Writes wait until a full batch is gathered, so scattered changes still cost few calls.
            while len(pending) >= BATCH_LIMIT:
                self._write(object_type, pending[:BATCH_LIMIT])
                pending = pending[BATCH_LIMIT:]
            self.progress(len(chunk))
        if pending:
            self._write(object_type, pending)

    def _write(self, object_type: str, batch: list[tuple[dict, MediaItem | None]]) -> None:
        self.report.write_calls += 1
        results = self.objects.batch_upsert(object_type, [inputs for inputs, _ in batch])
        created = {item.external_id: item for _, item in batch if item is not None}
        answered = {}
        for result in results:
            # A create sends hs_external_id among its properties, so its answer carries it back.
            external_id = (result.get("properties") or {}).get(ID_PROPERTY)
            if external_id in created:
                answered[external_id] = str(result["id"])
        unanswered = [external_id for external_id in created if external_id not in answered]
        if unanswered:
            # HubSpot applied the batch but its answer left objects out: read their ids back
            # rather than report success with ids unrecorded.
            self.report.lookup_calls += 1
            found = self.objects.batch_read(object_type, unanswered, [ID_PROPERTY], ID_PROPERTY)
            for obj in found.found:
                external_id = (obj.get("properties") or {}).get(ID_PROPERTY)
                if external_id in created:
                    answered[external_id] = str(obj["id"])
        self._record({external_id: object_id for external_id, object_id in answered.items()
                      if created[external_id].hubspot_object_id != object_id})
        lost = [external_id for external_id in created if external_id not in answered]
        if lost:
            raise HubSpotError(None, f"HubSpot accepted a batch upsert on {object_type} but neither its answer nor "
                                     f"a read-back holds {len(lost)} of the objects (e.g. {lost[0]!r})",
                               "MISSING_RESULTS")

    def _record(self, object_ids: dict[str, str]) -> None:
        # The catalog keeps one object id per item: the configured portal's. Installed
        # portals each have their own ids, which the sync never needs (it keys on hs_external_id).
        if object_ids and self.record_ids:
            # Recorded batch by batch: a run that fails later keeps what it already learned.
            self.catalog.set_hubspot_object_ids(object_ids)
            self.report.recorded_ids += len(object_ids)

    def archive_private(self, media_type: str, definition: dict | None, items: list[MediaItem]) -> None:
        """Archive the media objects of items that turned private, then forget their ids so
        the next run sends nothing about them."""
        if definition is None:
            return  # the type was never defined, so no object of it can exist
        object_type = definition["objectTypeName"]
        report = self.report.types.setdefault(media_type, TypeReport(object_type))
        for chunk in _chunks(items, BATCH_LIMIT):
            self.report.write_calls += 1
            self.objects.batch_archive(object_type, [i.hubspot_object_id for i in chunk])
            report.archived += len(chunk)
            self.catalog.set_hubspot_object_ids({i.external_id: None for i in chunk})

    def prune_type(self, media_type: str, definition: dict, keep: set[str]) -> None:
        object_type = definition["objectTypeName"]
        report = self.report.types.setdefault(media_type, TypeReport(object_type))
        stale = []
        for page in self.objects.list_pages(object_type, [ID_PROPERTY]):
            self.report.lookup_calls += 1
            for obj in page:
                external_id = (obj.get("properties") or {}).get(ID_PROPERTY)
                # Objects without an external id were not made by this sync: leave them alone.
                if external_id and external_id not in keep:
                    stale.append(str(obj["id"]))
        for chunk in _chunks(stale, BATCH_LIMIT):
            self.report.write_calls += 1
            self.objects.batch_archive(object_type, chunk)
            report.archived += len(chunk)


def sync_catalog(catalog: CatalogStore, objects: CrmObjects, app: MediaBridgeSettings, public_url: str, *,
                 prune: bool = False, progress: Progress | None = None, library: str | None = None,
                 record_ids: bool = True, first_sync: bool = False) -> SyncReport:
    """``library``: only that library's items (an installed portal's share); ``record_ids``:
    write object ids back to the catalog (the configured portal's; an installed portal's
    own ids are never needed, its objects are keyed by hs_external_id); ``first_sync``: the
    portal holds none of these objects yet, so nothing is looked up."""
    loaded = _load_catalog(catalog, library)
    by_type = loaded.by_type
    if prune and not by_type:
        raise SyncInputError("the catalog is empty (or holds only private items): refusing to archive every "
                             "media object in the portal")
    sync = _Sync(catalog, objects, app, public_url, progress, record_ids, first_sync)
    sync.report.withheld = loaded.withheld
    present = {t.value for t in by_type}
    # The recorded ids are the configured portal's: another portal's turned-private objects
    # go by prune, which finds them by hs_external_id.
    archiving = {t.value for t in loaded.to_archive} if record_ids else set()
    definitions = sync.object_types([t for t in MEDIA_TYPES if prune or t in present | archiving], present)
    for media_type in MEDIA_TYPES:
        if media_type in present:
            sync.upsert_type(media_type, definitions[media_type], by_type[MediaType(media_type)])
        if media_type in archiving:
            sync.archive_private(media_type, definitions.get(media_type), loaded.to_archive[MediaType(media_type)])
    if prune:
        for media_type, definition in definitions.items():
            keep = {i.external_id for i in by_type.get(MediaType(media_type), [])}
            sync.prune_type(media_type, definition, keep)
    return sync.report


def plan_sync(catalog: CatalogStore, app_id: int, public_url: str, *, prune: bool = False,
              version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> list[ApiCall]:
    """The requests a run would send to a portal holding none of the catalog yet: the
    look-ups, then at most one upsert per 100 items (a real run sends only what changed)."""
    loaded = _load_catalog(catalog)
    by_type = loaded.by_type
    present = [t for t in MEDIA_TYPES if MediaType(t) in by_type]
    archiving = [t for t in MEDIA_TYPES if MediaType(t) in loaded.to_archive]
    calls = [get_object_definition(app_id, t, version) for t in MEDIA_TYPES
             if prune or t in present or t in archiving]
    for media_type in present:
        object_type = f"{media_type}-object-type"
        for chunk in _chunks(by_type[MediaType(media_type)], BATCH_LIMIT):
            calls.append(crm_objects_api.batch_read(object_type, [i.external_id for i in chunk],
                                                    list(SYNCED_PROPERTIES), ID_PROPERTY))
            calls.append(crm_objects_api.batch_upsert(object_type, [
                {"idProperty": ID_PROPERTY, "id": i.external_id,
                 "properties": creation_properties(media_object_properties(i, public_url))} for i in chunk]))
    for media_type in archiving:
        for chunk in _chunks(loaded.to_archive[MediaType(media_type)], BATCH_LIMIT):
            calls.append(crm_objects_api.batch_archive(f"{media_type}-object-type",
                                                       [i.hubspot_object_id for i in chunk]))
    if prune:
        for media_type in MEDIA_TYPES:
            calls.append(crm_objects_api.list_page(f"{media_type}-object-type", [ID_PROPERTY]))
    return calls
