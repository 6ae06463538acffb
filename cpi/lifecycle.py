"""The CPI lifecycle check: drive the real `cloudstack-cpi` executable (one process per call, as the director
does) through the lifecycle of BOSH's CPI lifecycle tests, and clean up whatever exists even when a step fails.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Callable
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
        proc = subprocess.run(self.command, input=json.dumps(request).encode(), capture_output=True)
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


def run_lifecycle(cpi: CpiProcess, plan: LifecyclePlan, report: Callable[[StepResult], None]) -> list[StepResult]:
    results: list[StepResult] = []
    state: dict[str, Any] = {}

    def step(name: str, action: Callable[[], Any], describe: Callable[[Any], str] = lambda r: "") -> Any:
        started = time.monotonic()
        try:
            value = action()
        except Exception as exc:
            results.append(StepResult(name, time.monotonic() - started, False, str(exc)))
            report(results[-1])
            raise
        results.append(StepResult(name, time.monotonic() - started, True, describe(value)))
        report(results[-1])
        return value

    def expect(condition: bool, message: str) -> None:
        if not condition:
            raise AssertionError(message)

    try:
        step("info", lambda: cpi.call("info"), lambda r: ", ".join(r["stemcell_formats"]))
        state["stemcell"] = step("create_stemcell", lambda: cpi.call(
            "create_stemcell", plan.stemcell.image_path, plan.stemcell.properties), str)
        vm_properties = plan.vm_properties
        if vm_properties is None:
            vm_properties = step("calculate_vm_cloud_properties", lambda: cpi.call(
                "calculate_vm_cloud_properties", {"cpu": 1, "ram": 1024, "ephemeral_disk_size": 1024}), json.dumps)
        agent_id = str(uuid.uuid4())
        created = step("create_vm", lambda: cpi.call(
            "create_vm", agent_id, state["stemcell"], vm_properties, plan.networks, [], {"bosh": {"group": "cpi-check"}}),
            lambda r: f"{r[0]} " + ", ".join(f"{n}={s.get('ip', '?')}/{s.get('mac', '?')}" for n, s in r[1].items()))
        state["vm"] = created[0]
        step("has_vm", lambda: expect(cpi.call("has_vm", state["vm"]) is True, "has_vm answered false for a new VM"))
        step("set_vm_metadata", lambda: cpi.call("set_vm_metadata", state["vm"], {
            "director": "cpi-check", "deployment": "cpi-check", "name": f"cpi-check/{agent_id}", "index": "0"}))
        state["disk"] = step("create_disk", lambda: cpi.call(
            "create_disk", plan.disk_size, plan.disk_properties, state["vm"]), str)
        step("attach_disk", lambda: cpi.call("attach_disk", state["vm"], state["disk"]), json.dumps)
        state["attached"] = True
        step("get_disks", lambda: expect(state["disk"] in cpi.call("get_disks", state["vm"]),
                                         "get_disks does not list the attached disk"))
        state["snapshot"] = step("snapshot_disk", lambda: cpi.call("snapshot_disk", state["disk"], {"purpose": "cpi-check"}), str)
        step("delete_snapshot", lambda: cpi.call("delete_snapshot", state.pop("snapshot")))
        step("detach_disk", lambda: cpi.call("detach_disk", state["vm"], state["disk"]))
        state["attached"] = False
        step("resize_disk", lambda: cpi.call("resize_disk", state["disk"], plan.resized_size))
        step("delete_disk", lambda: cpi.call("delete_disk", state.pop("disk")))
        step("delete_vm", lambda: cpi.call("delete_vm", state["vm"]))
        step("has_vm after delete_vm", lambda: expect(cpi.call("has_vm", state.pop("vm")) is False,
                                                      "has_vm answered true after delete_vm"))
        step("delete_stemcell", lambda: cpi.call("delete_stemcell", state.pop("stemcell")))
    except Exception:  # noqa: BLE001 - reported per step; the cleanup below must run whatever failed
        _cleanup(cpi, state, step)
    return results


def _cleanup(cpi: CpiProcess, state: dict[str, Any], step: Callable[..., Any]) -> None:
    actions = []
    if "snapshot" in state:
        actions.append(("cleanup: delete_snapshot", lambda: cpi.call("delete_snapshot", state["snapshot"])))
    if state.get("attached") and "disk" in state and "vm" in state:
        actions.append(("cleanup: detach_disk", lambda: cpi.call("detach_disk", state["vm"], state["disk"])))
    if "disk" in state:
        actions.append(("cleanup: delete_disk", lambda: cpi.call("delete_disk", state["disk"])))
    if "vm" in state:
        actions.append(("cleanup: delete_vm", lambda: cpi.call("delete_vm", state["vm"])))
    if "stemcell" in state:
        actions.append(("cleanup: delete_stemcell", lambda: cpi.call("delete_stemcell", state["stemcell"])))
    for name, action in actions:
        try:
            step(name, action)
        except Exception:  # noqa: BLE001 - already reported; go on with the rest
            continue
