"""Load and validate the project config file (inception.yml).

Validation has two layers: the JSON Schema in schema.json (shape, types, unknown keys) and the
cross-field rules below (addresses inside their subnet, zone-type restrictions, references between
sections). Every problem becomes a `Problem(key, message, fix)`; all of them are reported at once in
one ConfigError whose text names the file, each key path (`networks[0].cidr`) and how to fix it.
"""
from __future__ import annotations

import copy
import ipaddress
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from inception.config.yamlio import YamlError, dump_yaml, load_yaml, write_file

ZONE_TYPES = ("basic", "advanced")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config: where, what, and how to fix it."""

    key: str
    message: str
    fix: str = ""
    missing: bool = False  # a required value is absent (ignored when loading a partial config)

    def __str__(self) -> str:
        text = f"{self.key}: {self.message}" if self.key else self.message
        return f"{text} (fix: {self.fix})" if self.fix else text


class ConfigError(Exception):
    """The config file is unreadable or invalid. `problems` lists every issue found."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        if len(problems) == 1:
            text = f"{source}: {problems[0]}"
        else:
            text = "\n  ".join([f"{source}: {len(problems)} problems:", *map(str, problems)])
        super().__init__(text)


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The project config JSON Schema (inception/config/schema.json)."""
    return json.loads(resources.files("inception.config").joinpath("schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


class ProjectConfig:
    """A validated config. `data` is the parsed file with schema defaults filled in.

    Sections are plain dicts (`config.data["cloudstack"]["zone"]`, or `config["cloudstack"]`);
    the properties below resolve the derived defaults everyone needs the same way.
    """

    def __init__(self, data: dict[str, Any], source: str):
        self.data = data
        self.source = source

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __repr__(self) -> str:  # never show credentials
        return f"ProjectConfig(name={self.name!r}, source={self.source!r})"

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def cloudstack(self) -> dict[str, Any]:
        return self.data["cloudstack"]

    @property
    def zone_type(self) -> str | None:
        """'basic' or 'advanced'; None until set in the file or read from the zone (see zone.apply_zone_info)."""
        return self.cloudstack.get("zone_type")

    @property
    def security_groups_enabled(self) -> bool:
        value = self.cloudstack.get("security_groups_enabled")
        return self.zone_type == "basic" if value is None else value

    @property
    def networks(self) -> list[dict[str, Any]]:
        return self.data.get("networks", [])

    def network(self, name: str | None = None) -> dict[str, Any]:
        """The network called `name`, or the first one. Raises ConfigError when there is none."""
        if not self.networks:
            raise ConfigError(self.source, [Problem("networks", "no network configured", _network_fix(self.zone_type), True)])
        if name is None:
            return self.networks[0]
        for net in self.networks:
            if net["name"] == name:
                return net
        raise ConfigError(self.source, [Problem("networks", f"no network named {name!r}", "add it to networks")])

    def network_type(self, net: dict[str, Any]) -> str | None:
        """Explicit `type`, else dynamic in a basic zone and manual in an advanced one (None: zone type unknown)."""
        return net.get("type") or {"basic": "dynamic", "advanced": "manual"}.get(self.zone_type or "")

    @property
    def director(self) -> dict[str, Any]:
        return self.data.get("director", {})

    @property
    def director_name(self) -> str:
        return self.director.get("name") or f"{self.name}-bosh"

    @property
    def director_network(self) -> dict[str, Any]:
        return self.network(self.director.get("network"))

    @property
    def key_name(self) -> str:
        return self.director.get("key_name") or f"{self.name}-bosh"

    @property
    def cf_network(self) -> dict[str, Any]:
        return self.network(self.data.get("cf", {}).get("network"))

    def require(self, dotted: str, why: str) -> Any:
        """Value at a dotted path (`stemcell.sha1`); a ConfigError naming it and `why` when absent."""
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ConfigError(self.source, [Problem(dotted, f"missing, needed {why}", _fix_for_path(dotted), True)])
            node = node[part]
        return node

    def require_zone_type(self) -> str:
        if self.zone_type is None:
            raise ConfigError(
                self.source,
                [Problem("cloudstack.zone_type", "unknown: not set and not read from the zone",
                         "set cloudstack.zone_type to basic or advanced, or make the CloudStack API reachable", True)],
            )
        return self.zone_type


def load_config(path: str | os.PathLike[str], *, partial: bool = False) -> ProjectConfig:
    """Read, validate and default-fill a config file.

    `partial=True` accepts missing required keys (the `inception init` wizard saves after every answer)
    but still rejects unknown keys and wrong values.
    """
    source = str(path)
    try:
        data = load_yaml(path)
    except YamlError as exc:
        where = f"line {exc.line}, column {exc.column}" if exc.line else ""
        raise ConfigError(source, [Problem(where, exc.detail, "correct the YAML syntax" if exc.line else "")]) from None
    if data is None:
        data = {}
    return validate_config(data, source, partial=partial)


def validate_config(data: Any, source: str = "<config>", *, partial: bool = False) -> ProjectConfig:
    """Validate an already-parsed config (a dict); returns the default-filled ProjectConfig."""
    if not isinstance(data, dict):
        raise ConfigError(source, [Problem("", "the file must be a YAML mapping (key: value) at the top level",
                                           "start from docs/config.md's example")])
    problems = [_schema_problem(err) for err in sorted(_validator().iter_errors(data), key=_error_order)]
    if not problems:
        filled = _fill_defaults(copy.deepcopy(data), load_schema())
        config = ProjectConfig(filled, source)
        problems = list(check_semantics(config))
    else:
        config = ProjectConfig(data, source)
    if partial:
        problems = [p for p in problems if not p.missing]
    if problems:
        raise ConfigError(source, problems)
    return config


def save_config(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    """Write a config dict atomically, mode 0600 (it may hold the API secret key)."""
    write_file(path, dump_yaml(data), private=True)


# --- schema errors -> problems ------------------------------------------------------------------

def format_key(parts: Iterable[Any]) -> str:
    """['networks', 0, 'cidr'] -> 'networks[0].cidr'."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _error_order(err: ValidationError) -> tuple:
    return (format_key(err.absolute_path), err.validator)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (only `#/$defs/...` refs exist in schema.json)."""
    ref = schema.get("$ref")
    if not ref:
        return schema
    target: Any = load_schema()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    """Declared properties of a schema object, including those it pulls in with $ref."""
    props = dict(_resolve(schema).get("properties", {})) if "$ref" in schema else {}
    props.update(schema.get("properties", {}))
    return props


def _describe(schema: dict[str, Any]) -> str:
    schema = {**_resolve(schema), **schema} if "$ref" in schema else schema
    parts = []
    if "examples" in schema:
        parts.append(f"e.g. {json.dumps(schema['examples'][0])}")
    if "enum" in schema:
        parts.append("one of " + ", ".join(map(str, schema["enum"])))
    if "description" in schema:
        parts.append(schema["description"])
    return "; ".join(parts)


def _schema_problem(err: ValidationError) -> Problem:
    key = format_key(err.absolute_path)
    where = key or "the top level"
    schema = err.schema if isinstance(err.schema, dict) else {}
    kind = err.validator
    if kind in ("additionalProperties", "unevaluatedProperties"):
        allowed = sorted(_properties(schema))
        extra = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
        name = ", ".join(repr(e) for e in extra) or "?"
        full = format_key([*err.absolute_path, extra[0]]) if extra else key
        fix = ("remove it or fix its spelling; allowed here: " + ", ".join(allowed)) if allowed else "remove it"
        return Problem(full, f"unknown key {name} in {where}", fix)
    if kind == "required":
        missing = err.message.split("'")[1]
        full = format_key([*err.absolute_path, missing])
        hint = _describe(_properties(schema).get(missing, {}))
        return Problem(full, f"missing required key {missing!r} in {where}",
                       f"add {missing}: <value>" + (f" ({hint})" if hint else ""), missing=True)
    hint = _describe(schema)
    if kind == "enum":
        return Problem(key, f"{err.instance!r} is not allowed", "use one of " + ", ".join(map(str, err.validator_value)))
    if kind == "const":
        return Problem(key, f"{err.instance!r} is not supported", f"use {err.validator_value!r}")
    if kind == "type":
        expected = err.validator_value if isinstance(err.validator_value, str) else " or ".join(err.validator_value)
        return Problem(key, f"expected {expected}, got {type(err.instance).__name__} {err.instance!r}", hint)
    if kind == "format":
        return Problem(key, f"{err.instance!r} is not a valid {err.validator_value} address",
                       hint or f"write one {err.validator_value} address, e.g. 203.0.113.10")
    if kind in ("minimum", "maximum"):
        return Problem(key, f"{err.instance!r} is {'below the minimum' if kind == 'minimum' else 'above the maximum'}"
                            f" {err.validator_value}", hint)
    if kind in ("minItems", "minLength"):
        return Problem(key, "must not be empty", hint)
    if kind == "pattern":
        return Problem(key, f"{err.instance!r} has the wrong form", hint or f"must match {err.validator_value}")
    if kind == "propertyNames":
        return Problem(key, f"invalid name {err.instance!r}", "use lower-case letters, digits, '-' and '_'")
    return Problem(key, err.message, hint)


def _fill_defaults(node: Any, schema: dict[str, Any]) -> Any:
    """Insert schema `default`s for absent keys, recursively (jsonschema validates but never fills)."""
    schema = {**_resolve(schema), **schema} if "$ref" in schema else schema
    if isinstance(node, dict):
        props = _properties(schema)
        for key, sub in props.items():
            if key not in node and "default" in sub:
                node[key] = copy.deepcopy(sub["default"])
            elif key not in node and _optional_section(sub):
                node[key] = {}  # so the defaults inside an absent optional section are filled too
            if key in node:
                node[key] = _fill_defaults(node[key], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in node:
                if key not in props:
                    node[key] = _fill_defaults(node[key], extra)
    elif isinstance(node, list) and isinstance(schema.get("items"), dict):
        return [_fill_defaults(item, schema["items"]) for item in node]
    return node


def _optional_section(schema: dict[str, Any]) -> bool:
    """An object without required keys whose properties carry defaults (e.g. director.ntp)."""
    schema = {**_resolve(schema), **schema} if "$ref" in schema else schema
    props = _properties(schema)
    return (schema.get("type") == "object" and not schema.get("required") and bool(props)
            and any("default" in sub or _optional_section(sub) for sub in props.values()))


# --- cross-field rules ---------------------------------------------------------------------------

def _fix_for_path(dotted: str) -> str:
    schema: dict[str, Any] = load_schema()
    for part in dotted.split("."):
        schema = _properties(schema).get(part, {})
    hint = _describe(schema)
    return f"set {dotted}" + (f" ({hint})" if hint else "")


def _network_fix(zone_type: str | None) -> str:
    if zone_type == "basic":
        return "add networks: [{name: default, security_groups: [bosh]}]"
    return "add networks: [{name: default, cloudstack_network: <guest network>, cidr: 10.0.0.0/24, gateway: 10.0.0.1}]"


def parse_range(text: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
    """'10.0.0.10-10.0.0.20' or '10.0.0.10' -> (first, last). ValueError when malformed."""
    first, _, last = (part.strip() for part in text.partition("-"))
    start = ipaddress.IPv4Address(first)
    end = ipaddress.IPv4Address(last) if last else start
    if end < start:
        raise ValueError(f"range {text!r} ends before it starts")
    return start, end


def in_ranges(ip: ipaddress.IPv4Address, ranges: Iterable[str]) -> bool:
    return any(start <= ip <= end for start, end in map(parse_range, ranges))


def check_semantics(config: ProjectConfig) -> Iterator[Problem]:
    """Rules JSON Schema cannot express; yields one Problem per violation."""
    zone_type = config.zone_type
    names: set[str] = set()
    for i, net in enumerate(config.networks):
        yield from _check_network(config, i, net, names)
    if config.data.get("networks") is not None or config.data.get("director"):
        yield from _check_director(config)
    for section in ("stemcell",):
        spec = config.get(section) or {}
        if "url" in spec and "file" in spec:
            yield Problem(f"{section}.file", "both url and file are set", f"keep only one of {section}.url and {section}.file")
    for rel, spec in (config.get("releases") or {}).items():
        if "url" in spec and "file" in spec:
            yield Problem(f"releases.{rel}.file", "both url and file are set", f"keep only one of releases.{rel}.url and .file")
    cf = config.get("cf") or {}
    if cf.get("network") and cf["network"] not in names:
        yield Problem("cf.network", f"no network named {cf['network']!r}", "use the name of an entry of networks: " + ", ".join(sorted(names)))
    full = config.get("full_bosh") or {}
    if zone_type == "basic" and full.get("public_ip"):
        yield Problem("full_bosh.public_ip", "a basic zone has no public IPs (no vip networks)", "remove full_bosh.public_ip")
    if full.get("ip") and config.networks and not any(p.key.startswith("director.network") for p in _check_director(config)):
        net = config.director_network
        if config.network_type(net) == "dynamic":
            yield Problem("full_bosh.ip", f"network {net['name']!r} is dynamic (DHCP); it cannot take a static IP",
                          "remove full_bosh.ip or use a manual network")
        elif _subnet(net) is not None and ipaddress.IPv4Address(full["ip"]) not in _subnet(net):
            yield Problem("full_bosh.ip", f"{full['ip']} is outside {net['name']}'s cidr {net['cidr']}", "pick an address inside it")
        elif full["ip"] == config.director.get("ip"):
            yield Problem("full_bosh.ip", "is the Micro BOSH director's IP", "pick another address")
    yield from _check_public_ips(config)
    settings = config.get("inception") or {}
    for field in ("allowed_cidrs", "egress_cidrs"):
        for i, text in enumerate(settings.get(field) or []):
            try:
                ipaddress.IPv4Network(text, strict=False)
            except ValueError as exc:
                yield Problem(f"inception.{field}[{i}]", f"{text!r} is not a valid CIDR ({exc})",
                              "write an IPv4 network as address/prefix, e.g. 203.0.113.0/24 (0.0.0.0/0: anywhere)")
    if zone_type == "basic" and cf.get("router_public_ips"):
        yield Problem("cf.router_public_ips", "a basic zone has no public IPs to put in front of the routers",
                      "remove cf.router_public_ips (routers are reached on their guest IPs)")


def _check_public_ips(config: ProjectConfig) -> Iterator[Problem]:
    """A CloudStack public IP is static-NATed to one VM only: the directors' and routers' IPs must differ."""
    owners: dict[str, str] = {}
    uses = [("director.public_ip", config.director.get("public_ip")),
            ("full_bosh.public_ip", (config.get("full_bosh") or {}).get("public_ip"))]
    uses += [(f"cf.router_public_ips[{i}]", ip) for i, ip in enumerate((config.get("cf") or {}).get("router_public_ips") or [])]
    for key, ip in uses:
        if ip is None:
            continue
        if ip in owners:
            yield Problem(key, f"{ip} is already {owners[ip]} (static NAT binds a public IP to one VM)",
                          "acquire another public IP for it")
        else:
            owners[ip] = key


def _subnet(net: dict[str, Any]) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(net["cidr"]) if "cidr" in net else None
    except ValueError:
        return None  # reported by _check_network


def _check_network(config: ProjectConfig, i: int, net: dict[str, Any], names: set[str]) -> Iterator[Problem]:
    key = f"networks[{i}]"
    zone_type = config.zone_type
    if net["name"] in names:
        yield Problem(f"{key}.name", f"duplicate network name {net['name']!r}", "give each network a unique name")
    names.add(net["name"])
    kind = config.network_type(net)
    if zone_type == "basic":
        if "cloudstack_network" in net:
            yield Problem(f"{key}.cloudstack_network", "a basic zone has no guest networks to choose",
                          "remove it; basic zones use security_groups")
    if zone_type == "advanced" and "cloudstack_network" not in net:
        yield Problem(f"{key}.cloudstack_network", "missing in an advanced zone",
                      "set it to the name of the isolated guest network the VMs join", missing=True)
    if "cidr" in net:   # wrong whatever the network's type (or the zone's)
        try:
            ipaddress.IPv4Network(net["cidr"])
        except ValueError as exc:
            yield Problem(f"{key}.cidr", f"{net['cidr']!r} is not a valid CIDR ({exc})",
                          "use the network address, e.g. 10.0.0.0/24")
    if kind is None:
        return
    if kind == "dynamic":
        for field in ("static", "reserved"):
            if field in net:
                yield Problem(f"{key}.{field}", "dynamic networks take no static or reserved addresses",
                              f"remove {field} or set type: manual")
        return
    for field in ("cidr", "gateway"):
        if field not in net:
            yield Problem(f"{key}.{field}", "missing for a manual network", _fix_for_network(field), missing=True)
    subnet = _subnet(net)
    if subnet is None:
        return
    if "gateway" in net and ipaddress.IPv4Address(net["gateway"]) not in subnet:
        yield Problem(f"{key}.gateway", f"{net['gateway']} is outside {subnet}", "use the guest network's gateway")
    for field in ("reserved", "static"):
        for j, text in enumerate(net.get(field, [])):
            try:
                start, end = parse_range(text)
            except ValueError as exc:
                yield Problem(f"{key}.{field}[{j}]", str(exc), "write an IP or first-last, e.g. 10.0.0.10-10.0.0.50")
                continue
            if start not in subnet or end not in subnet:
                yield Problem(f"{key}.{field}[{j}]", f"{text} is outside {subnet}", f"keep {field} addresses inside cidr")


def _fix_for_network(field: str) -> str:
    return f"set {field}: " + _describe(_resolve({"$ref": "#/$defs/network"})["properties"][field])


def _check_director(config: ProjectConfig) -> Iterator[Problem]:
    director = config.director
    names = [n["name"] for n in config.networks]
    if director.get("network") and director["network"] not in names:
        yield Problem("director.network", f"no network named {director['network']!r}",
                      "use the name of an entry of networks: " + ", ".join(names))
        return
    if not config.networks:
        return
    net = config.director_network
    kind = config.network_type(net)
    ip = director.get("ip")
    if kind == "manual" and ip is None:
        yield Problem("director.ip", f"missing: network {net['name']!r} is manual",
                      "set director.ip to a free address inside its cidr", missing=True)
    if kind == "dynamic" and ip is not None:
        yield Problem("director.ip", f"network {net['name']!r} is dynamic (DHCP); it cannot take a static IP",
                      "remove director.ip or use a manual network")
    if kind == "manual" and ip is not None and "cidr" in net:
        try:
            subnet = ipaddress.IPv4Network(net["cidr"])
            addr = ipaddress.IPv4Address(ip)
            if addr not in subnet:
                yield Problem("director.ip", f"{ip} is outside {net['name']}'s cidr {subnet}", "pick an address inside it")
            elif in_ranges(addr, net.get("reserved", [])):
                yield Problem("director.ip", f"{ip} is in {net['name']}'s reserved ranges", "pick an unreserved address")
            elif "gateway" in net and addr == ipaddress.IPv4Address(net["gateway"]):
                yield Problem("director.ip", f"{ip} is the gateway", "pick another address")
        except ValueError:
            pass  # the cidr problem is reported by _check_network
    if config.zone_type == "basic" and director.get("public_ip"):
        yield Problem("director.public_ip", "a basic zone has no public IPs (no vip networks)", "remove director.public_ip")

