"""Where the client's endpoint and credentials come from.

Precedence, per setting: explicit values > the ``cloudstack.ini`` section of an explicitly
named region > ``CLOUDSTACK_*`` environment variables > the ``cloudstack.ini`` section of the
default region (``$CLOUDSTACK_REGION`` or ``cloudstack``). The ini files are the ones ``cs``
reads (``~/.cloudstack.ini``, ``./cloudstack.ini``, ``$CLOUDSTACK_CONFIG``, last wins) and are
parsed by ``cs.client.read_config_from_ini``, so a ``cs`` user's existing file just works.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cs.client import read_config_from_ini, strtobool

from .errors import CloudStackConfigError

DEFAULT_TIMEOUT = 60.0
DEFAULT_JOB_TIMEOUT = 900.0

# setting -> (cs ini key / CLOUDSTACK_<KEY> suffix, human name, explicit argument name)
_FIELDS = {
    "endpoint": ("endpoint", "API endpoint", "endpoint"),
    "api_key": ("key", "API key", "api_key"),
    "secret_key": ("secret", "secret key", "secret_key"),
    "timeout": ("timeout", "HTTP timeout", "timeout"),
    "job_timeout": ("job_timeout", "async job timeout", "job_timeout"),
    "verify": ("verify", "TLS verification", "verify/ca_bundle"),
}


@dataclass(frozen=True)
class ClientSettings:
    """Resolved client settings; the credentials are kept out of the repr."""

    endpoint: str
    api_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    verify: bool | str = True
    timeout: float = DEFAULT_TIMEOUT
    job_timeout: float = DEFAULT_JOB_TIMEOUT
    region: str | None = None


def resolve_settings(
    endpoint: str | None = None,
    api_key: str | None = None,
    secret_key: str | None = None,
    region: str | None = None,
    *,
    verify: bool | None = None,
    ca_bundle: str | None = None,
    timeout: float | None = None,
    job_timeout: float | None = None,
) -> ClientSettings:
    """Merge explicit values, the environment and cloudstack.ini; raise CloudStackConfigError
    (naming the missing or bad setting and where to set it) when they do not add up."""
    if verify is False and ca_bundle:
        raise CloudStackConfigError("verify=False and a CA bundle contradict each other; give one of them")
    explicit = {
        "endpoint": endpoint,
        "api_key": api_key,
        "secret_key": secret_key,
        "timeout": timeout,
        "job_timeout": job_timeout,
        "verify": ca_bundle or verify,
    }
    sources: list[tuple[str, Mapping[str, Any]]] = [("explicit argument", explicit)]
    if region:
        sources.append((f"cloudstack.ini [{region}]", _ini_values(region, required=True)))
    sources.append(("environment", _env_values()))
    merged, origin = _merge(sources)
    if not region and not {"endpoint", "api_key", "secret_key"} <= merged.keys():
        default_region = os.environ.get("CLOUDSTACK_REGION", "cloudstack")
        merged, origin = _merge([*sources, (f"cloudstack.ini [{default_region}]", _ini_values(None, required=False))])
    missing = tuple(name for name in ("endpoint", "api_key", "secret_key") if not merged.get(name))
    if missing:
        raise CloudStackConfigError("\n".join(_missing_message(name, region) for name in missing), missing=missing)
    _check_endpoint(merged["endpoint"], origin["endpoint"])
    return ClientSettings(
        endpoint=merged["endpoint"],
        api_key=merged["api_key"],
        secret_key=merged["secret_key"],
        verify=_verify_value(merged.get("verify", True), origin.get("verify")),
        timeout=_seconds(merged.get("timeout", DEFAULT_TIMEOUT), "timeout", origin.get("timeout")),
        job_timeout=_seconds(merged.get("job_timeout", DEFAULT_JOB_TIMEOUT), "job_timeout", origin.get("job_timeout")),
        region=region,
    )


def _merge(sources: list[tuple[str, Mapping[str, Any]]]) -> tuple[dict[str, Any], dict[str, str]]:
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for label, values in sources:
        for name, value in values.items():
            if value is not None and value != "" and name not in merged:
                merged[name] = value
                origin[name] = label
    return merged, origin


def _env_values() -> dict[str, Any]:
    values = {name: os.environ.get(f"CLOUDSTACK_{key.upper()}") for name, (key, _, _) in _FIELDS.items()}
    if values["verify"] is None and _truthy(os.environ.get("CLOUDSTACK_DANGEROUS_NO_TLS_VERIFY")):
        values["verify"] = False
    return values


def _ini_values(region: str | None, *, required: bool) -> dict[str, Any]:
    try:
        conf = read_config_from_ini(region)
    except SystemExit as exc:  # cs exits when no ini file exists at all
        if required:
            raise CloudStackConfigError(f"region {region!r} was asked for, but {exc}") from None
        return {}
    except configparser.NoSectionError:
        raise CloudStackConfigError(
            f"region {region!r} not found: add a [{region}] section to one of {', '.join(ini_paths())}"
        ) from None
    except configparser.Error as exc:
        raise CloudStackConfigError(f"cloudstack.ini cannot be parsed: {exc.message}") from None
    values = {name: conf.get(key) for name, (key, _, _) in _FIELDS.items()}
    if values["verify"] is None and _truthy(conf.get("dangerous_no_tls_verify")):
        values["verify"] = False
    return values


def ini_paths() -> list[str]:
    """The ini files cs reads, in order (the last one wins)."""
    paths = [os.path.join(os.path.expanduser("~"), ".cloudstack.ini"), os.path.join(os.getcwd(), "cloudstack.ini")]
    if "CLOUDSTACK_CONFIG" in os.environ:
        paths.append(os.path.expanduser(os.environ["CLOUDSTACK_CONFIG"]))
    return paths


def _missing_message(name: str, region: str | None) -> str:
    key, human, argument = _FIELDS[name]
    section = region or os.environ.get("CLOUDSTACK_REGION", "cloudstack")
    return (
        f"CloudStack API settings are incomplete: no {human}. Give it as {argument}, "
        f"set CLOUDSTACK_{key.upper()}, or put '{key} = ...' in the [{section}] section of "
        f"one of {', '.join(ini_paths())}"
    )


def _check_endpoint(endpoint: str, origin: str) -> None:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CloudStackConfigError(
            f"CloudStack endpoint {endpoint!r} (from {origin}) is not an http(s) URL; "
            "expected e.g. https://cloud.example.com/client/api"
        )


def _truthy(value: str | None) -> bool:
    try:
        return bool(value) and strtobool(value)  # type: ignore[arg-type]
    except ValueError:
        return False


def _verify_value(value: Any, origin: str | None) -> bool | str:
    """True/False, or the path of a CA bundle file."""
    if isinstance(value, bool):
        return value
    try:
        return strtobool(str(value))
    except ValueError:
        pass
    path = os.path.expanduser(str(value))
    if not os.path.isfile(path):
        raise CloudStackConfigError(
            f"TLS verification setting {value!r} (from {origin}) is neither true/false nor an existing CA bundle file"
        )
    return path


def _seconds(value: Any, name: str, origin: str | None) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if seconds <= 0:
        raise CloudStackConfigError(f"{name} {value!r} (from {origin}) must be a positive number of seconds")
    return seconds
