"""The per-VM metadata service: by VM id, by the X-Sim-VM-Id header, and the backward-compatible paths."""
from __future__ import annotations

import requests

from .compute import b64, cloud, unique  # noqa: F401  (fixtures)


def get(sim, path: str, **headers) -> requests.Response:
    return requests.get(sim.url(path), headers=headers, timeout=5)


def test_meta_data_items_of_a_vm(cloud, sim):
    key = unique("key")
    cloud.api.createSSHKeyPair(name=key)
    vm = cloud.deploy_advanced(userdata=b64(b"#!/bin/sh\necho hi\n"), keypair=key)
    base = f"/_sim/metadata/{vm['id']}/latest/"
    expected = {
        "instance-id": vm["instancename"], "vm-id": vm["id"], "local-hostname": vm["name"],
        "local-ipv4": vm["nic"][0]["ipaddress"], "availability-zone": "Sim-Advanced",
        "service-offering": cloud.offerings["Small Instance"]["displaytext"],
    }
    for name, value in expected.items():
        assert get(sim, base + "meta-data/" + name).text == value, name
        assert get(sim, base + name).text == value, name          # older agents: /latest/<name>
    source_nat = cloud.api.listPublicIpAddresses(associatednetworkid=vm["nic"][0]["networkid"])["publicipaddress"]
    assert get(sim, base + "meta-data/public-ipv4").text == source_nat[0]["ipaddress"]
    assert get(sim, base + "user-data").text == "#!/bin/sh\necho hi\n"
    assert get(sim, base + "meta-data/public-keys").text.startswith("ssh-rsa ")
    assert "instance-id" in get(sim, base + "meta-data/").text.splitlines()
    assert get(sim, base + "meta-data/nothing").status_code == 404


def test_the_caller_is_found_by_header_and_unknown_vms_are_404(cloud, sim):
    vm = cloud.deploy()
    assert get(sim, "/latest/meta-data/vm-id", **{"X-Sim-VM-Id": vm["id"]}).text == vm["id"]
    assert get(sim, "/latest/user-data", **{"X-Sim-VM-Id": vm["id"]}).status_code == 404   # none given
    assert get(sim, "/_sim/metadata/00000000-0000-0000-0000-000000000000/latest/meta-data/vm-id").status_code == 404
    cloud.api.destroyVirtualMachine(id=vm["id"], expunge=True)
    assert get(sim, f"/_sim/metadata/{vm['id']}/latest/meta-data/vm-id").status_code == 404
