"""Fixtures every test package shares: a running simulator (real HTTP, real process)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.process import RunningSimulator


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    """One simulator for the whole session, instant latency, no faults. Tests must not assume it is empty:
    create what you need and look only at what you created."""
    running = RunningSimulator(tmp_path_factory.mktemp("sim-session")).start()
    yield running
    running.stop()


@pytest.fixture
def sim_factory(tmp_path: Path) -> Iterator[Callable[..., RunningSimulator]]:
    """Start simulators with options (latency, time_scale, fault_rate, seed, host_vm_device_dir, state_dir...)."""
    started: list[RunningSimulator] = []

    def start(**options: Any) -> RunningSimulator:
        state_dir = Path(options.pop("state_dir", tmp_path / f"sim-{len(started)}"))
        running = RunningSimulator(state_dir, options).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
