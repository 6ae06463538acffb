"""The simulator's database: resources by kind, kept in memory and written atomically to the state dir.

Resources are plain dicts holding their API fields; keys starting with "_" are internal (never rendered in API
responses; shown without the underscore in /_sim/resources; "__" keys are never shown at all).
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"


# Every id this simulator ever issued. CloudStack keeps removed rows, so the uuid of a removed resource still
# resolves (to nothing), while one it never issued is an invalid parameter. One simulator runs per process.
_ISSUED: set[str] = set()


def new_id() -> str:
    issued = str(uuid.uuid4())
    _ISSUED.add(issued)
    return issued


def stable_id(name: str) -> str:
    """The same uuid for the same name, every time (a row the simulator lists without storing it)."""
    issued = str(uuid.uuid5(uuid.NAMESPACE_URL, f"cloudstack-sim:{name}"))
    _ISSUED.add(issued)
    return issued


class Store:
    def __init__(self, state_dir: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.state_dir = state_dir
        self.kinds: dict[str, dict[str, dict[str, Any]]] = {}
        self.counters: dict[str, int] = {}

    # --- resources -------------------------------------------------------------------------------------------
    def add(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj.setdefault("id", new_id())
        self.kinds.setdefault(kind, {})[obj["id"]] = obj
        return obj

    def get(self, kind: str, obj_id: str | None) -> dict[str, Any] | None:
        if obj_id is None:
            return None
        return self.kinds.get(kind, {}).get(obj_id)

    def remove(self, kind: str, obj_id: str) -> dict[str, Any] | None:
        return self.kinds.get(kind, {}).pop(obj_id, None)

    @staticmethod
    def known(obj_id: str) -> bool:
        """Whether an id was ever issued here (the resource may exist or have been removed)."""
        return obj_id in _ISSUED

    def all(self, kind: str) -> list[dict[str, Any]]:
        return list(self.kinds.get(kind, {}).values())

    def find(self, kind: str, where: Callable[[dict[str, Any]], bool] | None = None, **equals: Any) -> list[dict]:
        return [o for o in self.all(kind)
                if all(o.get(k) == v for k, v in equals.items()) and (where is None or where(o))]

    def first(self, kind: str, **equals: Any) -> dict[str, Any] | None:
        found = self.find(kind, **equals)
        return found[0] if found else None

    def next_number(self, name: str) -> int:
        """A monotonically increasing counter (instance names, MAC addresses, ...)."""
        self.counters[name] = self.counters.get(name, 0) + 1
        return self.counters[name]

    def kinds_with(self, obj_id: str) -> Iterable[tuple[str, dict[str, Any]]]:
        for kind, objs in self.kinds.items():
            if obj_id in objs:
                yield kind, objs[obj_id]

    # --- persistence -----------------------------------------------------------------------------------------
    def save(self) -> None:
        if self.state_dir is None:
            return
        # Snapshot and replace under one lock: otherwise a save from a download thread could take its snapshot,
        # lose the race to a newer save, and put the older state back on disk.
        with self.lock:
            text = json.dumps({"kinds": self.kinds, "counters": self.counters, "issued": sorted(_ISSUED)},
                              default=str)
            path = self.state_dir / STATE_FILE
            fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix=".state-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise

    def load(self) -> bool:
        """Load a saved state; False when there is none (a fresh simulator)."""
        if self.state_dir is None or not (self.state_dir / STATE_FILE).exists():
            return False
        data = json.loads((self.state_dir / STATE_FILE).read_text(encoding="utf-8"))
        self.kinds = data["kinds"]
        self.counters = data.get("counters", {})
        _ISSUED.update(data.get("issued", []))
        return True
