"""Fault injection, reproducible with a seed: what a flaky cloud and a busy network do to a client."""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass

# (name, weight). "drop_after" executes the command, then drops the connection: the outcome is unknown to the
# client, which is exactly the case a careful client must handle without blindly repeating a mutation.
FAULTS = [
    ("http_530", 3),
    ("http_503", 1),
    ("throttle_429", 3),
    ("drop_before", 2),
    ("drop_after", 1),
    ("slow", 2),
    ("job_failure", 3),
]


@dataclass(frozen=True)
class Fault:
    name: str
    slow_seconds: float = 0.0


class FaultInjector:
    def __init__(self, rate: float = 0.0, seed: int | None = None) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        self.rate = rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self, is_async: bool) -> Fault | None:
        """Maybe pick a fault for one API request."""
        if self.rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            names = [n for n, _ in FAULTS if is_async or n != "job_failure"]
            weights = [w for n, w in FAULTS if is_async or n != "job_failure"]
            name = self._rng.choices(names, weights)[0]
            return Fault(name, slow_seconds=self._rng.uniform(0.5, 2.0) if name == "slow" else 0.0)
