"""One finding of a manifest check: what it is about, the rule, what is wrong; errors stop, warnings inform."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    subject: str  # "job 'router_z1'", "instance group 'bosh' job 'nats'", "manifest"
    rule: str
    detail: str
    warning: bool = False

    def __str__(self) -> str:
        prefix = "warning: " if self.warning else ""
        return f"{prefix}{self.subject}: {self.detail} (rule: {self.rule})"
