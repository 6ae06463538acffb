"""Fixtures every test package shares: a running simulator (real HTTP, real process). And a rule for CI: with
INCEPTION_TESTS_NO_SKIP=1 (scripts/test.sh sets it) a skipped test fails, so a missing dependency cannot hide."""
from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.process import RunningSimulator


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("INCEPTION_TESTS_NO_SKIP") == "1":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped where nothing may be ({reason}): install what it needs (scripts/test.sh)"


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
