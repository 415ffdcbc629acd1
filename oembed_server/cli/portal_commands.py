"""``oembed-server portals ...``: list, inspect, resync, re-push, disconnect and move installed
portals, and make, list and revoke install invites. A thin click layer over the portals
package; every command takes --json."""
from __future__ import annotations

import json
import logging

import click
from flask.cli import with_appcontext

from oembed_server.domain.invite_rules import DEFAULT_INVITE_DAYS, MAX_INVITE_DAYS
from oembed_server.storage.portal_store import PortalStore
from oembed_server.usecases.install_invites import InviteRefused, issue_invite, list_invites, move_portal, revoke_invite
from oembed_server.usecases.portal_overview import list_portals, show_portal
from oembed_server.usecases.provisioning import queue_push, queue_sync
from oembed_server.web.app_state import current_catalog, current_settings

log = logging.getLogger(__name__)
json_option = click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON result.")


def _store() -> PortalStore:
    return PortalStore(current_catalog().engine, current_settings().stable_secret_key)


def _emit(as_json: bool, data, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=1))
    else:
        for line in lines:
            click.echo(line)


def _targets(store: PortalStore, portal_id: int | None, all_portals: bool) -> list[int]:
    if all_portals == (portal_id is not None):
        raise click.UsageError("give a portal id or --all (not both)")
    if portal_id is None:  # then --all
        with store.engine.connect() as conn:
            return store.connected_in(conn)
    record = store.get(portal_id)
    if record is None:
        raise click.ClickException(f"portal {portal_id} is not installed")
    if not record.connected:
        raise click.ClickException(f"portal {portal_id} is disconnected: it must install the app again")
    return [portal_id]


@click.group("portals")
def portals_group() -> None:
    """HubSpot portals that installed the app by OAuth."""


@portals_group.command("list")
@json_option
@with_appcontext
def list_command(as_json: bool) -> None:
    """Every installed portal: library, token state, connected since, last sync, queued and failed jobs."""
    portals = list_portals(_store())
    lines = [f"{p['portalId']}\tlibrary={p['library']}\t{p['tokenState']}\tsince {p['connectedSince']}\t"
             f"last sync {p['lastSync'] or 'never'}\tqueued {p['queuedJobs']}\tfailed {p['failedJobs']}"
             for p in portals] or ["No portal has installed the app yet."]
    _emit(as_json, {"portals": portals}, lines)


@portals_group.command("show")
@click.argument("portal_id", type=click.IntRange(1))
@json_option
@with_appcontext
def show_command(portal_id: int, as_json: bool) -> None:
    """One portal and where each provisioning step stands."""
    info = show_portal(_store(), portal_id)
    if info is None:
        raise click.ClickException(f"portal {portal_id} is not installed")
    lines = [f"{k}: {v}" for k, v in info.items() if k != "steps"]
    lines += [f"step {s['step']}: {s['state']}" + (f" ({s['detail']})" if s["detail"] else "") for s in info["steps"]]
    _emit(as_json, info, lines)


def _queue_command(kind: str, queue_fn, portal_id: int | None, all_portals: bool, as_json: bool) -> None:
    store = _store()
    targets = _targets(store, portal_id, all_portals)
    with store.engine.begin() as conn:
        added = queue_fn(conn, targets)
    _emit(as_json, {"queued": added, "portals": targets},
          [f"Queued {kind} for {added} portal(s) ({len(targets) - added} already had one waiting)."])


@portals_group.command("resync")
@click.argument("portal_id", type=click.IntRange(1), required=False)
@click.option("--all", "all_portals", is_flag=True, help="Every connected portal.")
@json_option
@with_appcontext
def resync_command(portal_id: int | None, all_portals: bool, as_json: bool) -> None:
    """Queue a catalog sync (the worker sends it)."""
    _queue_command("a sync", queue_sync, portal_id, all_portals, as_json)


@portals_group.command("push-modules")
@click.argument("portal_id", type=click.IntRange(1), required=False)
@click.option("--all", "all_portals", is_flag=True, help="Every connected portal.")
@json_option
@with_appcontext
def push_modules_command(portal_id: int | None, all_portals: bool, as_json: bool) -> None:
    """Queue a push of the media_embed and media_email modules."""
    _queue_command("a module push", queue_push, portal_id, all_portals, as_json)


@portals_group.command("disconnect")
@click.argument("portal_id", type=click.IntRange(1))
@click.option("--uninstall", is_flag=True,
              help="Also remove the app from the portal in HubSpot (its admins get an email); queued jobs are "
                   "dropped and its visitor data deleted after the retention period.")
@json_option
@with_appcontext
def disconnect_command(portal_id: int, uninstall: bool, as_json: bool) -> None:
    """Forget the portal's tokens; its jobs are kept (held) until it installs again. With
    --uninstall: the app leaves the portal in HubSpot too."""
    store = _store()
    record = store.get(portal_id)
    if record is None:
        raise click.ClickException(f"portal {portal_id} is not installed")
    if uninstall:
        _uninstall(store, portal_id, record.connected, as_json)
        return
    changed = store.disconnect(portal_id, "disconnected by an operator")
    _emit(as_json, {"portalId": portal_id, "disconnected": changed},
          [f"Portal {portal_id}: tokens forgotten." if changed else f"Portal {portal_id} was already disconnected."])


def _uninstall(store: PortalStore, portal_id: int, connected: bool, as_json: bool) -> None:
    from oembed_server.hubspot.api_error import HubSpotError
    from oembed_server.hubspot.rate_limiter import RateLimiter
    from oembed_server.usecases.app_uninstalls import uninstall_portal
    from oembed_server.usecases.portal_clients import PortalClients

    if not connected:
        raise click.ClickException(f"portal {portal_id} is disconnected: without its tokens HubSpot cannot be asked "
                                   "to remove the app; the portal's admin can uninstall it in HubSpot")
    settings = current_settings()
    config = settings.hubspot
    portals = PortalClients(config, store.engine, stable_secret_key=settings.stable_secret_key,
                            limiter=RateLimiter(config.rate_limit, config.rate_interval_s))
    client = portals.client_for(portal_id)
    if client is None:
        raise click.ClickException(portals.missing_reason(portal_id))
    try:
        result = uninstall_portal(store.engine, client, portal_id, settings)
    except HubSpotError as exc:
        raise click.ClickException(f"HubSpot did not remove the app from portal {portal_id}, nothing changed "
                                   f"here: {exc}") from None
    log.info("portal %s: app uninstalled by an operator (%d queued job(s) dropped)", portal_id, result.dropped_jobs)
    _emit(as_json, {"portalId": portal_id, "uninstalled": True, "droppedJobs": result.dropped_jobs,
                    "visitorDataDeletedAfterDays": settings.events_retention_days},
          [f"Portal {portal_id}: the app was removed in HubSpot; tokens forgotten, {result.dropped_jobs} queued "
           f"job(s) dropped, visitor data deleted after {settings.events_retention_days:g} day(s)."])


@portals_group.command("invite")
@click.argument("library")
@click.option("--days", default=float(DEFAULT_INVITE_DAYS), show_default=True, type=float,
              help=f"How long the link works (more than 0, at most {MAX_INVITE_DAYS}).")
@click.option("--uses", default=1, show_default=True, type=int, help="How many installs it allows.")
@json_option
@with_appcontext
def invite_command(library: str, days: float, uses: int, as_json: bool) -> None:
    """Print an install link that connects a portal to LIBRARY (expiring, single use unless --uses)."""
    try:
        made = issue_invite(current_catalog().engine, current_settings().public_url, library, days, uses, "cli")
    except InviteRefused as exc:
        raise click.ClickException(str(exc)) from None
    log.info("invite %s created for library %s by cli (%s use(s), until %s)", made["id"], library, uses,
             made["expiresAt"])
    _emit(as_json, made, [made["link"]])


@portals_group.command("invites")
@json_option
@with_appcontext
def invites_command(as_json: bool) -> None:
    """Every invite: id, library, state (open, used, expired, revoked), uses and expiry."""
    invites = list_invites(current_catalog().engine)
    lines = [f"{i['id']}\tlibrary={i['library']}\t{i['state']}\tuses {i['uses']}/{i['maxUses']}\t"
             f"expires {i['expiresAt']}\tby {i['createdBy']}" for i in invites] or ["No invite was made yet."]
    _emit(as_json, {"invites": invites}, lines)


@portals_group.command("invite-revoke")
@click.argument("invite_id")
@json_option
@with_appcontext
def invite_revoke_command(invite_id: str, as_json: bool) -> None:
    """Revoke an invite: its link stops working at once (installs made with it stay)."""
    try:
        revoked = revoke_invite(current_catalog().engine, invite_id)
    except InviteRefused as exc:
        raise click.ClickException(str(exc)) from None
    if revoked:
        log.info("invite %s revoked by cli", invite_id)
    _emit(as_json, {"id": invite_id, "revoked": revoked},
          [f"Invite {invite_id} revoked." if revoked else f"Invite {invite_id} was already revoked."])


@portals_group.command("move")
@click.argument("portal_id", type=click.IntRange(1))
@click.argument("library")
@json_option
@with_appcontext
def move_command(portal_id: int, library: str, as_json: bool) -> None:
    """Put an installed portal on another LIBRARY (its media objects follow at the next sync)."""
    try:
        moved = move_portal(_store(), portal_id, library)
    except InviteRefused as exc:
        raise click.ClickException(str(exc)) from None
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    if moved:
        log.info("portal %s moved to library %s by cli", portal_id, library)
    _emit(as_json, {"portalId": portal_id, "library": library, "moved": moved},
          [f"Portal {portal_id} moved to library {library}; a sync is queued." if moved
           else f"Portal {portal_id} already was on library {library}."])


@portals_group.command("domains")
@click.argument("portal_id", type=int)
@click.argument("action", type=click.Choice(["add", "remove", "list"]))
@click.argument("host", required=False)
@json_option
@with_appcontext
def domains_command(portal_id: int, action: str, host: str | None, as_json: bool) -> None:
    """The sites whose pages may put a contact on PORTAL_ID's timeline: `add HOST`, `remove HOST`
    (the operator's own list) or `list` (with the portal's HubSpot domains, read on each sync)."""
    from oembed_server.domain.framing_hosts import HUBSPOT_HOST_SUFFIXES, host_problem, normalise_host
    from oembed_server.storage import portal_hosts

    configured = current_settings().hubspot.portal_id
    if _store().get(portal_id) is None and portal_id != configured:
        raise click.ClickException(f"portal {portal_id} is neither installed nor HUBSPOT_PORTAL_ID")
    engine = current_catalog().engine
    if action == "list":
        if host is not None:
            raise click.UsageError("list takes no HOST")
        with engine.connect() as conn:
            listed = portal_hosts.listed_hosts(conn, portal_id)
        _emit(as_json, {"portalId": portal_id, "hosts": [{"host": h, "source": s} for h, s in listed],
                        "hubspotHosts": [f"*.{suffix}" for suffix in HUBSPOT_HOST_SUFFIXES]},
              [f"{h}\t{s}" for h, s in listed]
              + [f"*.{suffix}\thubspot's own (every portal)" for suffix in HUBSPOT_HOST_SUFFIXES])
        return
    if host is None:
        raise click.UsageError(f"{action} needs a HOST, e.g. www.example.com")
    name = normalise_host(host)
    if problem := host_problem(name):
        raise click.BadParameter(problem, param_hint="HOST")
    with engine.begin() as conn:
        if action == "add":
            changed = portal_hosts.add_operator_host(conn, portal_id, name)
            line = (f"Portal {portal_id}: {name} added." if changed
                    else f"Portal {portal_id}: {name} was already listed.")
        else:
            changed = portal_hosts.remove_operator_host(conn, portal_id, name)
            line = (f"Portal {portal_id}: {name} removed." if changed
                    else f"Portal {portal_id}: {name} is not on the operator's list.")
    _emit(as_json, {"portalId": portal_id, "host": name, "action": action, "changed": changed}, [line])
