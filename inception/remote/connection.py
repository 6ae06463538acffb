"""How `inception ssh` and `inception print-env` find the inception VM and the director: the state dir.

`inception up` records, in state.json's `outputs` (shareable: no secret, paths relative to the state dir):

    inception_host_key        pinned host key line (inception.cloud.userdata writes it with the user-data)
    inception_address         address the operator reaches the VM's SSH at (public IP, NAT or forwarded)
    inception_ssh_port        its port (default 22)
    inception_ssh_user        login user (default "ubuntu")
    inception_private_key     the keypair's private key file (relative: inside the state dir, 0600)
    director_address          the Micro BOSH director's IP, once create-env has run
    director_vars_store       the director's vars store (creds.yml, relative, 0600)

`record_inception_vm` and `record_director` write them; `load_connection` reads them back.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from inception.config.yamlio import YamlError, load_yaml
from inception.remote.bootstrap import DirectorAccess
from inception.remote.errors import RemoteError
from inception.remote.ssh import SshTarget
from inception.state import State, StateDir, StateError
from inception.state.store import STATE_FILE


@dataclass(frozen=True)
class ConnectionInfo:
    environment: str
    target: SshTarget
    director_address: str | None
    vars_store: Path | None


def _stored_path(state: State, path: Path) -> str:
    """Relative to the state dir when inside it (so the dir can move), absolute otherwise."""
    try:
        return state.dir.relative(path)
    except ValueError:
        return str(Path(path).resolve())


def record_inception_vm(state: State, *, address: str, private_key: Path, user: str = "ubuntu",
                        port: int = 22) -> None:
    """Call once the inception VM is reachable (its host key was recorded with the user-data)."""
    state.set_output(inception_address=address, inception_ssh_port=port, inception_ssh_user=user,
                     inception_private_key=_stored_path(state, private_key))


def record_director(state: State, *, address: str, vars_store: Path) -> None:
    """Call after create-env has brought the vars store back."""
    state.set_output(director_address=address, director_vars_store=_stored_path(state, vars_store))


def open_state(state_dir: Path) -> State:
    """The state of whatever environment lives in `state_dir` (read only)."""
    file = Path(state_dir) / STATE_FILE
    try:
        environment = json.loads(file.read_text(encoding="utf-8"))["environment"]
        return StateDir(state_dir).load(environment)
    except FileNotFoundError:
        raise RemoteError(f"no environment in {state_dir} ({STATE_FILE} not found): run `inception up` first, "
                          "or point --state-dir / $INCEPTION_STATE_DIR at the environment's state dir") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RemoteError(f"{file}: unreadable ({type(exc).__name__}: {exc})") from None
    except StateError as exc:
        raise RemoteError(str(exc)) from None


def load_connection(state_dir: Path) -> ConnectionInfo:
    state = open_state(state_dir)
    outputs = state.outputs
    missing = [k for k in ("inception_address", "inception_host_key", "inception_private_key") if not outputs.get(k)]
    if missing and state.step("bootstrap").get("status") == "not run":
        raise RemoteError(f"environment {state.environment!r} runs on a simulated CloudStack: its inception VM has no "
                          "operating system to log in to, and no director was bootstrapped (create-env was not "
                          "run). `inception status` shows what `up` built; ssh and print-env need a real "
                          "CloudStack (or inception.ssh_address)")
    if missing:
        raise RemoteError(f"{state.dir.path}: the inception VM is not ready yet (state has no {', '.join(missing)}); "
                          "run `inception up`")
    target = SshTarget(host=outputs["inception_address"], port=int(outputs.get("inception_ssh_port") or 22),
                       user=outputs.get("inception_ssh_user") or "ubuntu",
                       key_path=state.dir.path / outputs["inception_private_key"],
                       host_public_key=outputs["inception_host_key"])
    store = outputs.get("director_vars_store")
    return ConnectionInfo(state.environment, target, outputs.get("director_address"),
                          state.dir.path / store if store else None)


def director_access(info: ConnectionInfo) -> DirectorAccess:
    """Admin credentials and CA of the director, from its vars store."""
    if not info.director_address or info.vars_store is None:
        raise RemoteError(f"environment {info.environment!r} has no director yet: run `inception up` to bootstrap it")
    try:
        creds = load_yaml(info.vars_store)
    except YamlError as exc:
        raise RemoteError(f"director credentials: {exc}") from None
    if not isinstance(creds, dict):
        raise RemoteError(f"{info.vars_store}: expected a YAML mapping (the director's vars store)")
    secret = creds.get("admin_password")
    ca = (creds.get("director_ssl") or {}).get("ca") or (creds.get("default_ca") or {}).get("certificate")
    if not secret or not ca:
        raise RemoteError(f"{info.vars_store} lacks admin_password or director_ssl.ca: was create-env run with "
                          "this vars store?")
    return DirectorAccess(info.director_address, client_secret=str(secret), ca_cert=str(ca))


def all_proxy(target: SshTarget) -> str:
    """BOSH_ALL_PROXY through the inception VM (the bosh CLI's ssh+socks5 proxy)."""
    return f"ssh+socks5://{target.user}@{target.host}:{target.port}?private-key={os.path.abspath(target.key_path)}"


def resolve_state_dir(config: Path, state_dir: Path | None) -> Path:
    """--state-dir, else $INCEPTION_STATE_DIR, else the config's default (as every other command does)."""
    from inception.cloud.session import STATE_DIR_ENV, load_project, state_dir_for
    from inception.config.loader import ConfigError

    if state_dir is not None:
        return state_dir
    if os.environ.get(STATE_DIR_ENV):
        return Path(os.environ[STATE_DIR_ENV])
    try:
        return state_dir_for(load_project(config, partial=True), None).path
    except ConfigError as exc:
        raise RemoteError(f"cannot find the state dir from the config: {exc}; or pass --state-dir") from None
