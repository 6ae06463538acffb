"""Every parameter the CPI sends is one CloudStack 4.18 declares for that command (cloudstack-apis.json).

CloudStack (and the simulator) only log an unknown parameter and go on, so a misspelt or misplaced one is silently
dropped: a status check cannot see it. Here the executable talks to the simulator through a recording proxy, over
the methods and paths that build the richest requests (both zone kinds, several NICs, vip, custom offering,
affinity group, key pair, the three stemcell modes), and each recorded parameter is checked against the listApis
specification.
"""
from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests

from tests.cpi.cpi_runner import ok, write_config
from tests.cpi.fixtures import STEMCELL_PROPERTIES, make_image, start_host_vm

APIS = json.loads((Path(__file__).parents[2] / "simulator" / "data" / "cloudstack-apis.json").read_text())["apis"]
DECLARED = {name.lower(): {p.lower() for p in api["params"]} for name, api in APIS.items()}
TRANSPORT = {"command", "apikey", "signature", "signatureversion", "expires", "response"}
MAP_KEY = re.compile(r"^([a-z0-9_]+)\[\d+\]\..+$")


class RecordingProxy(ThreadingHTTPServer):
    """Forwards /client/api requests to `target` and records (command, parameter names) of each."""

    daemon_threads = True

    def __init__(self, target: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.target = target
        self.requests: list[tuple[str, set[str]]] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/client/api"


class _Forward(BaseHTTPRequestHandler):
    server: RecordingProxy

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        params = {k.lower() for k, _ in parse_qsl(body.decode(), keep_blank_values=True)}
        command = dict((k.lower(), v) for k, v in parse_qsl(body.decode())).get("command", "")
        self.server.requests.append((command, {MAP_KEY.sub(r"\1", p) for p in params} - TRANSPORT))
        answer = requests.post(self.server.target, data=body, timeout=60,
                               headers={"Content-Type": self.headers.get("Content-Type", "")})
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class signature
        pass


def proxy_for(endpoint: str) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(endpoint)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()


@pytest.fixture
def proxy(sim) -> Iterator[RecordingProxy]:
    yield from proxy_for(sim.endpoint)


def undeclared(proxy: RecordingProxy) -> list[str]:
    bad = []
    for command, params in proxy.requests:
        declared = DECLARED.get(command.lower())
        if declared is None:
            bad.append(f"{command}: not a CloudStack 4.18 command")
            continue
        bad += [f"{command}: unknown parameter {p}" for p in sorted(params - declared)]
    return sorted(set(bad))


def dynamic(**cloud_properties: Any) -> dict[str, Any]:
    return {"type": "dynamic", "dns": ["8.8.8.8"], "default": ["dns", "gateway"], "cloud_properties": cloud_properties}


def _network(sim, zone_id: str, name: str, third_octet: int) -> dict[str, Any]:
    cs = sim.cs()
    offering = cs.listNetworkOfferings(name="DefaultIsolatedNetworkOfferingWithSourceNatService")["networkoffering"][0]
    return cs.createNetwork(name=name, displaytext=name, zoneid=zone_id, networkofferingid=offering["id"],
                            gateway=f"10.77.{third_octet}.1", netmask="255.255.255.0")["network"]


def test_every_parameter_sent_is_declared_by_cloudstack(sim, proxy: RecordingProxy, tmp_path: Path) -> None:
    proxied = type("Proxied", (), {"endpoint": proxy.endpoint, "api_key": sim.api_key, "secret_key": sim.secret_key})
    basic = write_config(tmp_path / "basic.json", proxied, default_zone="Sim-Basic", zones=["Sim-Advanced"],
                         stemcell_upload="upload")
    advanced = write_config(tmp_path / "advanced.json", proxied, default_zone="Sim-Advanced", stemcell_upload="url")
    cs = sim.cs(fetch_result=True)
    suffix = uuid.uuid4().hex[:6]
    group = cs.createAffinityGroup(name=f"params-{suffix}", type="host anti-affinity")["affinitygroup"]
    keypair = cs.createSSHKeyPair(name=f"params-{suffix}")["keypair"]
    image, _ = make_image(tmp_path, seed=71)

    stemcell = ok(basic, "create_stemcell", str(image), STEMCELL_PROPERTIES)  # (C) direct upload, copied to 2 zones
    vm, _ = ok(basic, "create_vm", "agent", stemcell,
               {"compute_offering": "Small Instance", "disk": 1024, "key_name": keypair["name"],
                "affinity_group": group["name"]}, {"d": dynamic(security_groups=["default"])}, [], {})
    ok(basic, "set_vm_metadata", vm, {"deployment": "params", "name": "params/0"})
    ok(basic, "reboot_vm", vm)
    disk = ok(basic, "create_disk", 1024, {}, vm)
    ok(basic, "attach_disk", vm, disk)
    ok(basic, "get_disks", vm)
    ok(basic, "set_disk_metadata", disk, {"deployment": "params"})
    ok(basic, "delete_snapshot", ok(basic, "snapshot_disk", disk, {"deployment": "params"}))
    ok(basic, "detach_disk", vm, disk)
    ok(basic, "resize_disk", disk, 6144)
    ok(basic, "delete_disk", disk)
    ok(basic, "calculate_vm_cloud_properties", {"cpu": 1, "ram": 512, "ephemeral_disk_size": 1024})
    ok(basic, "delete_vm", vm)

    other_image, _ = make_image(tmp_path, seed=72)
    url_stemcell = ok(advanced, "create_stemcell", str(other_image), STEMCELL_PROPERTIES)  # (A) registerTemplate
    zone = next(z for z in cs.listZones()["zone"] if z["name"] == "Sim-Advanced")
    front = _network(sim, zone["id"], f"pfront-{suffix}", 41)
    back = _network(sim, zone["id"], f"pback-{suffix}", 42)
    cs.associateIpAddress(networkid=front["id"])  # the source NAT address
    public = cs.associateIpAddress(networkid=front["id"])["ipaddress"]
    networks = {"front": dynamic(name=front["name"]), "public": {"type": "vip", "ip": public["ipaddress"]},
                "back": {"type": "manual", "ip": "10.77.42.20", "netmask": "255.255.255.0", "gateway": "10.77.42.1",
                         "cloud_properties": {"network_name": back["name"]}}}
    vm, _ = ok(advanced, "create_vm", "agent", url_stemcell,
               {"compute_offering": "Custom", "cpu": 2, "ram": 1024, "root_disk_size": 10240, "disk": 2048},
               networks, [], {})
    ok(advanced, "delete_vm", vm)
    ok(advanced, "delete_stemcell", url_stemcell)
    ok(basic, "delete_stemcell", stemcell)
    cs.deleteAffinityGroup(id=group["id"])
    cs.deleteSSHKeyPair(name=keypair["name"])

    sent = {command for command, _ in proxy.requests}
    assert {"deployVirtualMachine", "getUploadParamsForTemplate", "registerTemplate", "enableStaticNat",
            "resizeVolume", "createSnapshot", "createTags"} <= sent  # the rich requests did go through
    assert undeclared(proxy) == []


def test_volume_copy_parameters_are_declared(sim_factory, tmp_path: Path) -> None:
    """(B) volume copy: createVolume, attach to the CPI's own VM, snapshot, createTemplate."""
    devices = tmp_path / "dev"
    sim = start_host_vm(sim_factory, devices)
    for proxy in proxy_for(sim.endpoint):
        proxied = type("Proxied", (), {"endpoint": proxy.endpoint, "api_key": sim.api_key,
                                       "secret_key": sim.secret_key})
        config = write_config(tmp_path / "cpi.json", proxied, default_zone="Sim-Basic", stemcell_upload="volume",
                              metadata_url=sim.base_url, stemcell_device_dir=str(devices))
        image, _ = make_image(tmp_path, seed=73)
        ok(config, "delete_stemcell", ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES))
        assert "createTemplate" in {command for command, _ in proxy.requests}
        assert undeclared(proxy) == []
