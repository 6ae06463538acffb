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

It may also add offerings beside the default ones: tagged and zone-scoped ones (4.18 answers a zone-scoped offering
with `zoneid`/`zone`, and lists it for that zone only), and network offerings with other services:

    service_offerings: [{name: Gold, cpu: 2, speed: 2000, memory: 4096, storagetags: ssd, zone: My-Zone}]
    disk_offerings: [{name: Fast, size: 10, custom: false, tags: ssd, zone: My-Zone}]
    network_offerings: [{name: NoUserData, services: [Dhcp, Dns, SourceNat]}]

Besides the root admin `admin` (the simulator's own keys), it may add user accounts in domain ROOT, each with keys
of its own (generated, saved in `credentials.json` under `accounts`), limited by CloudStack's account defaults:

    accounts: [{name: ops}]
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
    data: dict[str, Any] = {}
    if seed_file is not None:
        text = seed_file.read_text(encoding="utf-8")
        data = yaml.safe_load(text) if seed_file.suffix in (".yml", ".yaml") else json.loads(text)
        zones = data.get("zones") or DEFAULT_ZONES
    created = now_str()
    domain_id = new_id()
    store.add("account", {"name": "admin", "domain": "ROOT", "domainid": domain_id, "accounttype": 1,
                          "roletype": "Admin", "rolename": "Root Admin", "created": created,
                          "_userid": new_id(), "_dbid": 2, "_seed": True})
    for number, spec in enumerate(data.get("accounts") or [], start=3):
        store.add("account", {"name": spec["name"], "domain": "ROOT", "domainid": domain_id, "accounttype": 0,
                              "roletype": "User", "rolename": "User", "created": created, "_userid": new_id(),
                              "_dbid": number, "_seed": True})
    owner = {"account": "admin", "domain": "ROOT", "domainid": domain_id}
    categories: dict[str, str] = {}
    for description, category in OS_TYPES:
        cat_id = categories.setdefault(category, new_id())
        store.add("ostype", {"description": description, "oscategoryid": cat_id, "isuserdefined": False,
                             "_seed": True})
    for name, cpu, speed, memory, custom in SERVICE_OFFERINGS:
        _service_offering(store, name, cpu, speed, memory, custom, created)
    router_offering = store.add("serviceoffering", {
        "name": "System Offering For Software Router", "displaytext": "System Offering For Software Router",
        "cpunumber": 1, "cpuspeed": 500, "memory": 256, "iscustomized": False, "created": created,
        "storagetype": "shared", "offerha": False, "limitcpuuse": False, "isvolatile": False, "issystem": True,
        "systemvmtype": "domainrouter", "defaultuse": True, "provisioningtype": "thin",
        "dynamicscalingenabled": True, "hasannotations": False, "_seed": True})
    for name, size, custom in DISK_OFFERINGS:
        _disk_offering(store, name, size, custom, created)
    _network_offering(store, ISOLATED_OFFERING, "Offering for Isolated networks with Source Nat service enabled",
                      ISOLATED_SERVICES, router_offering["id"], created)
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
    _extra_offerings(store, data, router_offering["id"], created)
    if any(z["networktype"] == "Basic" or z.get("securitygroupsenabled") for z in zones):
        for account in store.all("account"):   # CloudStack makes each account's `default` group with it
            store.add("securitygroup", {"name": "default", "description": "Default Security Group",
                                        "ingressrule": [], "egressrule": [], "account": account["name"],
                                        "domain": "ROOT", "domainid": domain_id, "_accountid": account["id"],
                                        "_seed": True})


def _service_offering(store: Store, name: str, cpu: int | None, speed: int | None, memory: int | None, custom: bool,
                      created: str, **extra: Any) -> None:
    store.add("serviceoffering", {
        "name": name, "displaytext": name if not cpu else f"{name}: {cpu} CPU, {memory} MB RAM",
        "cpunumber": cpu, "cpuspeed": speed, "memory": memory, "iscustomized": custom, "created": created,
        "storagetype": "shared", "offerha": False, "limitcpuuse": False, "isvolatile": False,
        "issystem": False, "defaultuse": False, "provisioningtype": "thin", "dynamicscalingenabled": True,
        "networkrate": None if custom else NETWORK_RATE_MBPS, "hasannotations": False, **extra, "_seed": True})


def _disk_offering(store: Store, name: str, size: int, custom: bool, created: str, **extra: Any) -> None:
    store.add("diskoffering", {
        "name": name, "displaytext": f"{name} disk" + ("" if custom else f", {size} GB"), "disksize": size,
        "iscustomized": custom, "created": created, "storagetype": "shared", "provisioningtype": "thin",
        "displayoffering": True, "iscustomizediops": False, "disksizestrictness": False, "encrypt": False,
        "hasannotations": False, **extra, "_seed": True})


def _network_offering(store: Store, name: str, text: str, services: list[str], router_offering_id: str,
                      created: str) -> None:
    store.add("networkoffering", {
        "name": name, "displaytext": text, "traffictype": "Guest", "isdefault": name == ISOLATED_OFFERING,
        "specifyvlan": False, "conservemode": True, "specifyipranges": False, "availability": "Optional"
        if name != ISOLATED_OFFERING else "Required", "networkrate": 200, "state": "Enabled",
        "guestiptype": "Isolated", "egressdefaultpolicy": False, "ispersistent": False, "forvpc": False,
        "supportspublicaccess": False, "internetprotocol": "IPv4", "created": created,
        "serviceofferingid": router_offering_id, "maxconnections": 4096,
        "service": [{"name": s} for s in services], "hasannotations": False, "_seed": True})


def _zone_scope(store: Store, spec: dict[str, Any]) -> dict[str, Any]:
    """`zone: <name>` of a seed-file offering as 4.18's response fields (absent: every zone)."""
    if not spec.get("zone"):
        return {}
    zone = store.first("zone", name=spec["zone"])
    if zone is None:
        raise ValueError(f"seed offering {spec['name']!r} names zone {spec['zone']!r}, which the seed does not have")
    return {"zoneid": zone["id"], "zone": zone["name"]}


def _extra_offerings(store: Store, data: dict[str, Any], router_offering_id: str, created: str) -> None:
    for spec in data.get("service_offerings") or []:
        tags = {k: spec[k] for k in ("storagetags", "hosttags") if spec.get(k)}
        _service_offering(store, spec["name"], spec.get("cpu"), spec.get("speed"), spec.get("memory"),
                          bool(spec.get("custom")), created, **tags, **_zone_scope(store, spec))
    for spec in data.get("disk_offerings") or []:
        tags = {"tags": spec["tags"]} if spec.get("tags") else {}
        _disk_offering(store, spec["name"], int(spec.get("size") or 0), bool(spec.get("custom")), created, **tags,
                       **_zone_scope(store, spec))
    for spec in data.get("network_offerings") or []:
        _network_offering(store, spec["name"], spec.get("displaytext", spec["name"]), list(spec["services"]),
                          router_offering_id, created)
