"""The simulator's shared state: what command handlers, jobs and the extra HTTP routes work with.

`SimContext` holds the options, the API spec, the store, timing, faults and the job runner, and seeds or loads the
state. The API front door (`simulator/app.py`) builds on it; everything else takes a `SimContext`, so nothing below
the front door imports it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .faults import FaultInjector
from .jobs import JobRunner
from .seed import seed
from .spec import Spec, load_spec
from .store import Store
from .timing import Timing


@dataclass
class Options:
    state_dir: Path | None = None
    api_key: str | None = None
    secret_key: str | None = None
    latency: str = "instant"
    time_scale: float = 1.0
    fault_rate: float = 0.0
    seed: int | None = None
    host_vm_device_dir: Path | None = None
    seed_file: Path | None = None
    max_page_size: int = 500


class SimContext:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.spec: Spec = load_spec()
        self.store = Store(options.state_dir)
        self.timing = Timing(options.latency, options.time_scale)
        self.faults = FaultInjector(options.fault_rate, options.seed)
        self.jobs = JobRunner(self.store, self.timing)
        self.max_page_size = options.max_page_size
        self.base_url = ""            # set by the HTTP server once it listens
        self._load_or_seed()

    def _load_or_seed(self) -> None:
        if self.options.state_dir is not None:
            self.options.state_dir.mkdir(parents=True, exist_ok=True)
        if self.store.load():
            self.jobs.fail_orphans()
        else:
            seed(self.store, self.options.seed_file)
        self.store.save()

    def account(self, name: str | None = None) -> dict[str, Any]:
        """An account by name; without one, the first (the seeded root admin, `admin`)."""
        return self.store.first("account", name=name) if name else self.store.first("account")
