"""cloud_properties normalisation.

Two vocabularies are accepted so that existing manifests keep working:
- the community Ruby CPI (2014): VM `instance_type`, `ephemeral_volume`, `key_name`, `availability_zone`;
  network `security_groups`, `network_name`;
- the Orange Go CPI / bosh-deployment `cloudstack/cpi.yml`: VM `compute_offering`, `ephemeral_disk_offering`,
  `disk` (ephemeral MiB), `root_disk_size` (MiB), `cpu`/`ram`/`cpu_speed` (custom offerings), `affinity_group`
  (+ `affinity_group_type` for a group created on demand);
  disk `disk_offering`; network `name`.
Both spellings of the same thing must agree; anything that is not a property of ours is ignored (the director merges
vm_extensions, which may carry keys for other tools).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cpi.protocol import CpiError


def _pick(props: dict[str, Any], what: str, *names: str) -> Any:
    """The value of the first present key among `names`; two different values for synonyms is an error."""
    present = [(n, props[n]) for n in names if props.get(n) not in (None, "")]
    if not present:
        return None
    first_name, first = present[0]
    for name, value in present[1:]:
        if value != first:
            raise CpiError(
                f"cloud_properties give two different {what}: {first_name}={first!r} and {name}={value!r}; "
                f"use only one of {', '.join(names)}"
            )
    return first


def _str(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CpiError(f"cloud_properties.{key} must be a string, got {type(value).__name__}")
    return value


def _int(value: Any, key: str, minimum: int = 1) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < minimum:
        raise CpiError(f"cloud_properties.{key} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _str_list(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CpiError(f"cloud_properties.{key} must be a list of strings")
    return tuple(value)


def _require_dict(props: Any, where: str) -> dict[str, Any]:
    if props is None:
        return {}
    if not isinstance(props, dict):
        raise CpiError(f"{where} must be an object, got {type(props).__name__}")
    return props


@dataclass(frozen=True)
class VMProperties:
    compute_offering: str | None = None
    cpu: int | None = None
    ram: int | None = None  # MiB
    cpu_speed: int | None = None  # MHz
    root_disk_size: int | None = None  # MiB
    ephemeral_disk_offering: str | None = None  # Go `ephemeral_disk_offering` or Ruby `ephemeral_volume`
    ephemeral_disk_size: int | None = None  # MiB
    key_name: str | None = None
    zone: str | None = None
    affinity_groups: tuple[str, ...] = ()
    affinity_group_type: str | None = None  # for groups created on demand; the config's type when None
    security_groups: tuple[str, ...] = ()

    @property
    def wants_ephemeral_disk(self) -> bool:
        return self.ephemeral_disk_offering is not None or self.ephemeral_disk_size is not None


def vm_properties(props: Any) -> VMProperties:
    props = _require_dict(props, "create_vm cloud_properties")
    offering = _str(_pick(props, "compute offerings", "compute_offering", "instance_type"), "compute_offering")
    cpu = _int(props.get("cpu"), "cpu")
    ram = _int(props.get("ram"), "ram")
    if offering is None and cpu is None and ram is None:
        raise CpiError(
            "create_vm cloud_properties need a compute offering: set compute_offering (or instance_type), "
            "or cpu and ram for a custom offering"
        )
    if (cpu is None) != (ram is None):
        raise CpiError("create_vm cloud_properties: cpu and ram go together (custom compute offering)")
    ephemeral_offering = _str(_pick(props, "ephemeral disk offerings", "ephemeral_disk_offering", "ephemeral_volume"),
                              "ephemeral_disk_offering")
    groups = _str_list(props.get("affinity_group"), "affinity_group")
    return VMProperties(
        compute_offering=offering,
        cpu=cpu,
        ram=ram,
        cpu_speed=_int(props.get("cpu_speed"), "cpu_speed"),
        root_disk_size=_int(props.get("root_disk_size"), "root_disk_size"),
        ephemeral_disk_offering=ephemeral_offering,
        ephemeral_disk_size=_int(props.get("disk"), "disk"),
        key_name=_str(props.get("key_name"), "key_name"),
        zone=_str(props.get("availability_zone"), "availability_zone"),
        affinity_groups=groups,
        affinity_group_type=_str(props.get("affinity_group_type"), "affinity_group_type"),
        security_groups=_str_list(props.get("security_groups"), "security_groups"),
    )


@dataclass(frozen=True)
class DiskProperties:
    disk_offering: str | None = None


def disk_properties(props: Any) -> DiskProperties:
    props = _require_dict(props, "create_disk cloud_properties")
    return DiskProperties(disk_offering=_str(props.get("disk_offering"), "disk_offering"))


@dataclass(frozen=True)
class NetworkProperties:
    network_name: str | None = None
    security_groups: tuple[str, ...] = field(default_factory=tuple)


def network_properties(props: Any, network: str) -> NetworkProperties:
    props = _require_dict(props, f"networks.{network}.cloud_properties")
    name = _pick(props, f"CloudStack networks for {network}", "name", "network_name")
    return NetworkProperties(
        network_name=_str(name, f"networks.{network}.name"),
        security_groups=_str_list(props.get("security_groups"), f"networks.{network}.security_groups"),
    )


@dataclass(frozen=True)
class VMResources:
    cpu: int
    ram: int
    ephemeral_disk_size: int


def vm_resources(doc: Any) -> VMResources:
    doc = _require_dict(doc, "calculate_vm_cloud_properties argument")
    values = {}
    for key in ("cpu", "ram", "ephemeral_disk_size"):
        if key not in doc:
            raise CpiError(f"calculate_vm_cloud_properties: missing '{key}' (expected cpu, ram MiB, ephemeral_disk_size MiB)")
        values[key] = _int(doc[key], key, minimum=0 if key == "ephemeral_disk_size" else 1)
    return VMResources(**values)
