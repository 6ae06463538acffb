"""Helpers and fixtures shared by the compute/storage simulator tests (templates, VMs, volumes, snapshots...)."""
from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException
from testkit.fileserver import FileServer


class Cloud:
    """A `cs` client (waiting for jobs) plus look-ups of the seeded zones and offerings."""

    def __init__(self, sim) -> None:
        self.sim = sim
        self.api: CloudStack = sim.cs(fetch_result=True)
        self.raw: CloudStack = sim.cs()   # answers {jobid, id} without waiting
        self.zones = {z["name"]: z for z in self.api.listZones()["zone"]}
        self.offerings = {o["name"]: o for o in self.api.listServiceOfferings()["serviceoffering"]}
        self.disks = {d["name"]: d for d in self.api.listDiskOfferings()["diskoffering"]}

    def zone(self, name: str = "Sim-Basic") -> dict[str, Any]:
        return self.zones[name]

    def template(self, zone: str = "Sim-Basic") -> dict[str, Any]:
        found = self.api.listTemplates(templatefilter="featured", zoneid=self.zone(zone)["id"])["template"]
        return next(t for t in found if t["name"] == "Ubuntu 22.04 LTS")

    def deploy(self, zone: str = "Sim-Basic", **params: Any) -> dict[str, Any]:
        params.setdefault("name", unique("vm"))
        params.setdefault("serviceofferingid", self.offerings["Small Instance"]["id"])
        return self.api.deployVirtualMachine(zoneid=self.zone(zone)["id"], templateid=self.template(zone)["id"],
                                             **params)["virtualmachine"]

    def deploy_advanced(self, **params: Any) -> dict[str, Any]:
        """Deploy in the Advanced zone on this client's own network."""
        params.setdefault("networkids", self.own_network()["id"])
        return self.deploy("Sim-Advanced", **params)

    def own_network(self) -> dict[str, Any]:
        """This client's own isolated network in the Advanced zone (the shared simulator may hold others, so
        deploying without networkids would be ambiguous)."""
        if not hasattr(self, "_network"):
            offering = self.api.listNetworkOfferings(guestiptype="Isolated")["networkoffering"][0]
            name = unique("net")
            self._network = self.api.createNetwork(name=name, displaytext=name, networkofferingid=offering["id"],
                                                   zoneid=self.zone("Sim-Advanced")["id"])["network"]
        return self._network

    def volume(self, zone: str = "Sim-Basic", offering: str = "Small", **params: Any) -> dict[str, Any]:
        params.setdefault("name", unique("vol"))
        return self.api.createVolume(zoneid=self.zone(zone)["id"], diskofferingid=self.disks[offering]["id"],
                                     **params)["volume"]

    def resource(self, kind: str, resource_id: str) -> dict[str, Any] | None:
        return next((r for r in self.sim.resources().get(kind, []) if r["id"] == resource_id), None)

    def wait_template(self, template_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """Poll listTemplates until the template's download ended (ready or failed)."""
        deadline = time.monotonic() + timeout
        while True:
            tpl = self.api.listTemplates(templatefilter="self", id=template_id)["template"][0]
            if tpl["isready"] or not tpl["status"].endswith("Downloaded") or time.monotonic() > deadline:
                return tpl
            time.sleep(0.05)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def api_error(call: Callable[[], Any]) -> dict[str, Any]:
    """The error body of a refused call or a failed job (errorcode, errortext)."""
    with pytest.raises(CloudStackApiException) as info:
        call()
    return info.value.error


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def cloud(sim) -> Cloud:
    return Cloud(sim)


@pytest.fixture(scope="module")
def files() -> Iterator[FileServer]:
    server = FileServer().start()
    yield server
    server.stop()
