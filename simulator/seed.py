"""What a fresh simulator holds: an account, zones, offerings, OS types, a featured template per zone.

The default describes one Basic zone with security groups and one Advanced zone with isolated networks. A seed
file (YAML or JSON, `--seed-file`) can describe other zones:

    zones:
      - {name: My-Zone, networktype: Advanced, securitygroupsenabled: false, hypervisor: KVM,
         public_range: {gateway: 198.51.100.1, netmask: 255.255.255.0, start: 198.51.100.10, end: 198.51.100.200},
         guest_cidr: 10.1.0.0/16, pod_cidr: 192.0.2.0/24, max_data_volumes: 6}

`pod_cidr` is the range of the shared, security-group guest network the zone wizard makes in a Basic zone or an
Advanced zone with security groups (`networktype: Advanced, securitygroupsenabled: true`); such zones need it.
`guest_cidr` is where isolated networks take their addresses by default.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .clock import now_str
from .store import Store, new_id

DEFAULT_ZONES: list[dict[str, Any]] = [
    {"name": "Sim-Basic", "networktype": "Basic", "securitygroupsenabled": True, "hypervisor": "KVM",
     # In a Basic zone guests take addresses from the pod's guest range (a shared, SG-isolated network).
     "pod_cidr": "192.0.2.0/24", "max_data_volumes": 6},
    {"name": "Sim-Advanced", "networktype": "Advanced", "securitygroupsenabled": False, "hypervisor": "KVM",
     "public_range": {"gateway": "203.0.113.1", "netmask": "255.255.255.0",
                      "start": "203.0.113.10", "end": "203.0.113.250"},
     "guest_cidr": "10.1.1.0/24", "max_data_volumes": 6},
]

SERVICE_OFFERINGS = [
    ("Small Instance", 1, 500, 1024, False),
    ("Medium Instance", 2, 1000, 4096, False),
    ("Large Instance", 4, 2000, 8192, False),
    ("Custom", None, None, None, True),
]
NETWORK_RATE_MBPS = 200
DISK_OFFERINGS = [("Small", 5, False), ("Medium", 20, False), ("Large", 100, False), ("Custom", 0, True)]
OS_TYPES = [  # (description, category)
    ("Ubuntu 12.04 (64-bit)", "Ubuntu"), ("Ubuntu 14.04 (64-bit)", "Ubuntu"), ("Ubuntu 16.04 (64-bit)", "Ubuntu"),
    ("Ubuntu 18.04 LTS", "Ubuntu"), ("Ubuntu 20.04 LTS", "Ubuntu"), ("Ubuntu 22.04 (64-bit)", "Ubuntu"),
    ("Ubuntu 22.04 LTS", "Ubuntu"), ("Other Linux (64-bit)", "Other"), ("Other PV (64-bit)", "Other"),
    ("Other (64-bit)", "Other"), ("CentOS 7", "CentOS"), ("Debian GNU/Linux 12 (64-bit)", "Debian"),
]
ISOLATED_OFFERING = "DefaultIsolatedNetworkOfferingWithSourceNatService"
ISOLATED_SERVICES = ["Vpn", "Dhcp", "Dns", "Firewall", "Lb", "UserData", "SourceNat", "StaticNat",
                     "PortForwarding"]


def seed(store: Store, seed_file: Path | None = None) -> None:
    zones = DEFAULT_ZONES
    if seed_file is not None:
        text = seed_file.read_text(encoding="utf-8")
        data = yaml.safe_load(text) if seed_file.suffix in (".yml", ".yaml") else json.loads(text)
        zones = data["zones"]
    created = now_str()
    domain_id = new_id()
    store.add("account", {"name": "admin", "domain": "ROOT", "domainid": domain_id, "accounttype": 1,
                          "_userid": new_id(), "_seed": True})
    owner = {"account": "admin", "domain": "ROOT", "domainid": domain_id}
    categories: dict[str, str] = {}
    for description, category in OS_TYPES:
        cat_id = categories.setdefault(category, new_id())
        store.add("ostype", {"description": description, "oscategoryid": cat_id, "isuserdefined": False,
                             "_seed": True})
    for name, cpu, speed, memory, custom in SERVICE_OFFERINGS:
        store.add("serviceoffering", {
            "name": name, "displaytext": name if not cpu else f"{name}: {cpu} CPU, {memory} MB RAM",
            "cpunumber": cpu, "cpuspeed": speed, "memory": memory, "iscustomized": custom, "created": created,
            "storagetype": "shared", "offerha": False, "limitcpuuse": False, "isvolatile": False,
            "issystem": False, "defaultuse": False, "provisioningtype": "thin", "dynamicscalingenabled": True,
            "networkrate": None if custom else NETWORK_RATE_MBPS, "hasannotations": False, "_seed": True})
    router_offering = store.add("serviceoffering", {
        "name": "System Offering For Software Router", "displaytext": "System Offering For Software Router",
        "cpunumber": 1, "cpuspeed": 500, "memory": 256, "iscustomized": False, "created": created,
        "storagetype": "shared", "offerha": False, "limitcpuuse": False, "isvolatile": False, "issystem": True,
        "systemvmtype": "domainrouter", "defaultuse": True, "provisioningtype": "thin",
        "dynamicscalingenabled": True, "hasannotations": False, "_seed": True})
    for name, size, custom in DISK_OFFERINGS:
        store.add("diskoffering", {
            "name": name, "displaytext": f"{name} disk" + ("" if custom else f", {size} GB"), "disksize": size,
            "iscustomized": custom, "created": created, "storagetype": "shared", "provisioningtype": "thin",
            "displayoffering": True, "iscustomizediops": False, "disksizestrictness": False, "encrypt": False,
            "hasannotations": False, "_seed": True})
    store.add("networkoffering", {
        "name": ISOLATED_OFFERING, "displaytext": "Offering for Isolated networks with Source Nat service enabled",
        "traffictype": "Guest", "isdefault": True, "specifyvlan": False, "conservemode": True,
        "specifyipranges": False, "availability": "Required", "networkrate": 200, "state": "Enabled",
        "guestiptype": "Isolated", "egressdefaultpolicy": False, "ispersistent": False, "forvpc": False,
        "supportspublicaccess": False, "internetprotocol": "IPv4", "created": created,
        "serviceofferingid": router_offering["id"], "maxconnections": 4096,
        "service": [{"name": s} for s in ISOLATED_SERVICES], "hasannotations": False, "_seed": True})
    ubuntu = store.first("ostype", description="Ubuntu 22.04 (64-bit)")
    for spec in zones:
        if (spec["networktype"] == "Basic" or spec.get("securitygroupsenabled")) and not spec.get("pod_cidr"):
            raise ValueError(f"seed zone {spec['name']!r} uses security groups: give its pod_cidr (the range of its "
                             "shared guest network)")
        zone = store.add("zone", {
            "name": spec["name"], "description": spec.get("description", f"Simulated {spec['networktype']} zone"),
            "networktype": spec["networktype"], "securitygroupsenabled": bool(spec.get("securitygroupsenabled")),
            "allocationstate": "Enabled", "dhcpprovider": "VirtualRouter", "localstorageenabled": False,
            "zonetoken": new_id(), "dns1": "198.51.100.53", "dns2": "198.51.100.54",
            "internaldns1": "198.51.100.53",
            "guestcidraddress": spec.get("guest_cidr"), "type": "Core", "hasannotations": False,
            "allowuserspecifyvrmtu": False, "routerprivateinterfacemaxmtu": 1500,
            "routerpublicinterfacemaxmtu": 1500,
            "_hypervisor": spec.get("hypervisor", "KVM"), "_max_data_volumes": spec.get("max_data_volumes", 6),
            "_pod_cidr": spec.get("pod_cidr"), "_public_range": spec.get("public_range"), "_seed": True})
        store.add("template", {
            "name": "Ubuntu 22.04 LTS", "displaytext": "Ubuntu 22.04 LTS (cloud image)", "ispublic": True,
            "isfeatured": True, "isextractable": False, "isready": True, "status": "Download Complete",
            "passwordenabled": False, "sshkeyenabled": True, "format": "QCOW2", "hypervisor": zone["_hypervisor"],
            "ostypeid": ubuntu["id"], "ostypename": ubuntu["description"], "templatetype": "USER",
            "zoneid": zone["id"], "zonename": zone["name"], "crossZones": False, "size": 2361393152,
            "created": created, "bits": 64, "requireshvm": True, "isdynamicallyscalable": False,
            "directdownload": False, "deployasis": False, "bootable": True, **owner, "_seed": True})
    if any(z["networktype"] == "Basic" or z.get("securitygroupsenabled") for z in zones):
        store.add("securitygroup", {"name": "default", "description": "Default Security Group",
                                    "ingressrule": [], "egressrule": [], **owner, "_seed": True})
