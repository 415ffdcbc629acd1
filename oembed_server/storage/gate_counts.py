"""How often each item's lead capture gate was shown, submitted and skipped: counters only,
one row per item and form (nothing a viewer typed is ever stored)."""
from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oembed_server.storage.dialect_insert import dialect_insert
from oembed_server.storage.schema import gate_counts

KINDS = ("shown", "submitted", "skipped")


@dataclasses.dataclass(frozen=True)
class GateTotals:
    shown: int = 0
    submitted: int = 0
    skipped: int = 0

    @property
    def conversion_rate(self) -> float | None:
        """Submitted per shown, None before the gate was ever shown."""
        return self.submitted / self.shown if self.shown else None


def count(engine: Engine, external_id: str, form_id: str, kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"no gate count {kind!r}")
    column = gate_counts.c[kind]
    insert = dialect_insert(gate_counts, engine.dialect.name).values(
        external_id=external_id, form_id=form_id, **{kind: 1})
    with engine.begin() as conn:
        conn.execute(insert.on_conflict_do_update(index_elements=["external_id", "form_id"],
                                                  set_={kind: column + 1}))


def totals(engine: Engine, external_id: str) -> GateTotals:
    """The item's counts over all its forms."""
    query = sa.select(*(sa.func.coalesce(sa.func.sum(gate_counts.c[k]), 0) for k in KINDS)).where(
        gate_counts.c.external_id == external_id)
    with engine.connect() as conn:
        shown, submitted, skipped = conn.execute(query).one()
    return GateTotals(int(shown), int(submitted), int(skipped))
