"""Sensible defaults among what the cloud offers; the wizard marks them, `up` uses them when the config is
silent."""
from __future__ import annotations

from typing import Any

# The inception VM runs create-env (compiles the CPI, renders templates) and copies stemcells: 1 CPU / 1 GB works,
# 2 GB is comfortable.
MIN_CPUS, MIN_MEMORY_MB, COMFORTABLE_MEMORY_MB = 1, 1024, 2048


def offering_size(offering: dict[str, Any]) -> tuple[int, int]:
    return int(offering.get("cpunumber") or 0), int(offering.get("memory") or 0)


def default_offering(offerings: list[dict[str, Any]]) -> dict[str, Any]:
    """The smallest fixed offering with at least 2 GB, else the largest fixed one with at least 1 CPU/1 GB."""
    fixed = sorted((o for o in offerings if not o.get("iscustomized") and offering_size(o)[0] >= MIN_CPUS
                    and offering_size(o)[1] >= MIN_MEMORY_MB), key=offering_size)
    if not fixed:
        raise LookupError("no compute offering with at least 1 CPU and 1 GB of memory")
    comfortable = [o for o in fixed if offering_size(o)[1] >= COMFORTABLE_MEMORY_MB]
    return comfortable[0] if comfortable else fixed[-1]


def is_ubuntu(template: dict[str, Any]) -> bool:
    return "ubuntu" in f"{template.get('name', '')} {template.get('ostypename', '')}".lower()


def default_template(templates: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest ready Ubuntu template, featured ones first."""
    ready = [t for t in templates if is_ubuntu(t) and t.get("isready", True)]
    ready.sort(key=lambda t: (bool(t.get("isfeatured")), t.get("name", "")), reverse=True)
    return ready[0] if ready else None
