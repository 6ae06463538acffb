"""The `cloudstack_cpi` job's properties: one table for the job spec and the cpi.json template.

Names follow cpi/config.py (the community CPI's `cloudstack.*` names plus this CPI's additions), then every name of
the Go and Ruby CPIs that cpi/config_names.py accepts, so that a manifest written for them (bosh-deployment's
`cloudstack/cpi.yml`) reaches the CPI: BOSH hands a job template only the properties its spec declares. A test
checks that the schema's keys and the accepted names are declared here and nothing else is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cpi import config_names

_NO_DEFAULT = object()


@dataclass(frozen=True)
class JobProperty:
    name: str  # dotted, e.g. cloudstack.endpoint
    description: str
    default: Any = _NO_DEFAULT
    required: bool = False  # no default and the CPI cannot work without it

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT

    @property
    def key(self) -> str:
        """The name under its section (`endpoint` for `cloudstack.endpoint`; `ntp` for the top-level `ntp`)."""
        return self.name.split(".", 1)[-1]

    @property
    def section(self) -> str:
        """`cloudstack`, `agent`, or "" for a top-level property."""
        return self.name.split(".", 1)[0] if "." in self.name else ""


PROPERTIES: tuple[JobProperty, ...] = (
    JobProperty("cloudstack.endpoint", "CloudStack API URL, e.g. https://cloud.example.com/client/api", required=True),
    JobProperty("cloudstack.api_key", "API key of the CloudStack account BOSH deploys into", required=True),
    JobProperty("cloudstack.secret_access_key", "Secret key matching cloudstack.api_key", required=True),
    JobProperty("cloudstack.default_zone", "Zone name used when cloud_properties name none (optional: the only zone "
                "when the account sees one)"),
    JobProperty("cloudstack.zones", "Extra zones every stemcell template is copied to (the default zone is always "
                "included)", []),
    JobProperty("cloudstack.default_key_name", "SSH keypair given to VMs whose cloud_properties name none (optional)"),
    JobProperty("cloudstack.default_security_groups", "Security groups for VMs whose networks name none (basic "
                "zones and advanced zones with security groups)", []),
    JobProperty("cloudstack.state_timeout", "Seconds to wait for a VM job (deploy, destroy, reboot...)", 600),
    JobProperty("cloudstack.state_timeout_volume", "Seconds to wait for a volume, snapshot or template job", 1200),
    JobProperty("cloudstack.request_timeout", "Seconds to wait for one HTTP answer from the API", 60),
    JobProperty("cloudstack.timeouts", "Per-operation job timeouts in seconds, overriding state_timeout(_volume); "
                "keys: create_vm, delete_vm, reboot_vm, start_vm, static_nat, tags, create_volume, delete_volume, "
                "attach_volume, detach_volume, resize_volume, snapshot_volume, delete_snapshot, create_template, "
                "copy_template, delete_template, upload_template", {}),
    JobProperty("cloudstack.stemcell_public_visibility", "Make stemcell templates public to every account", False),
    JobProperty("cloudstack.stemcell_upload", "How create_stemcell uploads images: auto (volume copy when the CPI "
                "runs on a CloudStack VM, else direct upload), volume, url or upload", "auto"),
    JobProperty("cloudstack.stemcell_os_type", "CloudStack OS type for stemcell templates (optional: chosen from "
                "the stemcell's operating system)"),
    JobProperty("cloudstack.stemcell_requires_hvm", "requireshvm of stemcell templates: true/false for every "
                "hypervisor, or per hypervisor, e.g. {XenServer: false, KVM: true} (optional: false for XenServer, "
                "whose CloudStack stemcells boot paravirtualised with OS type 'Other PV (64-bit)', true elsewhere)"),
    JobProperty("cloudstack.stemcell_http_bind", "Address the CPI serves stemcell images on for url uploads",
                "127.0.0.1"),
    JobProperty("cloudstack.stemcell_http_host", "Host or IP CloudStack's secondary storage reaches the CPI at for "
                "url uploads (optional)"),
    JobProperty("cloudstack.stemcell_device_dir", "Where attached volumes appear for volume-copy uploads (optional: "
                "/dev)"),
    JobProperty("cloudstack.metadata_url", "Metadata service URL the CPI finds its own VM id from (optional: "
                "the virtual router's data server)"),
    JobProperty("cloudstack.expunge", "Expunge VMs when deleting them (frees names and static IPs at once)", True),
    JobProperty("cloudstack.ca_cert", "PEM CA certificate(s) trusted for the API's TLS certificate (optional)"),
    JobProperty("cloudstack.skip_verify_ssl", "Do not verify the API's TLS certificate (unsafe; tests only)", False),
    JobProperty("cloudstack.default_disk_offering", "Disk offering for persistent disks whose cloud_properties "
                "name none (optional: smallest fitting or custom offering)"),
    JobProperty("cloudstack.default_ephemeral_disk_offering", "Disk offering for ephemeral disks whose "
                "cloud_properties name none (optional)"),
    JobProperty("cloudstack.custom_cpu_speed", "CPU speed (MHz) for custom compute offerings", 2000),
    JobProperty("cloudstack.custom_disk_offering", "Custom disk offering for sizes no fixed offering has and for "
                "resize_disk (optional: a custom offering with the disk's storage tags)"),
    JobProperty("cloudstack.compute_offering_tags", "calculate_vm_cloud_properties picks only compute offerings "
                "carrying one of these tags (optional)"),
    JobProperty("cloudstack.compute_offering_not_tags", "... and none carrying one of these (optional)"),
    JobProperty("cloudstack.disk_offering_tags", "Disk offerings chosen by size (no disk_offering named) must carry "
                "one of these tags (optional)"),
    JobProperty("cloudstack.disk_offering_not_tags", "... and none of these (optional)"),
    JobProperty("cloudstack.enable_auto_anti_affinity", "Put the VMs of each instance group in an affinity group "
                "<director uuid>-<group>, created on demand, deleted with its last VM", False),
    JobProperty("cloudstack.auto_anti_affinity_type", "Type of those groups (default: host anti-affinity)"),
    JobProperty("agent.mbus", "Message bus URL the BOSH agent listens on, e.g. nats://user:pass@10.0.0.6:4222 or "
                "https://mbus:pass@0.0.0.0:6868 (optional)"),
    JobProperty("agent.ntp", "NTP servers for the agent", []),
    JobProperty("agent.blobstore", "Agent blobstore settings: {provider: dav|local|s3..., options: {...}} "
                "(optional)"),
    JobProperty("ntp", "NTP servers for the agent when agent.ntp is empty (the Go CPI's name; bosh-deployment's "
                "bosh.yml sets it)"),
)


def _other_cpis_names() -> tuple[JobProperty, ...]:
    """The Go and Ruby CPIs' names cpi/config_names.py accepts below `cloudstack`."""
    props = [JobProperty(f"cloudstack.{name}", f"The Go/Ruby CPI's name for cloudstack.{target}")
             for name, target in config_names.SYNONYMS.items()]
    props.append(JobProperty(f"cloudstack.{config_names.GLOBAL_TIMEOUT}", "The Go CPI's name: sets "
                             "cloudstack.state_timeout and state_timeout_volume where they are not given"))
    props.append(JobProperty(f"cloudstack.{config_names.METADATA_SERVER}", "The Ruby CPI's name: host[:port] of the "
                             "metadata service, as cloudstack.metadata_url http://host[:port]"))
    props += [JobProperty(f"cloudstack.{name}", f"Accepted for the Go/Ruby CPI's manifests; no effect here: {why}")
              for name, why in config_names.NO_EFFECT.items()]
    props += [JobProperty(f"cloudstack.{name}", "Accepted for the Go CPI's manifests when empty; this CPI uses no "
                          "proxy for the CloudStack API") for name in config_names.UNSUPPORTED]
    return tuple(props)


OTHER_CPIS = _other_cpis_names()
# Keys other CPIs' names also set: no spec default (it would clash with the synonym); the CPI applies it.
ALL_PROPERTIES = PROPERTIES + OTHER_CPIS
_SYNONYM_TARGETS = {target.split(".", 1)[0] for target in config_names.SYNONYMS.values()} | set(
    config_names.GLOBAL_TIMEOUT_TARGETS) | {"metadata_url"}


def spec_properties() -> dict[str, dict[str, Any]]:
    """The job spec's `properties:` mapping."""
    out: dict[str, dict[str, Any]] = {}
    for prop in ALL_PROPERTIES:
        entry: dict[str, Any] = {"description": prop.description}
        if prop.has_default and prop.section == "cloudstack" and prop.key in _SYNONYM_TARGETS:
            entry["description"] += f" (default {prop.default!r})"
        elif prop.has_default:
            entry["default"] = prop.default
        out[prop.name] = entry
    return out
