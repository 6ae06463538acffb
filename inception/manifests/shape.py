"""The structure every manifest rule relies on: which sections are hashes, lists of hashes, strings, integers.

`validate` checks this first and stops there when it fails, so a hand-written or ops-file-edited manifest
with, say, `jobs: [nats]` gets "job[0]: expected a hash" instead of a crash inside a rule. Only types are
checked here; what must be present and what the values mean is validate.py's business.
"""
from __future__ import annotations

from typing import Any

from jsonschema import Draft7Validator

_STR = {"type": "string"}
_INT = {"type": "integer"}
_MAP = {"type": "object"}
_STRS = {"type": "array", "items": _STR}


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


def _hash(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


_SUBNET = _hash(range=_STR, gateway=_STR, static=_STRS, reserved=_STRS, azs=_STRS, az=_STR, cloud_properties=_MAP)
_NETWORK = _hash(name=_STR, type=_STR, subnets=_list(_SUBNET), cloud_properties=_MAP)
_JOB_NETWORK = _hash(name=_STR, static_ips=_STRS, default=_STRS)
_TEMPLATE = {"anyOf": [_STR, _hash(name=_STR, release=_STR)]}
_JOB = _hash(name=_STR, instances=_INT, persistent_disk=_INT, resource_pool=_STR, persistent_disk_pool=_STR,
             networks=_list(_JOB_NETWORK), template={"anyOf": [_STR, {"type": "null"}, _list(_TEMPLATE)]},
             templates=_list(_TEMPLATE), properties=_MAP)
_INSTANCE_GROUP = {**_JOB, "properties": {**_JOB["properties"], "jobs": _list(_hash(name=_STR, release=_STR)),
                                            "templates": _list(_hash(name=_STR, release=_STR))}}
_NAMED = _hash(name=_STR)
SCHEMA = _hash(
    name=_STR,
    releases=_list(_hash(name=_STR)),
    release=_hash(name=_STR),
    networks=_list(_NETWORK),
    resource_pools=_list(_hash(name=_STR, network=_STR, size=_INT, stemcell=_MAP, cloud_properties=_MAP, env=_MAP)),
    disk_pools=_list(_hash(name=_STR, cloud_properties=_MAP)),
    jobs=_list(_JOB),
    instance_groups=_list(_INSTANCE_GROUP),
    compilation=_hash(network=_STR, az=_STR, cloud_properties=_MAP),
    update=_MAP,
    properties=_MAP,
    cloud_provider=_hash(template=_hash(name=_STR, release=_STR), mbus=_STR, properties=_MAP),
    azs=_list(_NAMED),
    vm_types=_list(_NAMED),
    disk_types=_list(_NAMED),
    vm_extensions=_list(_NAMED),
    variables=_list(_NAMED),
)
_VALIDATOR = Draft7Validator(SCHEMA)
_NOUNS = {"jobs": "job", "instance_groups": "instance group", "networks": "network", "resource_pools": "resource pool",
          "disk_pools": "disk pool", "releases": "release", "azs": "az", "vm_types": "vm type",
          "disk_types": "disk type", "vm_extensions": "vm extension", "variables": "variable"}
_WORDS = {"object": "a hash", "array": "a list", "string": "a string", "integer": "an integer", "null": "empty"}


def _found(value: Any) -> str:
    if isinstance(value, dict):
        return "a hash"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _expected(error: Any) -> str:
    schemas = error.schema.get("anyOf") or [error.schema]
    kinds = [_WORDS[s["type"]] for s in schemas if "type" in s]
    return " or ".join(dict.fromkeys(kinds)) or "another shape"


def _subject(doc: dict[str, Any], path: list[Any]) -> tuple[str, list[Any]]:
    """("job 'router_z1'", rest of the path) for items of named sections, else ("manifest", path)."""
    if len(path) >= 2 and path[0] in _NOUNS and isinstance(path[1], int):
        item = doc[path[0]][path[1]]
        name = item.get("name") if isinstance(item, dict) else None
        label = repr(name) if isinstance(name, str) else f"[{path[1]}]"
        return f"{_NOUNS[path[0]]} {label}", path[2:]
    return "manifest", path


def _dotted(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def shape_problems(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(subject, rule, detail) for every part of `doc` whose type the rules cannot work with."""
    out = []
    for error in sorted(_VALIDATOR.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        subject, rest = _subject(doc, path)
        where = _dotted(rest)
        found = f"found {_found(error.instance)}"
        out.append((subject, f"{_dotted(path)} is {_expected(error)}", f"{where}: {found}" if where else found))
    return out
