"""What a key file holds, as CloudStack's registerSSHKeyPair would judge it: the wizard and the pre-flight ask
the same question of `inception.public_key_file`."""
from __future__ import annotations

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization


def key_kind(data: bytes) -> str:
    """"public" for an OpenSSH public key, "private" for a private key given by mistake, else "other"."""
    try:
        serialization.load_ssh_public_key(data.strip())
        return "public"
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return "private" if b"PRIVATE KEY" in data else "other"
