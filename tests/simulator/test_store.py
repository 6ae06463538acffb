"""The state file: concurrent saves (API calls, job timers, download threads) never leave an older state on disk."""
from __future__ import annotations

import json
import os
import threading

from simulator import store as store_module
from simulator.store import STATE_FILE, Store


def test_a_save_racing_a_newer_one_never_leaves_the_older_state_on_disk(tmp_path, monkeypatch):
    db = Store(tmp_path)
    db.add("zone", {"id": "z", "name": "old"})
    newer_saved, first_snapshot_taken = threading.Event(), threading.Event()
    real_replace = os.replace

    def slow_first_replace(src, dst):
        if not first_snapshot_taken.is_set():   # the first save has its snapshot: let a newer save try to overtake
            first_snapshot_taken.set()
            newer_saved.wait(0.5)
        real_replace(src, dst)

    monkeypatch.setattr(store_module.os, "replace", slow_first_replace)
    first = threading.Thread(target=db.save)
    first.start()
    assert first_snapshot_taken.wait(5)

    def newer() -> None:
        with db.lock:
            db.get("zone", "z")["name"] = "new"
            db.save()
        newer_saved.set()
    second = threading.Thread(target=newer)
    second.start()
    first.join(5)
    second.join(5)
    saved = json.loads((tmp_path / STATE_FILE).read_text())
    assert saved["kinds"]["zone"]["z"]["name"] == "new"
