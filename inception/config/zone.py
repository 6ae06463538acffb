"""Fill the zone-dependent config values from the CloudStack API.

`apply_zone_info(config, client)` takes any object with `list(command, **params) -> list[dict]`
(cpi.cloudstack.client.CloudStackClient, or a test double) so this module does no HTTP itself.
"""
from __future__ import annotations

from typing import Any, Protocol

from inception.config.loader import ConfigError, Problem, ProjectConfig, check_semantics


class ZoneLister(Protocol):
    def list(self, command: str, **params: Any) -> list[dict[str, Any]]: ...


def apply_zone_info(config: ProjectConfig, client: ZoneLister) -> ProjectConfig:
    """Set cloudstack.zone_type and security_groups_enabled from listZones (values in the file win).

    Raises ConfigError naming the zones that exist when the configured one is missing, or when the
    file's zone_type contradicts the zone.
    """
    zone_name = config.cloudstack["zone"]
    zones = client.list("listZones", name=zone_name)
    match = [z for z in zones if z.get("name") == zone_name]
    if not match:
        available = ", ".join(sorted(z.get("name", "?") for z in client.list("listZones"))) or "none"
        raise ConfigError(config.source, [Problem("cloudstack.zone", f"zone {zone_name!r} does not exist",
                                                  f"use one of: {available}")])
    zone = match[0]
    actual = str(zone.get("networktype", "")).lower()
    if actual not in ("basic", "advanced"):
        raise ConfigError(config.source, [Problem("cloudstack.zone", f"zone {zone_name!r} has unknown network type {actual!r}",
                                                  "use a Basic or Advanced zone")])
    declared = config.zone_type
    if declared is not None and declared != actual:
        raise ConfigError(config.source, [Problem("cloudstack.zone_type", f"is {declared!r} but zone {zone_name!r} is {actual}",
                                                  f"set cloudstack.zone_type: {actual} or remove it")])
    config.cloudstack["zone_type"] = actual
    config.cloudstack.setdefault("security_groups_enabled", bool(zone.get("securitygroupsenabled", False)))
    problems = list(check_semantics(config))
    if problems:
        raise ConfigError(config.source, problems)
    return config
