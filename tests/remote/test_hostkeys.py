"""Host keys generated for cloud-init: OpenSSH's fingerprint format, the cloud-config shape, no secret in repr."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from inception.remote.hostkeys import HostKeyFormatError, cloud_init_ssh_keys, fingerprint, generate_host_key


def test_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    key = generate_host_key("vm")
    (tmp_path / "key.pub").write_text(key.public_line + "\n")
    printed = subprocess.run(["ssh-keygen", "-lf", str(tmp_path / "key.pub")], capture_output=True, text=True,
                             check=True).stdout.split()
    assert printed[1] == key.fingerprint == fingerprint(key.public_line)
    assert printed[-1] == "(ED25519)"


def test_private_key_is_readable_by_openssh(tmp_path: Path) -> None:
    key = generate_host_key()
    path = tmp_path / "host"
    path.write_text(key.private_openssh)
    path.chmod(0o600)
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(path)], capture_output=True, text=True, check=True)
    assert derived.stdout.split()[:2] == key.public_line.split()[:2]
    assert "PRIVATE" not in repr(key)


def test_cloud_init_section() -> None:
    key = generate_host_key("inception-vm")
    section = cloud_init_ssh_keys(key)
    text = "#cloud-config\n" + yaml.safe_dump(section)
    parsed = yaml.safe_load(text)
    assert parsed["ssh_keys"]["ed25519_private"] == key.private_openssh
    assert parsed["ssh_keys"]["ed25519_public"] == " ".join(key.public_line.split()[:2])
    assert parsed["ssh_deletekeys"] is True and parsed["ssh_genkeytypes"] == []


ED25519_BLOB = "AAAAC3NzaC1lZDI1NTE5AAAAIAc2cvUg+QKBTh5Np8mCZKF4wzvBTqMQK6MOo0snVUiu"


@pytest.mark.parametrize("line", ["", "ssh-ed25519", "ssh-ed25519 not-base64!", f"ssh-rsa {ED25519_BLOB}"],
                         ids=["empty", "no-key", "bad-base64", "type-mismatch"])
def test_malformed_public_lines(line: str) -> None:
    with pytest.raises(HostKeyFormatError):
        fingerprint(line)
