"""The state dir: shareable state apart from 0600 secrets, atomic writes, one run at a time, relative paths."""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import stat
import time
from pathlib import Path

import pytest

from inception.state import StateDir, StateError, StateLocked


def test_records_survive_reload_in_creation_order(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "st").load("dev")
    state.begin("sg:a", "security_group", "a")
    state.record("kp:x", "keypair", "x", "x", fingerprint="aa:bb")
    state.record("sg:a", "security_group", "id-a", "a")
    again = StateDir(tmp_path / "st").load("dev")
    assert [(r.key, r.status, r.id) for r in again.resources] == [("sg:a", "ready", "id-a"), ("kp:x", "ready", "x")]
    assert again.get("kp:x").attrs == {"fingerprint": "aa:bb"}


def test_state_file_is_shareable_and_secrets_are_private(tmp_path: Path) -> None:
    directory = StateDir(tmp_path / "st")
    state = directory.load("dev")
    state.record("vm:x", "vm", "id-1", "x")
    secret = directory.write_secret("key.pem", "PRIVATE KEY DATA")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory.path / "state.json").stat().st_mode) == 0o644
    text = (directory.path / "state.json").read_text()
    assert "PRIVATE" not in text and str(tmp_path) not in text
    assert directory.relative(secret) == "secrets/key.pem"


def test_another_environments_state_is_refused(tmp_path: Path) -> None:
    StateDir(tmp_path / "st").load("dev").record("vm:x", "vm", "1")
    with pytest.raises(StateError, match="belongs to environment 'dev'"):
        StateDir(tmp_path / "st").load("prod")


def test_corrupt_state_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "st").mkdir()
    (tmp_path / "st" / "state.json").write_text("{not json")
    with pytest.raises(StateError, match="unreadable.*cleanup-leftovers"):
        StateDir(tmp_path / "st").load("dev")


def _hold_lock(path: str, ready: "multiprocessing.synchronize.Event") -> None:
    StateDir(path).lock().acquire()
    ready.set()
    signal.pause()


def test_lock_stops_a_second_run_and_dies_with_its_holder(tmp_path: Path) -> None:
    ready = multiprocessing.get_context("fork").Event()
    holder = multiprocessing.get_context("fork").Process(target=_hold_lock, args=(str(tmp_path), ready))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(StateLocked, match=f"pid {holder.pid}"):
            StateDir(tmp_path).lock().acquire()
    finally:
        os.kill(holder.pid, signal.SIGKILL)   # no cleanup: the kernel drops the flock
        holder.join()
    with StateDir(tmp_path).lock():
        pass


def _write_forever(path: str) -> None:
    state = StateDir(path).load("dev")
    i = 0
    while True:
        i += 1
        state.record(f"r:{i % 50}", "vm", str(i), "x" * 200)


def test_writes_are_atomic_under_sigkill(tmp_path: Path) -> None:
    """Kill a writer many times mid-stream: state.json is always complete, valid JSON."""
    for _ in range(8):
        writer = multiprocessing.get_context("fork").Process(target=_write_forever, args=(str(tmp_path),))
        writer.start()
        time.sleep(0.05)
        os.kill(writer.pid, signal.SIGKILL)
        writer.join()
        data = json.loads((tmp_path / "state.json").read_text())
        assert data["environment"] == "dev" and data["resources"]
