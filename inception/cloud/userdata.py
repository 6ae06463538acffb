"""The inception VM's cloud-init user-data: packages create-env needs, the acpiphp module for volume
hot-plug, and the SSH host key generated here (so its fingerprint is pinned before the first connection)."""
from __future__ import annotations

from inception.config.yamlio import dump_yaml
from inception.remote.hostkeys import HostKey, cloud_init_ssh_keys, generate_host_key
from inception.state import State

HOST_KEY_SECRET = "inception-vm-host-key"
# python3: the CPI; ruby: create-env renders ERB job templates with it; curl: the bosh CLI download.
PACKAGES = ["python3", "python3-venv", "ruby", "curl", "ca-certificates"]


def host_key(state: State) -> HostKey:
    """The inception VM's host key: created once per environment, private half in secrets/ (0600),
    public line and fingerprint in the shareable state."""
    private = state.dir.read_secret(HOST_KEY_SECRET)
    public = state.outputs.get("inception_host_key")
    if private and public:
        return HostKey(public_line=public, private_openssh=private)
    key = generate_host_key(comment=f"{state.environment}-inception")
    state.dir.write_secret(HOST_KEY_SECRET, key.private_openssh)
    state.set_output(inception_host_key=key.public_line, inception_host_key_fingerprint=key.fingerprint)
    return key


def cloud_config(key: HostKey) -> str:
    config = {
        "package_update": True,
        "packages": PACKAGES,
        "write_files": [{"path": "/etc/modules-load.d/acpiphp.conf", "content": "acpiphp\n"}],
        "runcmd": [["modprobe", "acpiphp"]],
        **cloud_init_ssh_keys(key),
    }
    return "#cloud-config\n" + dump_yaml(config)
