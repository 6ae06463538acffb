"""Generate the values of BOSH `variables:` definitions: password, certificate, rsa, ssh.

Randomness is injectable so golden tests can be reproducible: `SecretGenerator(rng=random.Random(1),
key_factory=..., now=...)`. Production uses the OS CSPRNG (`secrets.SystemRandom`), 2048-bit RSA keys
from `cryptography` and the current time. Certificate values have BOSH's shape
`{ca, certificate, private_key}`; rsa/ssh values `{private_key, public_key}` (+ `public_key_fingerprint`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import base64
import ipaddress
import random
import secrets
import string
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PASSWORD_ALPHABET = string.ascii_lowercase + string.digits
PASSWORD_LENGTH = 32
CERT_DAYS = 365 * 2

_EKU = {"server_auth": ExtendedKeyUsageOID.SERVER_AUTH, "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
        "code_signing": ExtendedKeyUsageOID.CODE_SIGNING, "email_protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
        "timestamping": ExtendedKeyUsageOID.TIME_STAMPING}
EXTENDED_KEY_USAGES = tuple(_EKU)  # the values BOSH accepts in a certificate's options.extended_key_usage

KeyFactory = Callable[[], rsa.RSAPrivateKey]


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def _pem_public(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def certificate_names(pem: str) -> tuple[str, set[str], str]:
    """(common name, SANs as strings, issuer common name) of a PEM certificate."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    issuer = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        sans = {str(v) for v in cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                .get_values_for_type(x509.IPAddress)}
        sans |= set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                    .get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        sans = set()
    return (str(cn[0].value) if cn else "", sans, str(issuer[0].value) if issuer else "")


class SecretGenerator:
    def __init__(self, rng: random.Random | None = None, key_factory: KeyFactory = new_rsa_key,
                 now: Callable[[], dt.datetime] | None = None):
        self.rng = rng or secrets.SystemRandom()
        self.key_factory = key_factory
        self.now = now or (lambda: dt.datetime.now(dt.timezone.utc))

    def password(self, length: int = PASSWORD_LENGTH) -> str:
        return "".join(self.rng.choice(PASSWORD_ALPHABET) for _ in range(length))

    def rsa(self) -> dict[str, str]:
        key = self.key_factory()
        return {"private_key": _pem_key(key), "public_key": _pem_public(key)}

    def ssh(self) -> dict[str, str]:
        key = self.key_factory()
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        blob = base64.b64decode(public.split()[1])
        fingerprint = ":".join(f"{b:02x}" for b in hashlib.md5(blob, usedforsecurity=False).digest())
        return {"private_key": _pem_key(key), "public_key": public.decode(), "public_key_fingerprint": fingerprint}

    def certificate(self, options: dict[str, Any], ca: dict[str, str] | None) -> dict[str, str]:
        """A certificate per BOSH options (common_name, alternative_names, is_ca, extended_key_usage,
        duration in days); signed by `ca` ({certificate, private_key}) or self-signed when None."""
        key = self.key_factory()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(options.get("common_name", "bosh")))])
        if ca:
            ca_cert = x509.load_pem_x509_certificate(ca["certificate"].encode())
            ca_key = serialization.load_pem_private_key(ca["private_key"].encode(), password=None)
            issuer = ca_cert.subject
        else:
            ca_cert, ca_key, issuer = None, key, subject
        start = self.now().replace(microsecond=0)
        is_ca = bool(options.get("is_ca"))
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(self.rng.getrandbits(126) + 1)
            .not_valid_before(start - dt.timedelta(hours=1))
            .not_valid_after(start + dt.timedelta(days=int(options.get("duration", CERT_DAYS))))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if is_ca:
            builder = builder.add_extension(
                x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                              encipher_only=False, decipher_only=False), critical=True)
        else:
            builder = builder.add_extension(
                x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                              data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                              encipher_only=False, decipher_only=False), critical=True)
        if ca_cert is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
        names = [str(n) for n in options.get("alternative_names") or []]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)
        usages = options.get("extended_key_usage") or []
        if usages:
            builder = builder.add_extension(x509.ExtendedKeyUsage([_EKU[u] for u in usages]), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        return {"ca": ca["certificate"] if ca else pem, "certificate": pem, "private_key": _pem_key(key)}
