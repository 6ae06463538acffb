"""state.json (shareable: resource ids, names, fingerprints, step status) and secrets/ (mode 0600).

Layout of a state dir:

    state.json        what exists: every CloudStack resource this environment made or uses, in creation order
    secrets/          0700; private keys, director credentials, bosh state (each file 0600)
    bundle/           the bootstrap bundle (manifest, CPI release, scripts)
    simulator/        the embedded simulator's own state, when no CloudStack is configured
    state.lock        held while a command changes the environment

state.json holds no secret and no absolute path (paths are relative to the state dir), so the dir can be
copied to another machine or checked into a team repository without secrets/. Every change is written
atomically (temp file, fsync, rename) before the next API call, so a run killed at any point leaves a
state that names everything created up to the last completed call; a resource whose create call was in
flight is recorded beforehand as `creating`, so the next run looks for it instead of creating a twin.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inception.atomic import write_atomic
from inception.state.lock import StateLock

FORMAT = 1
STATE_FILE = "state.json"
SECRETS_DIR = "secrets"


_resources_changed = False     # did this process record, fail or forget any resource?


def resources_changed() -> bool:
    """Whether this process changed any resource record: only then does "everything created so far is
    recorded" mean something."""
    return _resources_changed


def _changed() -> None:
    global _resources_changed
    _resources_changed = True


class StateError(Exception):
    """The state dir is unreadable or belongs to something else."""


@dataclass
class Resource:
    """One CloudStack resource of the environment."""

    key: str                     # stable identity within the environment, e.g. "sg:bosh", "vm:inception"
    kind: str                    # see inception.cloud.kinds
    name: str | None = None
    id: str | None = None
    status: str = "creating"     # creating: the create call may have happened; ready: id known;
                                 # failed: CloudStack refused the create or its job failed (`error` says how)
    owned: bool = True           # False: existed before `up`, used but never deleted
    attrs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ready(self) -> bool:
        return self.status == "ready"


class StateDir:
    """The directory; `load()` gives the State, `lock()` guards a mutating run."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path).expanduser()

    def __repr__(self) -> str:
        return f"StateDir({str(self.path)!r})"

    def lock(self) -> StateLock:
        self.path.mkdir(parents=True, exist_ok=True)
        return StateLock(self.path / "state.lock")

    def load(self, environment: str) -> "State":
        """The state of `environment` (empty when the dir is new). Refuses another environment's dir."""
        self.path.mkdir(parents=True, exist_ok=True)
        file = self.path / STATE_FILE
        if not file.exists():
            return State(self, {"format": FORMAT, "environment": environment, "resources": [], "steps": {},
                                "outputs": {}})
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateError(f"{file}: unreadable ({exc}); restore it from a backup or run "
                             "`inception cleanup-leftovers` to find the environment's resources by tag") from None
        if data.get("format") != FORMAT:
            raise StateError(f"{file}: state format {data.get('format')!r} is not supported (this version "
                             f"reads format {FORMAT})")
        if data.get("environment") != environment:
            raise StateError(f"{file} belongs to environment {data.get('environment')!r}, not {environment!r}; "
                             "use another --state-dir or fix `name` in the config")
        return State(self, data)

    # -- secrets ---------------------------------------------------------------------------------

    @property
    def secrets(self) -> Path:
        path = self.path / SECRETS_DIR
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        return path

    def write_secret(self, name: str, content: str | bytes) -> Path:
        """Store a secret file (mode 0600, atomic); returns its path."""
        data = content.encode() if isinstance(content, str) else content
        target = self.secrets / name
        write_atomic(target, data, 0o600)
        return target

    def forget_secrets(self) -> list[str]:
        """Delete every secret file (names returned): after `destroy` the keys, credentials and manifests in them
        belong to resources that no longer exist."""
        directory = self.path / SECRETS_DIR
        names = sorted(p.name for p in directory.iterdir() if p.is_file()) if directory.is_dir() else []
        for name in names:
            (directory / name).unlink()
        return names

    def read_secret(self, name: str) -> str | None:
        target = self.path / SECRETS_DIR / name
        return target.read_text(encoding="utf-8") if target.exists() else None

    def relative(self, path: str | os.PathLike[str]) -> str:
        """A path inside the state dir as stored in state.json (relative, '/'-separated)."""
        return Path(path).resolve().relative_to(self.path.resolve()).as_posix()


class State:
    """The parsed state.json; every mutation is saved at once (thread-safe: steps run concurrently)."""

    def __init__(self, directory: StateDir, data: dict[str, Any]):
        self.dir = directory
        self._data = data
        self._resources = [Resource(**r) for r in data.get("resources", [])]
        self._lock = threading.RLock()

    @property
    def environment(self) -> str:
        return self._data["environment"]

    @property
    def resources(self) -> list[Resource]:
        with self._lock:
            return list(self._resources)

    def get(self, key: str) -> Resource | None:
        with self._lock:
            return next((r for r in self._resources if r.key == key), None)

    def begin(self, key: str, kind: str, name: str | None = None, **attrs: Any) -> Resource:
        """Record that a create call for `key` is about to be sent (kept when it already exists)."""
        with self._lock:
            resource = self.get(key)
            if resource is None:
                resource = Resource(key, kind, name, attrs=attrs)
                self._resources.append(resource)
            elif resource.status == "failed":
                resource.status, resource.error = "creating", None
            else:
                return resource
            _changed()
            self.save()
            return resource

    def fail(self, key: str, error: str) -> None:
        """The create of `key` was refused or its job failed: nothing of it exists (a retry creates it)."""
        with self._lock:
            resource = self.get(key)
            if resource is not None and not resource.ready:
                resource.status, resource.error = "failed", error
                _changed()
                self.save()

    def record(self, key: str, kind: str, id: str, name: str | None = None, *,  # noqa: A002
               owned: bool = True, **attrs: Any) -> Resource:
        """The resource exists with `id`: update its record in place (creation order kept) and save."""
        with self._lock:
            resource = self.get(key)
            if resource is None:
                resource = Resource(key, kind)
                self._resources.append(resource)
            resource.kind, resource.id, resource.name = kind, id, name if name is not None else resource.name
            resource.status, resource.owned, resource.error = "ready", owned, None
            resource.attrs.update(attrs)
            _changed()
            self.save()
            return resource

    def forget(self, key: str) -> None:
        with self._lock:
            self._resources = [r for r in self._resources if r.key != key]
            _changed()
            self.save()

    # -- steps, outputs, target ------------------------------------------------------------------

    def step(self, name: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._data["steps"].get(name, {}))

    def set_step(self, name: str, **info: Any) -> None:
        with self._lock:
            self._data["steps"][name] = info
            self.save()

    def clear_step(self, name: str) -> None:
        with self._lock:
            if self._data["steps"].pop(name, None) is not None:
                self.save()

    @property
    def outputs(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._data.get("outputs", {}))

    def set_output(self, **values: Any) -> None:
        with self._lock:
            self._data.setdefault("outputs", {}).update(values)
            self.save()

    def clear_outputs(self, keep: tuple[str, ...] = ()) -> None:
        with self._lock:
            self._data["outputs"] = {k: v for k, v in self._data.get("outputs", {}).items() if k in keep}
            self.save()

    def get_value(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._data.get(key, default)

    def set_value(self, key: str, value: Any) -> None:
        if key in ("format", "environment", "resources", "steps", "outputs"):
            raise ValueError(f"{key} is managed by State")
        with self._lock:
            self._data[key] = value
            self.save()

    @property
    def empty(self) -> bool:
        with self._lock:
            return not self._resources and not self._data["steps"]

    def save(self) -> None:
        with self._lock:
            self._data["resources"] = [asdict(r) for r in self._resources]
            text = json.dumps(self._data, indent=2, sort_keys=False) + "\n"
            write_atomic(self.dir.path / STATE_FILE, text.encode(), 0o644)
