"""The one HubSpot client shared by the scripts and the server.

``client.HubSpotClient`` sends ``calls.ApiCall`` requests (base URL, auth per endpoint
family, timeouts, limiter, retries); the family modules (``media_bridge``, ``crm``,
``source_code``, ``media_events``) build those requests and wrap them in typed helpers;
``media_sync``, ``media_type_setup``, ``domain_registration``, ``module_push`` and
``event_check`` hold what the scripts do, so it can be used and tested without a terminal.
``answers`` checks every answer against the shape the code reads; ``paging`` makes sure a
paged read ends."""
from .client import HubSpotClient
from .config import HubSpotConfig, HubSpotConfigError, load_hubspot_config
from .errors import HubSpotError

__all__ = ["HubSpotClient", "HubSpotConfig", "HubSpotConfigError", "HubSpotError", "load_hubspot_config"]
