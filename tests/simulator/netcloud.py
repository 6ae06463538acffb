"""Fixtures for the networking tests: a simulator of their own per module (networks they create would change
what deployVirtualMachine picks as the default network for other tests on the shared one)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simulator.process import RunningSimulator

from .compute import Cloud, unique


class Net(Cloud):
    """Cloud plus network helpers for the Advanced zone."""

    @property
    def offering_id(self) -> str:
        return self.api.listNetworkOfferings(name="DefaultIsolatedNetworkOfferingWithSourceNatService",
                                             )["networkoffering"][0]["id"]

    def network(self, **params: Any) -> dict[str, Any]:
        params.setdefault("name", unique("net"))
        return self.api.createNetwork(zoneid=self.zone("Sim-Advanced")["id"], networkofferingid=self.offering_id,
                                      displaytext=params["name"], **params)["network"]

    def vm_on(self, network: dict[str, Any], **params: Any) -> dict[str, Any]:
        return self.deploy("Sim-Advanced", networkids=network["id"], **params)

    def ip_on(self, network: dict[str, Any]) -> dict[str, Any]:
        return self.api.associateIpAddress(networkid=network["id"])["ipaddress"]


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    running = RunningSimulator(tmp_path_factory.mktemp("sim-net")).start()
    yield Net(running)
    running.stop()
