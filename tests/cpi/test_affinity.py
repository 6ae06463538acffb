"""Affinity groups through the executable: named groups (the operator's, used as they are; unknown ones created on
demand with `affinity_group_type`), automatic anti-affinity per instance group (the Go CPI's
`enable_auto_anti_affinity`), and groups this CPI made deleted with their last VM."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.cpi.cpi_runner import error, ok, write_config
from tests.cpi.fixtures import STEMCELL_PROPERTIES, failed_calls, make_image

NETWORKS = {"default": {"type": "dynamic", "default": ["dns", "gateway"], "cloud_properties": {}}}
SMALL = {"compute_offering": "Small Instance"}


def _group(cs: Any, name: str) -> dict[str, Any] | None:
    return next((g for g in cs.listAffinityGroups().get("affinitygroup", []) if g["name"] == name), None)


def test_named_groups_existing_and_created_on_demand(sim, tmp_path: Path) -> None:
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload="upload")
    cs = sim.cs(fetch_result=True)
    spread = cs.createAffinityGroup(name=f"spread-{uuid.uuid4().hex[:6]}", type="host anti-affinity")["affinitygroup"]
    near = cs.createAffinityGroup(name=f"near-{uuid.uuid4().hex[:6]}", type="host affinity")["affinitygroup"]
    image, _ = make_image(tmp_path, seed=51)
    stemcell = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    before = len(sim.calls())

    single, _ = ok(config, "create_vm", "agent-1", stemcell, {**SMALL, "affinity_group": spread["name"]},
                   NETWORKS, [], {})
    both, _ = ok(config, "create_vm", "agent-2", stemcell,
                 {**SMALL, "affinity_group": [spread["name"], near["name"]]}, NETWORKS, [], {})
    vm = cs.listVirtualMachines(id=both)["virtualmachine"][0]
    assert sorted(g["id"] for g in vm["affinitygroup"]) == sorted([spread["id"], near["id"]])
    assert sorted(_group(cs, spread["name"])["virtualmachineIds"]) == sorted([single, both])

    # an unknown name: created with the type asked for
    fresh = f"fresh-{uuid.uuid4().hex[:6]}"
    made, _ = ok(config, "create_vm", "agent-3", stemcell,
                 {**SMALL, "affinity_group": fresh, "affinity_group_type": "host affinity"}, NETWORKS, [], {})
    assert _group(cs, fresh)["type"] == "host affinity" and _group(cs, fresh)["virtualmachineIds"] == [made]
    # an existing group of another type than the one asked for: refused before anything is made
    err = error(config, "create_vm", "agent-4", stemcell,
                {**SMALL, "affinity_group": near["name"], "affinity_group_type": "host anti-affinity"},
                NETWORKS, [], {})
    assert err["type"] == "Bosh::Clouds::VMCreationFailed"
    assert f"affinity group '{near['name']}' exists with type 'host affinity', not 'host anti-affinity'" in err["message"]
    assert failed_calls(sim.calls(), before) == [], "every API call the CPI made must be valid"

    for vm_cid in (single, both, made):
        ok(config, "delete_vm", vm_cid)
    assert _group(cs, fresh) is None  # made by the CPI: deleted with its last VM
    assert "virtualmachineIds" not in _group(cs, spread["name"])  # the operator's: kept, empty
    ok(config, "delete_stemcell", stemcell)
    cs.deleteAffinityGroup(id=spread["id"])
    cs.deleteAffinityGroup(id=near["id"])


def test_auto_anti_affinity_per_instance_group(sim, tmp_path: Path) -> None:
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload="upload",
                          enable_auto_anti_affinity=True)
    cs = sim.cs(fetch_result=True)
    image, _ = make_image(tmp_path, seed=52)
    stemcell = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    director = str(uuid.uuid4())
    context = {"director_uuid": director}
    group = f"{director}-dep-web"
    env = {"bosh": {"group": "dep-web", "groups": ["dep", "web"]}}
    first, _ = ok(config, "create_vm", "a-1", stemcell, SMALL, NETWORKS, [], env, context=context)
    second, _ = ok(config, "create_vm", "a-2", stemcell, SMALL, NETWORKS, [], env, context=context)
    other, _ = ok(config, "create_vm", "a-3", stemcell, SMALL, NETWORKS, [], {"bosh": {"group": "dep-db"}},
                  context=context)
    made = _group(cs, group)
    assert made["type"] == "host anti-affinity" and sorted(made["virtualmachineIds"]) == sorted([first, second])
    assert _group(cs, f"{director}-dep-db")["virtualmachineIds"] == [other]

    ok(config, "delete_vm", first, context=context)
    assert _group(cs, group)["virtualmachineIds"] == [second]  # not empty: kept
    ok(config, "delete_vm", second, context=context)
    ok(config, "delete_vm", other, context=context)
    assert _group(cs, group) is None and _group(cs, f"{director}-dep-db") is None
    ok(config, "delete_stemcell", stemcell)


def test_a_group_deleted_between_lookup_and_deploy_is_made_again(sim, tmp_path: Path, monkeypatch) -> None:
    """The race of two create_vm (or a delete_vm) on one group: one finds the group, the other's cleanup deletes
    it as empty, the first deploy then names a group id that is gone. Run in-process against the simulator: the
    group is deleted right after create_vm found it (no CPI process can be stopped at that point)."""
    from cpi.config import load_config
    from cpi.methods import affinity, cloud as cloud_module, vm as vm_module
    from cpi.protocol import Request

    config_path = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload="upload")
    cs = sim.cs(fetch_result=True)
    image, _ = make_image(tmp_path, seed=53)
    stemcell = ok(config_path, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    name = f"racy-{uuid.uuid4().hex[:6]}"
    found = affinity.ensure_groups
    calls = []

    def ensure_then_lose(cloud: Any, groups: Any) -> list[str]:
        ids = found(cloud, groups)
        if not calls:  # the first time only: as if another call's cleanup deleted it just now
            cs.deleteAffinityGroup(id=ids[0])
        calls.append(ids)
        return ids

    monkeypatch.setattr(affinity, "ensure_groups", ensure_then_lose)
    cloud = cloud_module.Cloud(load_config(str(config_path)), Request("create_vm", [], {"director_uuid": "d"}, 2))
    with cloud_module.cloudstack_errors():
        vm_cid, _ = vm_module.create_vm(cloud, "agent", stemcell, {**SMALL, "affinity_group": name}, NETWORKS, [], {})
    assert len(calls) == 2 and calls[0] != calls[1]
    assert _group(cs, name)["virtualmachineIds"] == [vm_cid]
    ok(config_path, "delete_vm", vm_cid)
    assert _group(cs, name) is None
    ok(config_path, "delete_stemcell", stemcell)
