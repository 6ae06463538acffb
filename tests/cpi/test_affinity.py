"""The Go CPI's `affinity_group` cloud property through the executable: the VM ends up in the named groups."""
from __future__ import annotations

import uuid
from pathlib import Path

from tests.cpi.cpi_runner import error, ok, write_config
from tests.cpi.fixtures import STEMCELL_PROPERTIES, failed_calls, make_image

NETWORKS = {"default": {"type": "dynamic", "default": ["dns", "gateway"], "cloud_properties": {}}}


def test_create_vm_puts_the_vm_in_its_affinity_groups(sim, tmp_path: Path) -> None:
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload="upload")
    cs = sim.cs(fetch_result=True)
    spread = cs.createAffinityGroup(name=f"spread-{uuid.uuid4().hex[:6]}", type="host anti-affinity")["affinitygroup"]
    near = cs.createAffinityGroup(name=f"near-{uuid.uuid4().hex[:6]}", type="host affinity")["affinitygroup"]
    image, _ = make_image(tmp_path, seed=51)
    stemcell = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    before = len(sim.calls())

    single, _ = ok(config, "create_vm", "agent-1", stemcell,
                   {"compute_offering": "Small Instance", "affinity_group": spread["name"]}, NETWORKS, [], {})
    both, _ = ok(config, "create_vm", "agent-2", stemcell,
                 {"compute_offering": "Small Instance", "affinity_group": [spread["name"], near["name"]]},
                 NETWORKS, [], {})
    vm = cs.listVirtualMachines(id=both)["virtualmachine"][0]
    assert sorted(g["id"] for g in vm["affinitygroup"]) == sorted([spread["id"], near["id"]])
    members = cs.listAffinityGroups(id=spread["id"])["affinitygroup"][0]["virtualmachineIds"]
    assert sorted(members) == sorted([single, both])
    assert failed_calls(sim.calls(), before) == [], "every API call the CPI made must be valid"

    err = error(config, "create_vm", "agent-3", stemcell,
                {"compute_offering": "Small Instance", "affinity_group": "nowhere"}, NETWORKS, [], {})
    assert err["type"] == "Bosh::Clouds::CloudError"
    assert "affinity group 'nowhere' not found" in err["message"] and spread["name"] in err["message"]

    for vm_cid in (single, both):
        ok(config, "delete_vm", vm_cid)
    assert "virtualmachineIds" not in cs.listAffinityGroups(id=spread["id"])["affinitygroup"][0]
    ok(config, "delete_stemcell", stemcell)
    cs.deleteAffinityGroup(id=spread["id"])
    cs.deleteAffinityGroup(id=near["id"])
