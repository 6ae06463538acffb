"""Open an environment for one command: config, state dir (locked when the command changes things), where
CloudStack is (configured, or the embedded simulator), the zone, and the step context."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from inception.cloud.context import CloudContext, Target
from inception.config.credentials import api_settings
from inception.config.loader import ConfigError, Problem, ProjectConfig, load_config
from inception.config.zone import apply_zone_info
from inception.embedded import SUBDIR, EmbeddedCloud
from inception.state import State, StateDir

STATE_DIR_ENV = "INCEPTION_STATE_DIR"


class SessionError(Exception):
    """The environment cannot be opened as asked; the message says why and what to do."""


@dataclass
class Session:
    config: ProjectConfig
    state: State
    target: Target
    ctx: CloudContext
    bundle: Any = None      # the bootstrap bundle once `up` has prepared it

    @property
    def state_dir(self) -> StateDir:
        return self.state.dir


def state_dir_for(config: ProjectConfig, explicit: Path | None) -> StateDir:
    """--state-dir, else $INCEPTION_STATE_DIR, else .inception/<name> next to the config file."""
    chosen = explicit or (Path(os.environ[STATE_DIR_ENV]) if os.environ.get(STATE_DIR_ENV) else None)
    if chosen is None:
        chosen = Path(config.source).resolve().parent / ".inception" / config.name
    return StateDir(chosen)


def _nothing_configured(error: ConfigError) -> bool:
    return len(error.problems) == 3 and all(p.missing for p in error.problems)


def is_simulator(endpoint: str, verify: bool | str) -> bool:
    """A cloudstack-sim answers its own /_sim/ paths; a real management server does not."""
    base = endpoint.rsplit("/client/api", 1)[0]
    try:
        answer = requests.get(f"{base}/_sim/calls", params={"since": 2**31}, timeout=5, verify=verify)
        return answer.status_code == 200 and isinstance(answer.json(), list)
    except (requests.RequestException, ValueError):
        return False


def _target(config: ProjectConfig, state: State, stack: ExitStack, embedded_options: dict) -> Target:
    """Where CloudStack is (recorded by `_remember` once it has answered)."""
    recorded = state.get_value("target") or {}
    try:
        api = api_settings(config)
    except ConfigError as exc:
        if not _nothing_configured(exc):
            raise
        if recorded.get("kind") not in (None, "embedded") and not state.empty:
            raise SessionError(f"this environment was built on {recorded.get('endpoint')}, but no CloudStack is "
                               f"configured now: {exc}") from None
        cloud = EmbeddedCloud(state.dir.path / SUBDIR, **embedded_options)
        target = cloud.start()
        stack.callback(cloud.stop)
        return target
    if recorded.get("kind") == "embedded" and not state.empty:
        raise SessionError(f"this environment lives in the embedded simulator ({state.dir.path}/simulator), but "
                           f"a CloudStack is configured ({api.endpoint}); unset CLOUDSTACK_* or use another "
                           "--state-dir")
    if recorded.get("endpoint") not in (None, api.endpoint) and not state.empty:
        raise SessionError(f"this environment was built on {recorded['endpoint']}, but the config now points at "
                           f"{api.endpoint}; use another --state-dir, or `inception destroy` it first")
    kind = recorded["kind"] if recorded.get("endpoint") == api.endpoint else \
        ("simulator" if is_simulator(api.endpoint, api.verify) else "cloudstack")
    return Target(kind, api.endpoint, api.api_key, api.secret_key, api.verify)


def _remember(state: State, target: Target) -> None:
    """Record where the environment lives: only once that CloudStack has answered (a wrong endpoint never is)."""
    wanted = {"kind": "embedded"} if target.kind == "embedded" else {"kind": target.kind, "endpoint": target.endpoint}
    if state.get_value("target") != wanted:
        state.set_value("target", wanted)


def load_project(config_path: Path, *, partial: bool = False) -> ProjectConfig:
    """The project config; a missing file is an error that says how to get one."""
    if not config_path.exists():
        raise ConfigError(str(config_path), [Problem("", "file not found", "run `inception init` to write it (or "
                                                     "`inception up` with no CloudStack configured, for the offline "
                                                     "demo), or point --config at it")])
    return load_config(config_path, partial=partial)


@contextmanager
def open_session(config_path: Path, state_dir: Path | None = None, *, lock: bool,
                 embedded_options: dict | None = None) -> Iterator[Session]:
    """Everything a command needs; with `lock`, no other run can change the environment meanwhile."""
    config = load_project(config_path)
    directory = state_dir_for(config, state_dir)
    with ExitStack() as stack:
        if lock:
            stack.enter_context(directory.lock())
        state = directory.load(config.name)
        target = _target(config, state, stack, embedded_options or {})
        apply_zone_info(config, target.client())
        if lock:
            _remember(state, target)
        yield Session(config, state, target, CloudContext(config, state, target))
