"""The embedded CloudStack: a simulator started in the state dir when no CloudStack is configured.

Its own state lives in `<state dir>/simulator/` (resources survive between commands: `up`, `status` and
`destroy` each start it again on the same data). Its API keys are generated there, in a 0600 file."""
from __future__ import annotations

from pathlib import Path

from inception.cloud.context import Target

SUBDIR = "simulator"


class EmbeddedCloud:
    """Start/stop the simulator for one command; `target` says how to reach it."""

    def __init__(self, state_dir: Path, **options: object):
        from simulator.process import RunningSimulator

        self.sim = RunningSimulator(state_dir / SUBDIR, dict(options))

    def start(self) -> Target:
        self.sim.start()
        return Target("embedded", self.sim.endpoint, self.sim.api_key, self.sim.secret_key)

    def stop(self) -> None:
        self.sim.stop()
