"""What the emulator answers, in the shapes HubSpot's published response schemas give them.

The routes keep their own small records (a property as its definition, a domain as its
endpoints); these functions dress a record in every field the spec's schema requires, with
the values HubSpot gives a media object type, so the client is tested on real answer shapes.
spec_check.py records any answer that still differs."""
from __future__ import annotations

import time

GROUP = "media_information"


def millis() -> int:
    return int(time.time() * 1000)


def _option(option: dict, order: int) -> dict:
    return {"description": "", "displayOrder": order, "doubleData": 0.0, "hidden": False, "readOnly": False} | {
        k: v for k, v in option.items() if k in ("label", "value", "description", "displayOrder", "hidden")}


def property_summary(prop: dict) -> dict:
    """One result of GET .../properties/{objectType} (CollectionResponsePropertyNoPaging)."""
    hubspot_defined = prop["name"].startswith("hs_")
    read_only = bool((prop.get("modificationMetadata") or {}).get("readOnlyValue"))
    return {"description": "", "hidden": False, "hasUniqueValue": False, "displayOrder": -1, "formField": False} | {
        k: v for k, v in prop.items() if k != "options"} | {
        "options": [_option(o, n) for n, o in enumerate(prop.get("options") or [])],
        "hubspotDefined": hubspot_defined,
        "modificationMetadata": {"archivable": not hubspot_defined, "readOnlyDefinition": hubspot_defined,
                                 "readOnlyValue": read_only}}


def full_property(prop: dict, app_id: int, portal_id: int) -> dict:
    """A property as POST/PATCH .../properties answer it (the spec's Property)."""
    read_only = bool((prop.get("modificationMetadata") or {}).get("readOnlyValue"))
    hubspot_defined = prop["name"].startswith("hs_")
    stamp = prop.get("createdAt") if isinstance(prop.get("createdAt"), int) else millis()
    return {
        "allowedObjectTypes": [], "calculated": False, "canArchive": not hubspot_defined, "canRestore": False,
        "createdAt": stamp, "createdUserId": 0, "currencyPropertyName": "", "dataSensitivity": "none",
        "dateDisplayHint": "absolute", "deleted": False, "description": prop.get("description") or "",
        "displayMode": "current_value", "displayOrder": prop.get("displayOrder", -1),
        "enforceMultivalueUniqueness": False, "externalOptions": False, "externalOptionsReferenceType": "",
        "favorited": False, "favoritedOrder": -1, "fieldType": prop["fieldType"],
        "formField": bool(prop.get("formField")),
        "fromUserId": 0, "groupName": prop["groupName"], "hasUniqueValue": bool(prop.get("hasUniqueValue")),
        "hidden": bool(prop.get("hidden")), "hubspotDefined": hubspot_defined, "isCustomizedDefault": False,
        "isMultiValued": False, "isPartial": False, "label": prop["label"], "mutableDefinitionNotDeletable": False,
        "name": prop["name"], "numberDisplayHint": "unformatted", "optionSortStrategy": "DISPLAY_ORDER",
        "options": [_option(o, n) for n, o in enumerate(prop.get("options") or [])], "optionsAreMutable": True,
        "owningAppId": app_id, "portalId": portal_id, "readOnlyDefinition": hubspot_defined, "readOnlyValue": read_only,
        "referencedObjectType": "MEDIA_BRIDGE", "searchTextAnalysisMode": "NONE", "searchableInGlobalSearch": False,
        "sensitiveDataCategories": [], "showCurrencySymbol": False, "textDisplayHint": "unformatted_single_line",
        "type": prop["type"], "updatedAt": millis(),
    }


def property_group(portal_id: int, view: bool = False) -> dict:
    group = {"name": GROUP, "displayName": "Media information", "displayOrder": 0, "fulcrumPortalId": portal_id,
             "fulcrumTimestamp": 0, "hubspotDefined": True}
    return group if view else group | {"deleted": False, "portalId": portal_id}


def object_type(definition: dict, required: tuple[str, ...], app_id: int) -> dict:
    """The spec's InboundDbObjectType for a media object type."""
    type_id = definition["objectTypeId"]
    return {
        "allowsSensitiveProperties": False, "createDatePropertyName": "hs_createdate",
        "defaultSearchPropertyNames": ["hs_title"], "deleted": False,
        "fullyQualifiedName": definition["objectTypeName"], "hasCustomProperties": True,
        "hasDefaultProperties": True, "hasExternalObjectIds": True, "hasOwners": False, "hasPipelines": False,
        "id": int(type_id.split("-")[-1]), "indexedForFiltersAndReports": True, "integrationAppId": app_id,
        "lastModifiedPropertyName": "hs_lastmodifieddate", "metaType": "INTEGRATION", "metaTypeId": 2,
        "name": definition["objectTypeName"], "objectTypeId": type_id, "objectTypeIdString": type_id,
        "permissioningType": "ALL_OR_NONE", "pipelinePropertyName": "", "pipelineStagePropertyName": "",
        "requiredProperties": list(required), "restorable": False, "scopeMappings": [],
        "secondaryDisplayLabelPropertyNames": [],
    }


def property_definitions(definition: dict, props: list[dict], app_id: int, portal_id: int) -> list[dict]:
    return [{"objectTypeId": definition["objectTypeId"], "property": full_property(p, app_id, portal_id)}
            for p in props]


def object_definition(definition: dict, props: list[dict], app_id: int, portal_id: int) -> dict:
    """GET .../settings/object-definitions/{mediaType} (ObjectDefinitionResponse)."""
    return {"objectTypeId": definition["objectTypeId"], "objectTypeName": definition["objectTypeName"],
            "properties": property_definitions(definition, props, app_id, portal_id),
            "propertyGroups": [property_group(portal_id, view=True)]}


def created_object(definition: dict, props: list[dict], required: tuple[str, ...], app_id: int,
                   portal_id: int) -> dict:
    """One entry of POST .../settings/object-definitions' createdObjects."""
    return {"objectType": object_type(definition, required, app_id),
            "properties": property_definitions(definition, props, app_id, portal_id),
            "propertyGroups": [property_group(portal_id)]}


def schema(definition: dict, patched: dict, required: tuple[str, ...], portal_id: int) -> dict:
    """PATCH .../schemas/{objectType} (ObjectTypeDefinition)."""
    answer = {"id": definition["objectTypeId"].split("-")[-1], "objectTypeId": definition["objectTypeId"],
              "name": definition["objectTypeName"], "fullyQualifiedName": definition["objectTypeName"],
              "labels": {"singular": definition["mediaType"].title(), "plural": definition["mediaType"].title()},
              "allowsSensitiveProperties": False, "archived": False, "portalId": portal_id,
              "requiredProperties": list(required), "searchableProperties": ["hs_title"],
              "secondaryDisplayProperties": []}
    return answer | {k: v for k, v in patched.items() if k in answer or k in ("primaryDisplayProperty", "description")}


def oembed_domain(domain: dict) -> dict:
    """IntegratorOEmbedDomainModel: numeric ids and epoch milliseconds; 0 stands for "every
    portal" and for "not deleted", where the spec allows no null."""
    return domain | {"id": int(domain["id"]), "portalId": domain.get("portalId") or 0, "deletedAt": 0}


def event(kind: str, event_body: dict, media: dict, contact_id: int, portal_id: int, app_id: int) -> dict:
    """A v1 (or dated) event as HubSpot answers it: resolved ids and the object's coordinates."""
    answer = {k: v for k, v in event_body.items() if k not in ("id", "eventType", "contactUtk", "externalId",
                                                                "rawDataMap", "rawDataString", "derivedValues",
                                                                "_hsenc")}
    answer |= {"contactId": contact_id, "mediaBridgeId": media["id"], "mediaBridgeObjectTypeId": media["typeId"],
               "mediaBridgeObjectCoordinates": f"{portal_id}-{media['typeId']}-{media['id']}",
               "mediaName": event_body.get("mediaName") or media["title"], "portalId": portal_id,
               "providerId": app_id}
    if kind == "attention-span":
        derived = event_body.get("derivedValues") or {}
        spans = event_body["rawDataMap"]
        percent = derived.get("totalPercentPlayed",
                              round(100 * sum(1 for c in spans.values() if c) / len(spans), 2))
        answer |= {"totalPercentPlayed": percent, "percentRange": f"{int(percent) // 25 * 25}",
                   "rawData": event_body.get("rawDataString") or ";".join(f"{k}={v}" for k, v in spans.items())}
        if "totalSecondsPlayed" in derived:
            answer["totalSecondsPlayed"] = derived["totalSecondsPlayed"]
    return answer
