"""cpi.json: the document the `cloudstack_cpi` release job renders.

Shape: `{"cloud": {"plugin": "cloudstack", "properties": {"cloudstack": {...}, "agent": {...}}}}`. The global
`cloudstack.*` keys keep the community CPI's names (endpoint, api_key, secret_access_key, default_zone, ...) so its
manifests keep working; the rest are this CPI's additions. Validation uses jsonschema, imported only when a method
needs the configuration (never for `info`).
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from cpi import config_names
from cpi.protocol import CpiError

log = logging.getLogger("cpi.config")

STEMCELL_UPLOAD_MODES = ("auto", "volume", "url", "upload")

# Operation names accepted under cloudstack.timeouts; each falls back to state_timeout or state_timeout_volume.
VM_OPERATIONS = ("create_vm", "delete_vm", "reboot_vm", "start_vm", "static_nat", "tags")
VOLUME_OPERATIONS = (
    "create_volume", "delete_volume", "attach_volume", "detach_volume", "resize_volume",
    "snapshot_volume", "delete_snapshot", "create_template", "copy_template", "delete_template", "upload_template",
)

DEFAULT_METADATA_URLS = ("http://169.254.169.254:39724", "http://data-server.")
# CloudStack's affinity group types (listAffinityGroupTypes of a default 4.18 install); the Go CPI's default.
DEFAULT_AFFINITY_TYPE = "host anti-affinity"

_TIMEOUT = {"type": "number", "exclusiveMinimum": 0}
_TAGS = {"type": "array", "items": {"type": "string"}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["cloud"],
    "properties": {
        "cloud": {
            "type": "object",
            "required": ["properties"],
            "properties": {
                "plugin": {"type": "string", "enum": ["cloudstack"]},
                "properties": {
                    "type": "object",
                    "required": ["cloudstack"],
                    "properties": {
                        "cloudstack": {
                            "type": "object",
                            "required": ["endpoint", "api_key", "secret_access_key"],
                            "properties": {
                                "endpoint": {"type": "string", "pattern": "^https?://"},
                                "api_key": {"type": "string", "minLength": 1},
                                "secret_access_key": {"type": "string", "minLength": 1},
                                "default_zone": {"type": ["string", "null"]},
                                "zones": {"type": "array", "items": {"type": "string"}},
                                "default_key_name": {"type": ["string", "null"]},
                                "default_security_groups": {"type": "array", "items": {"type": "string"}},
                                "state_timeout": _TIMEOUT,
                                "state_timeout_volume": _TIMEOUT,
                                "request_timeout": _TIMEOUT,
                                "timeouts": {
                                    "type": "object",
                                    "propertyNames": {"enum": list(VM_OPERATIONS + VOLUME_OPERATIONS)},
                                    "additionalProperties": _TIMEOUT,
                                },
                                "stemcell_public_visibility": {"type": "boolean"},
                                "stemcell_upload": {"type": "string", "enum": list(STEMCELL_UPLOAD_MODES)},
                                "stemcell_os_type": {"type": ["string", "null"]},
                                "stemcell_requires_hvm": {"type": ["boolean", "object", "null"],
                                                          "additionalProperties": {"type": "boolean"}},
                                "stemcell_http_bind": {"type": "string"},
                                "stemcell_http_host": {"type": ["string", "null"]},
                                "stemcell_device_dir": {"type": ["string", "null"]},
                                "metadata_url": {"type": ["string", "null"], "pattern": "^https?://"},
                                "expunge": {"type": "boolean"},
                                "ca_cert": {"type": ["string", "null"]},
                                "skip_verify_ssl": {"type": "boolean"},
                                "default_disk_offering": {"type": ["string", "null"]},
                                "default_ephemeral_disk_offering": {"type": ["string", "null"]},
                                "custom_cpu_speed": {"type": "integer", "minimum": 1},
                                "custom_disk_offering": {"type": ["string", "null"]},
                                "compute_offering_tags": _TAGS,
                                "compute_offering_not_tags": _TAGS,
                                "disk_offering_tags": _TAGS,
                                "disk_offering_not_tags": _TAGS,
                                "enable_auto_anti_affinity": {"type": "boolean"},
                                "auto_anti_affinity_type": {"type": ["string", "null"]},
                            },
                            "additionalProperties": True,
                        },
                        "agent": {
                            "type": "object",
                            "properties": {
                                "mbus": {"type": "string"},
                                "ntp": {"type": "array", "items": {"type": "string"}},
                                "blobstore": {"type": "object"},
                            },
                        },
                    },
                },
            },
        }
    },
}


@dataclass(frozen=True)
class AgentOptions:
    mbus: str | None = None
    ntp: list[str] = field(default_factory=list)
    blobstore: dict[str, Any] | None = None


@dataclass(frozen=True)
class CpiConfig:
    endpoint: str
    api_key: str
    secret_access_key: str = field(repr=False)
    default_zone: str | None = None
    zones: tuple[str, ...] = ()
    default_key_name: str | None = None
    default_security_groups: tuple[str, ...] = ()
    state_timeout: float = 600.0
    state_timeout_volume: float = 1200.0
    request_timeout: float = 60.0
    timeouts: dict[str, float] = field(default_factory=dict)
    stemcell_public_visibility: bool = False
    stemcell_upload: str = "auto"
    stemcell_os_type: str | None = None
    #: requireshvm for stemcell templates: one value, or per hypervisor ({"XenServer": false}); unset means the
    #: per-hypervisor default (cpi.methods.stemcell_template.requires_hvm)
    stemcell_requires_hvm: bool | dict[str, bool] | None = None
    stemcell_http_bind: str = "127.0.0.1"
    stemcell_http_host: str | None = None
    stemcell_device_dir: str | None = None
    metadata_url: str | None = None
    expunge: bool = True
    ca_cert: str | None = field(default=None, repr=False)
    skip_verify_ssl: bool = False
    default_disk_offering: str | None = None
    default_ephemeral_disk_offering: str | None = None
    custom_cpu_speed: int = 2000
    custom_disk_offering: str | None = None
    compute_offering_tags: tuple[str, ...] = ()
    compute_offering_not_tags: tuple[str, ...] = ()
    disk_offering_tags: tuple[str, ...] = ()
    disk_offering_not_tags: tuple[str, ...] = ()
    enable_auto_anti_affinity: bool = False
    auto_anti_affinity_type: str = DEFAULT_AFFINITY_TYPE
    agent: AgentOptions = field(default_factory=AgentOptions)

    def timeout(self, operation: str) -> float:
        """Job timeout for one operation: `timeouts.<op>`, else state_timeout(_volume) by the operation's kind."""
        if operation in self.timeouts:
            return float(self.timeouts[operation])
        return self.state_timeout_volume if operation in VOLUME_OPERATIONS else self.state_timeout

    @property
    def template_zones(self) -> tuple[str, ...]:
        """Zones a stemcell must be usable in: `zones`, plus the default zone."""
        names = list(self.zones)
        if self.default_zone and self.default_zone not in names:
            names.insert(0, self.default_zone)
        return tuple(names)

    @property
    def metadata_urls(self) -> tuple[str, ...]:
        return (self.metadata_url,) if self.metadata_url else DEFAULT_METADATA_URLS


def default_config_path() -> str | None:
    """What bin/cpi passes: $BOSH_JOBS_DIR/cloudstack_cpi/config/cpi.json (BOSH_JOBS_DIR defaults to /var/vcap/jobs)."""
    jobs_dir = os.environ.get("BOSH_JOBS_DIR", "/var/vcap/jobs")
    return os.path.join(jobs_dir, "cloudstack_cpi", "config", "cpi.json")


def load_config(path: str, context: dict[str, Any] | None = None) -> CpiConfig:
    """Read and validate cpi.json (with a multi-CPI request context merged over its `cloudstack` section); every
    problem is a CpiError naming the file, the key and the fix."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise CpiError(f"Cannot read CPI config {path}: {exc.strerror}; pass --config PATH or set BOSH_JOBS_DIR") from None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise CpiError(f"Invalid CPI config {path}: not JSON ({exc})") from None
    return parse_config(doc, source=path, context=context)


def _cloudstack_keys() -> set[str]:
    return set(SCHEMA["properties"]["cloud"]["properties"]["properties"]["properties"]["cloudstack"]["properties"])


def _normalised(doc: Any, source: str,
                context: dict[str, Any] | None) -> tuple[Any, dict[str, str], set[str]]:
    """`doc` with other CPIs' names mapped to ours and the context merged in, where each of our keys came from
    (when not from itself), and the keys the context set. Notes and warnings go to the log."""
    cloud = doc.get("cloud") if isinstance(doc, dict) else None
    props = cloud.get("properties") if isinstance(cloud, dict) else None
    if not isinstance(props, dict) or not isinstance(props.get("cloudstack"), dict):
        return doc, {}, set()  # the schema names what is missing
    cloudstack, from_context = config_names.merge_context(props["cloudstack"], context)
    try:
        result = config_names.normalise(cloudstack, _cloudstack_keys())
    except CpiError as exc:
        raise CpiError(f"Invalid CPI config {source}: {exc.message}") from None
    notes, warnings = config_names.normalise_top_level(props)
    for note in result.notes + notes:
        log.info("%s: %s", source, note)
    for warning in result.warnings + warnings:
        log.warning("%s: %s", source, warning)
    if from_context:
        log.info("cloudstack properties from the request context (cpi-config): %s", ", ".join(sorted(from_context)))
    agent = dict(props.get("agent") or {})
    if not agent.get("ntp") and props.get(config_names.TOP_LEVEL_NTP):
        agent["ntp"] = props[config_names.TOP_LEVEL_NTP]
    normalised = {**props, "cloudstack": result.cloudstack, "agent": agent}
    normalised.pop(config_names.TOP_LEVEL_NTP, None)
    return {**doc, "cloud": {**cloud, "properties": normalised}}, result.origin, from_context


def parse_config(doc: Any, source: str = "cpi.json", context: dict[str, Any] | None = None) -> CpiConfig:
    import jsonschema  # deferred: only methods that talk to CloudStack need it

    doc, origin, from_context = _normalised(doc, source, context)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        path = [str(p) for p in error.absolute_path]
        where = ".".join(path) or "(top level)"
        if path[:3] == ["cloud", "properties", "cloudstack"] and len(path) > 3:
            key = ".".join(path[3:5]) if path[3] == "timeouts" and len(path) > 4 else path[3]
            if key in origin:
                where += f" (given as cloudstack.{origin[key]})"
            if path[3] in from_context:
                where += " (from the request context: the cpi-config's properties)"
        message = error.message
        if error.validator in ("required",):
            message = f"{message}; add it under {where}"
        # Never echo values: they may be secrets.
        if error.validator in ("type", "pattern", "enum", "minLength", "exclusiveMinimum", "minimum", "propertyNames"):
            message = f"{error.validator} check failed ({_describe(error.schema, error.validator)})"
        raise CpiError(f"Invalid CPI config {source}: {where}: {message}")
    props = doc["cloud"]["properties"]
    cs = props["cloudstack"]
    agent = props.get("agent") or {}
    return CpiConfig(
        endpoint=cs["endpoint"],
        api_key=cs["api_key"],
        secret_access_key=cs["secret_access_key"],
        default_zone=cs.get("default_zone") or None,
        zones=tuple(cs.get("zones") or ()),
        default_key_name=cs.get("default_key_name") or None,
        default_security_groups=tuple(cs.get("default_security_groups") or ()),
        state_timeout=float(cs.get("state_timeout", 600)),
        state_timeout_volume=float(cs.get("state_timeout_volume", cs.get("state_timeout", 1200))),
        request_timeout=float(cs.get("request_timeout", 60)),
        timeouts={k: float(v) for k, v in (cs.get("timeouts") or {}).items()},
        stemcell_public_visibility=bool(cs.get("stemcell_public_visibility", False)),
        stemcell_upload=cs.get("stemcell_upload", "auto"),
        stemcell_os_type=cs.get("stemcell_os_type") or None,
        stemcell_requires_hvm=cs.get("stemcell_requires_hvm"),
        stemcell_http_bind=cs.get("stemcell_http_bind", "127.0.0.1"),
        stemcell_http_host=cs.get("stemcell_http_host") or None,
        stemcell_device_dir=cs.get("stemcell_device_dir") or None,
        metadata_url=cs.get("metadata_url") or None,
        expunge=bool(cs.get("expunge", True)),
        ca_cert=cs.get("ca_cert") or None,
        skip_verify_ssl=bool(cs.get("skip_verify_ssl", False)),
        default_disk_offering=cs.get("default_disk_offering") or None,
        default_ephemeral_disk_offering=cs.get("default_ephemeral_disk_offering") or None,
        custom_cpu_speed=int(cs.get("custom_cpu_speed", 2000)),
        custom_disk_offering=cs.get("custom_disk_offering") or None,
        compute_offering_tags=tuple(cs.get("compute_offering_tags") or ()),
        compute_offering_not_tags=tuple(cs.get("compute_offering_not_tags") or ()),
        disk_offering_tags=tuple(cs.get("disk_offering_tags") or ()),
        disk_offering_not_tags=tuple(cs.get("disk_offering_not_tags") or ()),
        enable_auto_anti_affinity=bool(cs.get("enable_auto_anti_affinity", False)),
        auto_anti_affinity_type=cs.get("auto_anti_affinity_type") or DEFAULT_AFFINITY_TYPE,
        agent=AgentOptions(mbus=agent.get("mbus"), ntp=list(agent.get("ntp") or []), blobstore=agent.get("blobstore")),
    )


def _describe(schema: dict[str, Any], keyword: str) -> str:
    if keyword == "type":
        return f"expected {schema.get('type')}"
    if keyword == "enum":
        return "expected one of " + ", ".join(map(str, schema.get("enum", [])))
    if keyword == "propertyNames":
        return "unknown key"
    if keyword == "pattern":
        return f"expected to match {schema.get('pattern')}"
    if keyword == "minLength":
        return "must not be empty"
    return f"must be > {schema.get('exclusiveMinimum', schema.get('minimum'))}"
