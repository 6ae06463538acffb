"""Resolve the CloudStack API settings: config file > CLOUDSTACK_* variables > cloudstack.ini region.

The `cs` library's own reader (cs.read_config) handles the environment and the ini file so the
precedence matches the `cs` command-line tool.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cs

from inception.config.loader import ConfigError, Problem, ProjectConfig


@dataclass(frozen=True)
class ApiSettings:
    endpoint: str
    api_key: str
    secret_key: str = field(repr=False)
    verify: bool | str = True  # False, True, or a CA bundle path (requests' convention)


def _from_cs(region: str | None) -> dict:
    try:
        return cs.read_config(region)
    except (SystemExit, ValueError):  # cs raises SystemExit when no ini file exists
        return {}


def api_settings(config: ProjectConfig) -> ApiSettings:
    """Endpoint and keys for `config`; ConfigError listing what is missing and where to put it."""
    section = config.cloudstack
    found = {"endpoint": section.get("endpoint"), "key": section.get("api_key"), "secret": section.get("secret_key")}
    if not all(found.values()):
        fallback = _from_cs(section.get("region"))
        found = {k: v or fallback.get(k) for k, v in found.items()}
    names = {"endpoint": ("endpoint", "CLOUDSTACK_ENDPOINT"), "key": ("api_key", "CLOUDSTACK_KEY"),
             "secret": ("secret_key", "CLOUDSTACK_SECRET")}
    missing = [Problem(f"cloudstack.{names[k][0]}", "not set in the file, the environment or cloudstack.ini",
                       f"set {names[k][1]} or cloudstack.{names[k][0]}", missing=True)
               for k, v in found.items() if not v]
    if missing:
        raise ConfigError(config.source, missing)
    verify: bool | str = section.get("ca_cert") or section.get("verify", True)
    return ApiSettings(found["endpoint"], found["key"], found["secret"], verify)
