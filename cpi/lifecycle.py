"""The CPI lifecycle check: drive the real `cloudstack-cpi` executable (one process per call, as the director
does) through the lifecycle of BOSH's CPI lifecycle tests, and clean up whatever exists even when a step fails.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MiB = 1 << 20


class CpiFailure(Exception):
    """A CPI call answered with an error (or broke the protocol)."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error.get('type')}: {error.get('message')}")
        self.method = method
        self.error = error


class CpiProcess:
    """Calls the CPI executable with a config file, one process per call."""

    def __init__(self, config_path: str, command: list[str] | None = None, director_uuid: str | None = None) -> None:
        self.command = (command or [sys.executable, "-m", "cpi.main"]) + ["--config", config_path]
        self.context = {"director_uuid": director_uuid or str(uuid.uuid4())}

    def call(self, method: str, *arguments: Any, api_version: int = 2) -> Any:
        request = {"method": method, "arguments": list(arguments), "context": self.context, "api_version": api_version}
        # its own session: a Ctrl-C at the terminal stops the caller between calls, never a CPI call halfway
        proc = subprocess.run(self.command, input=json.dumps(request).encode(), capture_output=True,
                              start_new_session=True)
        try:
            response = json.loads(proc.stdout)
        except ValueError:
            raise CpiFailure(method, {"type": "protocol", "message": f"not a JSON response (exit {proc.returncode})"}) from None
        if response.get("error"):
            raise CpiFailure(method, response["error"])
        return response.get("result")


@dataclass
class Stemcell:
    image_path: str
    properties: dict[str, Any]


@dataclass
class LifecyclePlan:
    stemcell: Stemcell
    vm_properties: dict[str, Any] | None  # None: ask calculate_vm_cloud_properties
    networks: dict[str, Any]
    disk_size: int = 1024  # MiB
    resized_size: int = 10240  # MiB; above the smallest fixed offerings, so the disk really grows
    disk_properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepResult:
    name: str
    seconds: float
    ok: bool
    detail: str = ""


def sample_stemcell(directory: Path, size: int = 64 * MiB) -> Stemcell:
    """A small synthetic raw stemcell image (not bootable: the check needs a template, not an OS)."""
    from cpi.stemcell.sample import SampleDisk, spread_extents, write_image_tarball

    path = directory / "image"
    disk = SampleDisk(size, spread_extents(size, 4 * MiB, 4), seed=7)
    write_image_tarball(str(path), [("root.img", disk, size)], compresslevel=1)
    return Stemcell(str(path), {
        "name": "bosh-cloudstack-kvm-ubuntu-jammy-go_agent", "version": "0.0.0-cpi-check",
        "infrastructure": "cloudstack", "hypervisor": "kvm", "disk": 3072, "disk_format": "raw",
        "container_format": "bare", "os_type": "linux", "os_distro": "ubuntu", "architecture": "x86_64",
    })


def unpack_stemcell(tarball: Path, directory: Path) -> Stemcell:
    """The `image` file and stemcell.MF cloud_properties of a stemcell tarball (what the director hands the CPI)."""
    import yaml

    with tarfile.open(tarball) as archive:
        manifest = yaml.safe_load(archive.extractfile("stemcell.MF").read())  # type: ignore[union-attr]
        member = archive.getmember("image")
        archive.extract(member, directory, filter="data")
    return Stemcell(str(directory / "image"), manifest.get("cloud_properties") or {})


def write_cpi_config(path: Path, cloudstack: dict[str, Any]) -> str:
    """The CPI's config file (cpi.json) for a lifecycle check, mode 0600 (it holds the API secret key)."""
    doc = {"cloud": {"plugin": "cloudstack", "properties": {
        "cloudstack": cloudstack,
        "agent": {"mbus": "https://mbus:cpi-check@0.0.0.0:6868", "ntp": ["0.pool.ntp.org"],
                  "blobstore": {"provider": "local", "options": {"blobstore_path": "/var/vcap/micro_bosh/data/cache"}}},
    }}}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)   # also when the file was there already, with a looser mode
    with os.fdopen(fd, "w") as out:
        json.dump(doc, out)
    return str(path)


def simulator_check(endpoint: str, api_key: str, secret_key: str, zone: str,
                    workdir: Path) -> tuple[str, LifecyclePlan]:
    """cpi.json and the lifecycle plan for a CloudStack simulator (direct stemcell upload, a sample stemcell,
    a dynamic network): what `inception cpi-check` without a config and `inception up` on a simulator run."""
    cloudstack = {"endpoint": endpoint, "api_key": api_key, "secret_access_key": secret_key, "default_zone": zone,
                  "stemcell_upload": "upload", "state_timeout": 120, "state_timeout_volume": 120}
    networks = {"default": {"type": "dynamic", "dns": ["8.8.8.8"], "default": ["dns", "gateway"],
                            "cloud_properties": {}}}
    return write_cpi_config(workdir / "cpi.json", cloudstack), LifecyclePlan(sample_stemcell(workdir), None, networks)


# The lifecycle's calls in waves: a call needs only calls of earlier waves (see run_lifecycle for the order's
# reasons). Flattened, it is the order of BOSH's CPI lifecycle tests that a sequential run keeps.
WAVES: tuple[tuple[str, ...], ...] = (
    ("info", "create_stemcell", "calculate_vm_cloud_properties"),
    ("create_vm",),
    ("has_vm", "set_vm_metadata", "create_disk"),
    ("attach_disk",),
    ("get_disks", "snapshot_disk"),
    ("delete_snapshot", "detach_disk"),
    ("resize_disk", "delete_vm"),
    ("delete_disk", "has_vm after delete_vm", "delete_stemcell"),
)


@dataclass
class Op:
    """One CPI call of the check; `describe` turns its result into the report's detail."""

    name: str
    action: Callable[[], Any]
    describe: Callable[[Any], str] = lambda result: ""


def run_lifecycle(cpi: CpiProcess, plan: LifecyclePlan, report: Callable[[StepResult], None], *,
                  concurrent: bool = True, stop: threading.Event | None = None) -> list[StepResult]:
    """Run the lifecycle in waves: the calls of one wave need nothing from each other, so with `concurrent` they
    run at once (each its own CPI process); without it one at a time, in list order. The order between
    waves is BOSH's: a disk is created beside its VM (locality) and attached before it is snapshotted, detached
    before it is resized and before its VM is deleted; a stemcell is deleted only once no VM uses it (CloudStack
    refuses to delete a template a VM was made from). After a failed wave, or once `stop` is set (Ctrl-C), the
    cleanup removes what exists."""
    results: list[StepResult] = []
    lock = threading.Lock()
    state: dict[str, Any] = {}
    agent_id = str(uuid.uuid4())

    def expect(condition: bool, message: str) -> None:
        if not condition:
            raise AssertionError(message)

    def keep(key: str, value: Any) -> Any:
        state[key] = value
        return value

    def vm_properties() -> Any:
        return keep("vm_properties", cpi.call("calculate_vm_cloud_properties",
                                              {"cpu": 1, "ram": 1024, "ephemeral_disk_size": 1024}))

    def create_vm() -> Any:
        created = cpi.call("create_vm", agent_id, state["stemcell"], state["vm_properties"], plan.networks, [],
                           {"bosh": {"group": "cpi-check"}})
        keep("vm", created[0])
        return created

    def attach_disk() -> Any:
        attached = cpi.call("attach_disk", state["vm"], state["disk"])
        state["attached"] = True
        return attached

    def detach_disk() -> None:
        cpi.call("detach_disk", state["vm"], state["disk"])
        state["attached"] = False

    state["vm_properties"] = plan.vm_properties
    ops = [
        Op("info", lambda: cpi.call("info"), lambda r: ", ".join(r["stemcell_formats"])),
        Op("create_stemcell", lambda: keep("stemcell", cpi.call(
            "create_stemcell", plan.stemcell.image_path, plan.stemcell.properties)), str),
        Op("calculate_vm_cloud_properties", vm_properties, json.dumps),
        Op("create_vm", create_vm, lambda r: f"{r[0]} " + ", ".join(
            f"{n}={s.get('ip', '?')}/{s.get('mac', '?')}" for n, s in r[1].items())),
        Op("has_vm", lambda: expect(cpi.call("has_vm", state["vm"]) is True, "has_vm answered false for a new VM")),
        Op("set_vm_metadata", lambda: cpi.call("set_vm_metadata", state["vm"], {
            "director": "cpi-check", "deployment": "cpi-check", "name": f"cpi-check/{agent_id}", "index": "0"})),
        Op("create_disk", lambda: keep("disk", cpi.call("create_disk", plan.disk_size, plan.disk_properties,
                                                        state["vm"])), str),
        Op("attach_disk", attach_disk, json.dumps),
        Op("get_disks", lambda: expect(state["disk"] in cpi.call("get_disks", state["vm"]),
                                       "get_disks does not list the attached disk")),
        Op("snapshot_disk", lambda: keep("snapshot", cpi.call("snapshot_disk", state["disk"],
                                                              {"purpose": "cpi-check"})), str),
        Op("delete_snapshot", lambda: cpi.call("delete_snapshot", state.pop("snapshot"))),
        Op("detach_disk", detach_disk),
        Op("resize_disk", lambda: cpi.call("resize_disk", state["disk"], plan.resized_size)),
        Op("delete_vm", lambda: cpi.call("delete_vm", state["vm"])),
        Op("delete_disk", lambda: cpi.call("delete_disk", state.pop("disk"))),
        Op("has_vm after delete_vm", lambda: expect(cpi.call("has_vm", state.pop("vm")) is False,
                                                    "has_vm answered true after delete_vm")),
        Op("delete_stemcell", lambda: cpi.call("delete_stemcell", state.pop("stemcell"))),
    ]
    by_name = {op.name: op for op in ops if op.name != "calculate_vm_cloud_properties" or plan.vm_properties is None}
    waves = [[by_name[name] for name in wave if name in by_name] for wave in WAVES]

    def run(op: Op) -> bool:
        started = time.monotonic()
        try:
            value = op.action()
            result = StepResult(op.name, time.monotonic() - started, True, op.describe(value))
        except Exception as exc:  # noqa: BLE001 - a failed call is a result; the cleanup follows
            result = StepResult(op.name, time.monotonic() - started, False, str(exc))
        with lock:
            results.append(result)
            report(result)
        return result.ok

    with ThreadPoolExecutor(max_workers=4 if concurrent else 1, thread_name_prefix="cpi-check") as pool:
        def wave(ops: list[Op]) -> bool:
            return all(list(pool.map(run, ops)))

        for ops in waves:
            if stop is not None and stop.is_set():
                results.append(StepResult("stopped", 0.0, False, "before " + ", ".join(op.name for op in ops)))
                report(results[-1])
            elif wave(ops):
                continue
            for cleanup in _cleanup(cpi, state):
                wave(cleanup)
            break
    return results


def _cleanup(cpi: CpiProcess, state: dict[str, Any]) -> Iterator[list[Op]]:
    """Waves deleting whatever the failed run left, dependents first; each wave is decided when it starts, and a
    failed deletion does not stop the others."""
    first = []
    if "snapshot" in state:
        first.append(Op("cleanup: delete_snapshot", lambda: cpi.call("delete_snapshot", state["snapshot"])))
    if state.get("attached") and "disk" in state and "vm" in state:
        first.append(Op("cleanup: detach_disk", lambda: cpi.call("detach_disk", state["vm"], state["disk"])))
    yield first
    second = []
    if "disk" in state:
        second.append(Op("cleanup: delete_disk", lambda: cpi.call("delete_disk", state["disk"])))
    if "vm" in state:
        second.append(Op("cleanup: delete_vm", lambda: cpi.call("delete_vm", state["vm"])))
    yield second
    if "stemcell" in state:
        yield [Op("cleanup: delete_stemcell", lambda: cpi.call("delete_stemcell", state["stemcell"]))]
