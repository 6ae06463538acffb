"""The CloudStack API settings of a project config: the file's `cloudstack` section first, then the
`CLOUDSTACK_*` variables and the cloudstack.ini region, with the API client's own precedence rules."""
from __future__ import annotations

from cpi.cloudstack.config import ClientSettings, resolve_settings
from cpi.cloudstack.errors import CloudStackConfigError
from inception.config.loader import ConfigError, Problem, ProjectConfig

# setting -> (config key, environment variable)
_NAMES = {"endpoint": ("endpoint", "CLOUDSTACK_ENDPOINT"), "api_key": ("api_key", "CLOUDSTACK_KEY"),
          "secret_key": ("secret_key", "CLOUDSTACK_SECRET")}


def api_settings(config: ProjectConfig) -> ClientSettings:
    """Endpoint, keys and TLS settings for `config`; a ConfigError lists every missing one and where to put it."""
    section = config.cloudstack
    verify = section.get("verify", True)
    try:
        return resolve_settings(section.get("endpoint"), section.get("api_key"), section.get("secret_key"),
                                section.get("region"), verify=None if verify is True else verify,
                                ca_bundle=section.get("ca_cert"))
    except CloudStackConfigError as err:
        if not err.missing:
            raise ConfigError(config.source, [Problem("cloudstack", err.message)]) from None
        raise ConfigError(config.source, [
            Problem(f"cloudstack.{_NAMES[name][0]}", "not set in the file, the environment or cloudstack.ini",
                    f"set {_NAMES[name][1]} or cloudstack.{_NAMES[name][0]}", missing=True)
            for name in err.missing]) from None
