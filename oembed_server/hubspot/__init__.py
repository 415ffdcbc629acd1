"""Outbound HTTP to HubSpot, and nothing else: no Flask, no database (import-linter holds
it to that).

``client.HubSpotClient`` sends ``api_call.ApiCall`` requests (base URL, auth per endpoint
family, timeouts, ``rate_limiter``, ``retry_policy``, ``token_refresh``); the API modules
(``media_bridge_api``, ``crm_objects_api``, ``source_code_api``, ``media_events_api``,
``oauth_api``) build those requests and wrap them in typed helpers; ``response_shapes``
checks every answer against the shape the code reads; ``paging`` makes sure a paged read
ends. What the scripts and the worker do with these calls lives in ``usecases``."""
