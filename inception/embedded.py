"""The embedded CloudStack: a simulator started in the state dir when no CloudStack is configured.

Its own state lives in `<state dir>/simulator/` (resources survive between commands: `up`, `status` and
`destroy` each start it again on the same data). Its API keys are generated there, in a 0600 file.

This module is the only way the inception tool reaches the simulator package: the demo (`up` with no CloudStack
configured), `cpi-check` without a config and `tour` all start it through `EmbeddedCloud`."""
from __future__ import annotations

from pathlib import Path

from inception.cloud.context import Target

SUBDIR = "simulator"


class EmbeddedCloud:
    """Start/stop the simulator for one command; `target` says how to reach it."""

    def __init__(self, directory: Path, **options: object):
        """`directory` holds the simulator's data: `<state dir>/simulator` for an environment."""
        from simulator.process import RunningSimulator  # only the commands that start it pay for the import

        self.sim = RunningSimulator(directory, dict(options))

    def start(self) -> Target:
        self.sim.start()
        return Target("embedded", self.sim.endpoint, self.sim.api_key, self.sim.secret_key)

    def stop(self) -> None:
        self.sim.stop()
