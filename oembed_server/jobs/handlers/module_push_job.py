"""Per-portal module push (job kind provision.push_modules): media_embed and media_email
uploaded to the portal's design manager with the push_module library code, which skips
files the portal already holds unchanged. Refuses (dead letter) a module folder that is
incomplete or that HubSpot's validator rejects: retrying would not change the files.
"""
from __future__ import annotations

from oembed_server.hubspot.source_code_api import SourceCode
from oembed_server.jobs.handlers.job_context import JobContext
from oembed_server.jobs.job_outcomes import GiveUp
from oembed_server.storage.job_queue import Job
from oembed_server.storage.provisioning_marks import StoredPushRecord
from oembed_server.usecases import provisioning
from oembed_server.usecases.module_push import (
    ModuleFolderError,
    ModuleValidationError,
    collect_module_files,
    push_module,
)

KINDS = (provisioning.KIND_PUSH_MODULES,)


def run(job: Job, ctx: JobContext) -> None:
    source = SourceCode(ctx.client)
    record = StoredPushRecord(ctx.catalog.engine)
    try:
        for module in provisioning.MODULES:
            files = collect_module_files(provisioning.modules_dir(ctx.settings), module, provisioning.MODULES_DEST)
            push_module(source, files, provisioning.MODULES_ENVIRONMENT, record, job.portal_id)
    except (ModuleFolderError, ModuleValidationError) as exc:
        raise GiveUp(str(exc)) from None
