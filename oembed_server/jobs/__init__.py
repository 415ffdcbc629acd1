"""Background work: one durable job queue and the worker that drains it.

Engagement events and (later) per-portal provisioning are both jobs here, so there is one
place that claims work, retries it with backoff and parks what retrying cannot fix.
"""
