"""How long things take: nothing in `instant` mode, cloud-like durations in `realistic` mode, times a scale."""
from __future__ import annotations

import time

# Seconds a real CloudStack typically needs (KVM, small templates), per operation.
REALISTIC = {
    "api": 0.05,              # a synchronous API call
    "list": 0.02,             # a list call
    "deploy": 60.0,
    "start": 30.0,
    "stop": 20.0,
    "reboot": 30.0,
    "destroy": 10.0,
    "expunge": 10.0,
    "create_volume": 2.0,
    "attach": 5.0,
    "detach": 5.0,
    "resize": 5.0,
    "snapshot": 30.0,
    "create_template": 60.0,
    "template_download": 180.0,
    "copy_template": 120.0,
    "delete_template": 5.0,
    "associate_ip": 3.0,
    "network_rule": 2.0,
    "tags": 0.5,
    "job": 1.0,
}


class Timing:
    def __init__(self, latency: str = "instant", time_scale: float = 1.0) -> None:
        if latency not in ("instant", "realistic"):
            raise ValueError(f"latency must be 'instant' or 'realistic', not {latency!r}")
        if time_scale < 0:
            raise ValueError("time scale must not be negative")
        self.latency = latency
        self.time_scale = time_scale

    @property
    def instant(self) -> bool:
        return self.latency == "instant" or self.time_scale == 0

    def duration(self, operation: str) -> float:
        if self.instant:
            return 0.0
        return REALISTIC.get(operation, REALISTIC["job"]) * self.time_scale

    def pause(self, operation: str) -> None:
        seconds = self.duration(operation)
        if seconds > 0:
            time.sleep(seconds)
