"""One handler module per family of job kinds; ``HANDLERS`` maps each kind to its function.

A handler does one job's work through the context it is given and returns, or raises a
``jobs.outcomes`` exception (or lets a HubSpotError through) to say why it could not.
"""
from __future__ import annotations

from typing import Callable

from ..queue import Job
from . import app_setup, catalog_sync, events, module_push
from .context import JobContext

Handler = Callable[[Job, JobContext], None]

HANDLERS: dict[str, Handler] = {kind: events.send_event for kind in events.KINDS}
for _module in (app_setup, module_push, catalog_sync):
    HANDLERS.update({kind: _module.run for kind in _module.KINDS})

__all__ = ["HANDLERS", "Handler", "JobContext"]
