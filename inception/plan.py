"""`inception plan`: what `up` would create, reuse, adopt, replace, delete or refuse — read-only.

Every step looks its resource up exactly as `up` does (runner.assess), in dependency order, so a child of
something that does not exist yet is simply "create". No mutating API call is made.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from inception.cloud import kinds
from inception.cloud.context import CloudContext
from inception.cloud.runner import assess, ordered
from inception.cloud.steps import Step
from inception.config.loader import ConfigError

ACTIONS = ("create", "reuse", "adopt", "use", "replace", "delete", "refuse")


@dataclass
class PlanRow:
    key: str
    kind: str
    label: str
    action: str
    detail: str = ""
    id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    rows: list[PlanRow]

    @property
    def refusals(self) -> list[PlanRow]:
        return [r for r in self.rows if r.action == "refuse"]

    def counts(self) -> dict[str, int]:
        return {a: n for a in ACTIONS if (n := sum(r.action == a for r in self.rows))}


def make_plan(ctx: CloudContext, steps: list[Step]) -> Plan:
    rows: list[PlanRow] = []
    for step in ordered(steps):
        try:
            found = assess(ctx, step)
        except ConfigError as exc:
            rows.append(PlanRow(step.key, step.kind, step.label, "refuse", "; ".join(map(str, exc.problems))))
            ctx.resolve(step.key, None)
            continue
        usable = found.live if found.action in ("reuse", "adopt", "use") else None
        ctx.resolve(step.key, usable)
        rid = step.resource_id(found.live) if found.live is not None else None
        detail = found.detail + (f" (fix: {found.fix})" if found.fix else "")
        rows.append(PlanRow(step.key, step.kind, step.label, found.action, detail, rid))
    wanted = {s.key for s in steps}
    for record in reversed(ctx.state.resources):
        if record.key not in wanted:
            label = f"{kinds.KINDS[record.kind].label} {record.name or record.key}"
            action, detail = ("delete", "no longer in the config") if record.owned else \
                ("delete", "no longer in the config; forgotten, not deleted (not created here)")
            rows.append(PlanRow(record.key, record.kind, label, action, detail, record.id))
    return Plan(rows)
