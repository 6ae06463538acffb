"""The other CloudStack CPIs' property names, mapped onto this CPI's cpi.json keys, and the multi-CPI context merge.

Sources (the names a manifest written for them carries):
- the Go CPI: bosh-deployment `cloudstack/cpi.yml` (cloudfoundry/bosh-deployment@0dbff9b2) sets `stemcell.*`,
  `timeout.*`, `expunge_vm`, `default_offer.*`, `calculate.*`, `proxy_*`, `clean_disk`, `interval_clean_disk`,
  `private_key`; `cloudstack/auto-anti-affinity.yml` sets `enable_auto_anti_affinity`; the Go CPI's config
  (orange-cloudfoundry/bosh-cpi-cloudstack config/config.go@00e73a08) adds `AutoAntiAffinityType`, `DirectorName`;
  its job spec (orange-cloudfoundry/bosh-go-cpi-cloudstack jobs/cloudstack_cpi/spec@0a412643) reads the agent's NTP
  servers from the top-level `ntp`.
- the Ruby CPI (cloudfoundry-community/bosh-cloudstack-cpi, lib/cloud/cloudstack/cloud.rb): `metadata_server`,
  `connection_options`, `wait_resource_poll_interval`, `private_key`, `ssh_user`, `ssh_port`, `ssh_wait`, and the
  top-level `registry`.

The job template renders a name below `cloudstack` as one key with dots (`"stemcell.os_type"`); a hand-written
cpi.json or a cpi-config may nest it (`"stemcell": {"os_type": ...}`): both are accepted. A name and its synonym with
different values is an error naming both (never the values: they may be secrets). A name nobody knows is a
warning in the CPI's log, never silence.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cpi.protocol import CpiError

# What the Director and create-env put into a request's context besides a cpi-config's properties.
PROTOCOL_CONTEXT_KEYS = ("director_uuid", "request_id", "vm")

# other CPI's name (below `cloudstack`) -> this CPI's name (a dot inside ours: a key of a mapping, e.g. timeouts)
SYNONYMS: dict[str, str] = {
    "stemcell.public_visibility": "stemcell_public_visibility",
    "stemcell.requires_hvm": "stemcell_requires_hvm",
    "stemcell.os_type": "stemcell_os_type",
    "expunge_vm": "expunge",
    "default_offer.disk": "default_disk_offering",
    "default_offer.ephemeral_disk": "default_ephemeral_disk_offering",
    "default_offer.custom_disk": "custom_disk_offering",
    "calculate.compute_tags": "compute_offering_tags",
    "calculate.not_compute_tags": "compute_offering_not_tags",
    "calculate.disk_tags": "disk_offering_tags",
    "calculate.not_disk_tags": "disk_offering_not_tags",
    "timeout.reboot_vm": "timeouts.reboot_vm",
    "timeout.create_vm": "timeouts.create_vm",
    "timeout.delete_vm": "timeouts.delete_vm",
    "timeout.create_volume": "timeouts.create_volume",
    "timeout.delete_volume": "timeouts.delete_volume",
    "timeout.resize_volume": "timeouts.resize_volume",
    "timeout.attach_volume": "timeouts.attach_volume",
    "timeout.detach_volume": "timeouts.detach_volume",
    "timeout.snapshot_volume": "timeouts.snapshot_volume",
    "timeout.delete_snapshot_volume": "timeouts.delete_snapshot",
    "timeout.poll_template": "timeouts.upload_template",
    "connection_options.read_timeout": "request_timeout",
}
# `timeout.global` (Go: the default of every operation) fills both of these unless they are given.
GLOBAL_TIMEOUT = "timeout.global"
GLOBAL_TIMEOUT_TARGETS = ("state_timeout", "state_timeout_volume")
# Ruby: the metadata server's host (or host:port); this CPI wants a URL.
METADATA_SERVER = "metadata_server"

# Names other CPIs use for things this one does not have; accepted, and their effect (none) said in the log.
NO_EFFECT: dict[str, str] = {
    "private_key": "SSH to VMs is create-env's ssh_tunnel, not the CPI's",
    "clean_disk": "no background disk cleaner: every call is its own process",
    "interval_clean_disk": "no background disk cleaner: every call is its own process",
    "director_name": "VMs and disks are tagged by the director (set_vm_metadata), not by name",
    "timeout.stop_vm": "VMs are destroyed without a separate stop",
    "wait_resource_poll_interval": "jobs are polled adaptively",
    "ssh_user": "no micro deployer SSH", "ssh_port": "no micro deployer SSH", "ssh_wait": "no micro deployer SSH",
    "connection_options.connect_timeout": "request_timeout covers the whole request",
    "connection_options.write_timeout": "request_timeout covers the whole request",
}
# Proxies: accepted when empty (bosh-deployment renders them as ""); a value is refused, not silently ignored.
UNSUPPORTED = ("proxy_host", "proxy_port", "proxy_user", "proxy_password")
GROUPS = ("stemcell", "timeout", "default_offer", "calculate", "connection_options")

# Top-level `cloud.properties` keys besides cloudstack and agent.
TOP_LEVEL_NO_EFFECT = {"registry": "no registry: settings go in the VM's user-data", "env": "no proxy support"}
TOP_LEVEL_NTP = "ntp"  # Go job spec: the agent's NTP servers


@dataclass
class Normalised:
    cloudstack: dict[str, Any]
    origin: dict[str, str] = field(default_factory=dict)  # our key -> where its value came from, if not itself
    notes: list[str] = field(default_factory=list)  # informational: accepted names without effect
    warnings: list[str] = field(default_factory=list)  # unknown names


def merge_context(cloudstack: dict[str, Any], context: dict[str, Any] | None) -> tuple[dict[str, Any], set[str]]:
    """A multi-CPI cpi-config's properties, which the Director puts at the top of every request's context, over the
    job's `cloudstack` section, key by key (as the OpenStack CPI merges its context over its `openstack` section:
    cloudfoundry/bosh-openstack-cpi-release src/bosh_openstack_cpi/lib/cloud/openstack/cpi_lambda.rb@64dd2ca4).
    Returns the merged section and the keys the context set."""
    merged = dict(cloudstack)
    from_context = set()
    for key, value in (context or {}).items():
        if key in PROTOCOL_CONTEXT_KEYS:
            continue
        merged[key] = value
        from_context.add(key)
    return merged, from_context


def _flatten(section: dict[str, Any]) -> dict[str, Any]:
    """Nested groups of other CPIs' names as dotted keys (`{"stemcell": {"os_type": x}}` -> `"stemcell.os_type"`)."""
    flat: dict[str, Any] = {}
    for key, value in section.items():
        if key in GROUPS and isinstance(value, dict):
            for sub, sub_value in value.items():
                flat[f"{key}.{sub}"] = sub_value
        else:
            flat[key] = value
    return flat


def normalise(section: dict[str, Any], known: set[str], where: str = "cloudstack") -> Normalised:
    """This CPI's keys from a section that may use other CPIs' names; `known` are this CPI's own keys."""
    flat = _flatten(section)
    out: dict[str, Any] = {}
    origin: dict[str, str] = {}
    result = Normalised(out, origin)

    def put(target: str, value: Any, source: str) -> None:
        parent, _, key = target.rpartition(".")
        mapping = out
        if parent:  # a key of one of our mappings, e.g. timeouts.create_vm
            mapping = out.setdefault(parent, {})
            if not isinstance(mapping, dict):
                raise CpiError(f"{where}.{parent} must be a mapping (it also receives {where}.{source})")
        if key in mapping and mapping[key] != value:
            other = origin.get(target, parent or target)
            raise CpiError(f"{where}.{source} and {where}.{other} give {target} different values; keep one of them")
        mapping[key] = value
        if source != target:
            origin[target] = source

    for key, value in flat.items():  # our own names first: a synonym then meets them
        if key in known:
            put(key, value, key)
    for key, value in flat.items():
        if key in known:
            continue
        if key in SYNONYMS:
            put(SYNONYMS[key], value, key)
        elif key == METADATA_SERVER:
            if value not in (None, ""):
                text = str(value)
                put("metadata_url", text if text.startswith(("http://", "https://")) else f"http://{text}", key)
        elif key in NO_EFFECT:
            result.notes.append(f"{where}.{key} has no effect in this CPI ({NO_EFFECT[key]})")
        elif key in UNSUPPORTED:
            if value not in (None, ""):
                raise CpiError(f"{where}.{key}: this CPI does not use a proxy for the CloudStack API; remove it "
                               "(or leave it empty)")
        elif key != GLOBAL_TIMEOUT:
            result.warnings.append(f"{where}.{key} is not a property of this CPI; ignored (check its spelling "
                                   "against the job spec)")
    if GLOBAL_TIMEOUT in flat:
        for target in GLOBAL_TIMEOUT_TARGETS:
            if target not in out:
                put(target, flat[GLOBAL_TIMEOUT], GLOBAL_TIMEOUT)
    return result


def normalise_top_level(properties: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Notes and warnings for `cloud.properties` keys besides cloudstack and agent."""
    notes, warnings = [], []
    for key in properties:
        if key in ("cloudstack", "agent", TOP_LEVEL_NTP):
            continue
        if key in TOP_LEVEL_NO_EFFECT:
            notes.append(f"{key} has no effect in this CPI ({TOP_LEVEL_NO_EFFECT[key]})")
        else:
            warnings.append(f"cloud.properties.{key} is not a property of this CPI; ignored")
    return notes, warnings
