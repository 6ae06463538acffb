"""A BOSH v2 cloud-config for CloudStack, shaped for cf-deployment and other modern deployments.

One AZ (`z1` = the configured zone), every configured network (plus a `vip` network in advanced zones),
one vm_type per `offerings.vm_types` entry (plus cf-deployment's `minimal` and `small-highmem`), disk_types, the vm_extensions cf-deployment names, compilation.
"""
from __future__ import annotations

from typing import Any

from inception.config.loader import ConfigError, Problem, ProjectConfig
from inception.manifests.common import foreign_ips, manual_subnet, network_cloud_properties, vm_cloud_properties

AZ = "z1"
DEFAULT_DISK_TYPES = {"5GB": 5120, "10GB": 10240, "50GB": 51200, "100GB": 102400}
VIP_NETWORK = "vip"
COMPILATION_WORKERS = 4   # on the first network: pre-flight checks its dynamic part has room for them
# cf-deployment's instance groups ask for these vm types; unless configured, each is served by the cf-release
# pool that plays the same role (minimal: nats, uaa, router...; small-highmem: diego cells, like the DEA runners).
CF_DEPLOYMENT_VM_TYPES = {"minimal": "small", "small-highmem": "runner"}


def _network(config: ProjectConfig, net: dict[str, Any]) -> dict[str, Any]:
    if config.network_type(net) == "manual":
        subnet = manual_subnet(config, net, [], foreign_ips(config, net))
        return {"name": net["name"], "type": "manual", "subnets": [{**subnet, "az": AZ}]}
    return {"name": net["name"], "type": "dynamic",
            "subnets": [{"az": AZ, "dns": list(net["dns"]), "cloud_properties": network_cloud_properties(config, net)}]}


def cloud_config(config: ProjectConfig) -> dict[str, Any]:
    offerings = config.get("offerings") or {}
    vm_types = offerings.get("vm_types") or {}
    if not vm_types:
        raise ConfigError(config.source, [Problem("offerings.vm_types", "missing: a cloud-config needs vm_types",
                                                  "add offerings.vm_types: {small: {compute: <offering>}, ...}", True)])
    if not config.networks:
        raise ConfigError(config.source, [Problem("networks", "missing: a cloud-config needs networks", "add networks", True)])
    vm_types = {**vm_types, **{name: vm_types[source] for name, source in CF_DEPLOYMENT_VM_TYPES.items()
                               if name not in vm_types and source in vm_types}}
    compilation = offerings.get("compilation") or vm_types.get("large") or next(iter(vm_types.values()))
    disk_types = offerings.get("disk_types") or {name: {"size": size} for name, size in DEFAULT_DISK_TYPES.items()}
    networks = [_network(config, net) for net in config.networks]
    if config.zone_type == "advanced":
        networks.append({"name": VIP_NETWORK, "type": "vip"})
    return {
        "azs": [{"name": AZ, "cloud_properties": {"availability_zone": config.cloudstack["zone"]}}],
        "vm_types": [{"name": name, "cloud_properties": vm_cloud_properties(spec)} for name, spec in vm_types.items()],
        "vm_extensions": [
            {"name": "50GB_ephemeral_disk", "cloud_properties": {"disk": 51200}},
            {"name": "100GB_ephemeral_disk", "cloud_properties": {"disk": 102400}},
            {"name": "cf-router-network-properties"},
            {"name": "cf-tcp-router-network-properties"},
            {"name": "diego-ssh-proxy-network-properties"},
        ],
        "disk_types": [{"name": name, "disk_size": spec["size"],
                        "cloud_properties": ({"disk_offering": spec["disk_offering"]} if spec.get("disk_offering") else {})}
                       for name, spec in disk_types.items()],
        "networks": networks,
        "compilation": {"workers": COMPILATION_WORKERS, "reuse_compilation_vms": True, "az": AZ, "network": config.networks[0]["name"],
                        "cloud_properties": vm_cloud_properties(compilation)},
    }
