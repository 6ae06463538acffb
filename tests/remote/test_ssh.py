"""RemoteHost against a real sshd: pinned host key, refusal, live output, files, retries, redaction."""
from __future__ import annotations

import dataclasses
import logging
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from inception.remote.errors import (
    HostKeyMismatchError,
    RemoteAuthError,
    RemoteCommandError,
    RemoteFileError,
    RemoteUnreachableError,
)
from inception.remote.redact import redact
from inception.remote.hostkeys import generate_host_key
from inception.remote.ssh import RemoteHost
from testkit.sshd import RunningSshd, free_port


def test_pinned_host_key_connects_and_runs(remote: RemoteHost, sshd: RunningSshd) -> None:
    result = remote.run(["sh", "-c", 'echo "$HOME"; id -un'])
    assert result.stdout.splitlines() == [str(sshd.home), sshd.user]
    assert remote.home == str(sshd.home)


def test_other_host_key_is_refused_before_anything_runs(sshd: RunningSshd, tmp_path: Path) -> None:
    marker = sshd.home / f"must-not-exist-{os.getpid()}"
    impostor = generate_host_key()
    target = dataclasses.replace(sshd.target, host_public_key=impostor.public_line)
    host = RemoteHost(target)
    logins_before = sshd.log_path.read_text().count("Accepted publickey")
    started = time.monotonic()
    with pytest.raises(HostKeyMismatchError) as caught:
        host.connect(wait=30)  # not retried: a mismatch does not heal by waiting
        host.run(["touch", str(marker)])
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert impostor.fingerprint in message and sshd.host_key.fingerprint in message
    assert "nothing was run" in message
    assert caught.value.expected == impostor.fingerprint and caught.value.offered == sshd.host_key.fingerprint
    assert not marker.exists()
    time.sleep(0.2)
    assert sshd.log_path.read_text().count("Accepted publickey") == logins_before  # never authenticated


def test_host_key_of_other_type_is_refused(sshd: RunningSshd) -> None:
    rsa_line = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7rVb7yyP4GeW4C5tg/4Ar3UEBx1Hwzh0E6xbdCj8VrT1iJGkHLL3kzJcz"
                "mOxJ+CsjIXtqS7ZWqWKl4zrGOOiJfhJvHz9eMaexsLR+qJkX2VDQDK9fzO/MW2j56awmoqBNJaTHrbtz/s2RjpvWEODswuWc"
                "8EHLiLVq3JhNIdP8Jw==")
    with pytest.raises(HostKeyMismatchError) as caught:
        RemoteHost(dataclasses.replace(sshd.target, host_public_key=rsa_line)).connect()
    assert sshd.host_key.fingerprint in str(caught.value)


def test_pinning_works_when_the_server_has_several_host_keys(tmp_path: Path) -> None:
    two_keys = RunningSshd(tmp_path / "two", rsa_host_key=True).start()
    try:
        assert two_keys.rsa_host_key is not None
        for pinned in (two_keys.host_key, two_keys.rsa_host_key):  # the client asks for the pinned key's type
            with RemoteHost(dataclasses.replace(two_keys.target, host_public_key=pinned.public_line)).connect() as host:
                assert host.run("echo ok").stdout == "ok\n"
        with pytest.raises(HostKeyMismatchError):
            RemoteHost(dataclasses.replace(two_keys.target, host_public_key=generate_host_key().public_line)).connect()
    finally:
        two_keys.stop()


def test_cloudstack_style_pkcs1_rsa_key_logs_in(sshd: RunningSshd, tmp_path: Path) -> None:
    """createSSHKeyPair hands out a PKCS#1 PEM RSA key ("BEGIN RSA PRIVATE KEY")."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "cloudstack-keypair.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
    assert pem.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    with (sshd.workdir / "authorized_keys").open("a") as authorized:
        authorized.write(public.decode() + " cloudstack-keypair\n")
    with RemoteHost(dataclasses.replace(sshd.target, key_path=pem)).connect() as host:
        assert host.run("echo rsa").stdout == "rsa\n"


def test_wrong_client_key_is_an_auth_error(sshd: RunningSshd, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    other = tmp_path / "other_key"
    other.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()))
    started = time.monotonic()
    with pytest.raises(RemoteAuthError, match=f"refused login as '{sshd.user}'"):
        RemoteHost(dataclasses.replace(sshd.target, key_path=other)).connect(wait=30)
    assert time.monotonic() - started < 5  # not retried until the deadline


def test_unreachable_retries_until_deadline(sshd: RunningSshd) -> None:
    target = dataclasses.replace(sshd.target, port=free_port())
    started = time.monotonic()
    with pytest.raises(RemoteUnreachableError, match=f"cannot reach SSH on the inception VM at 127.0.0.1:{target.port} after"):
        RemoteHost(target).connect(wait=1.0)
    assert 0.7 <= time.monotonic() - started < 4


def test_waits_for_a_server_that_comes_up_later(tmp_path: Path) -> None:
    late = RunningSshd(tmp_path / "late")
    timer = threading.Timer(0.4, late.start)
    timer.start()
    try:
        with RemoteHost(late.target).connect(wait=15) as host:
            assert host.run("echo up").stdout == "up\n"
    finally:
        timer.join()
        late.stop()


def test_output_streams_line_by_line_in_order(remote: RemoteHost) -> None:
    seen: list[tuple[float, str, str]] = []
    script = "for i in 1 2 3; do echo out-$i; echo err-$i >&2; sleep 0.15; done; printf tail"
    result = remote.run(script, on_output=lambda stream, line: seen.append((time.monotonic(), stream, line)))
    assert [line for _, stream, line in seen if stream == "stdout"] == ["out-1", "out-2", "out-3", "tail"]
    assert [line for _, stream, line in seen if stream == "stderr"] == ["err-1", "err-2", "err-3"]
    first = next(t for t, _, line in seen if line == "out-1")
    third = next(t for t, _, line in seen if line == "out-3")
    assert third - first >= 0.25  # delivered while running, not all at the end
    assert result.stdout == "out-1\nout-2\nout-3\ntail\n"


def test_sequence_commands_are_quoted(remote: RemoteHost) -> None:
    nasty = "a b; echo INJECTED $(id) 'q' \"d\""
    assert remote.run(["printf", "%s", nasty]).stdout == nasty + "\n"


def test_env_and_cwd(remote: RemoteHost, sshd: RunningSshd) -> None:
    result = remote.run('printf "%s|%s" "$GREETING" "$PWD"', env={"GREETING": "it's \"quoted\""}, cwd=str(sshd.home))
    assert result.stdout.strip() == f"it's \"quoted\"|{sshd.home}"


def test_env_values_stay_out_of_the_command_line_other_users_can_see(remote: RemoteHost) -> None:
    """The login shell's argv is in /proc/<pid>/cmdline (and `ps`) for every user on the VM; env values must not be
    there, and still reach the command exactly (newlines, quotes) with the command's own stdin after them."""
    secret = "pa55-'w0rd' $(id) \"x\""
    ca_cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    result = remote.run('tr "\\0" " " < /proc/$$/cmdline; echo; printenv BOSH_CLIENT_SECRET; printf %s "$BOSH_CA_CERT"; '
                        'cat', env={"BOSH_CLIENT_SECRET": secret, "BOSH_CA_CERT": ca_cert}, stdin=b"stdin: kept\n")
    cmdline, rest = result.stdout.split("\n", 1)
    assert "head -c" in cmdline and secret not in cmdline and "MIIB" not in cmdline
    assert rest == f"{secret}\n{ca_cert}stdin: kept\n"


def test_failure_raises_with_stderr_and_redacts_secrets(remote: RemoteHost, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="inception.remote")
    secret = "s3cr3t-Pa55"
    with pytest.raises(RemoteCommandError) as caught:
        remote.run(["sh", "-c", "echo boom >&2; exit 3", "--password", secret], secrets=[secret],
                   env={"BOSH_CLIENT_SECRET": "env-secret-value"})
    assert caught.value.exit_status == 3 and "boom" in str(caught.value)
    assert secret not in str(caught.value) and "***" in str(caught.value)
    logged = caplog.text
    assert "--password" in logged and secret not in logged and "env-secret-value" not in logged
    assert "BOSH_CLIENT_SECRET" in logged
    assert remote.run("exit 4", check=False).exit_status == 4


def test_put_get_round_trip_with_modes(remote: RemoteHost, sshd: RunningSshd, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    local = tmp_path / "blob.bin"
    local.write_bytes(data)
    dest = f"{remote.home}/rt-{os.getpid()}-{time.monotonic_ns()}"
    remote.makedirs(dest)
    remote.put(local, f"{dest}/blob.bin", mode=0o640)
    remote.put_bytes(b"secret: yes\n", f"{dest}/creds.yml")
    assert stat.S_IMODE(os.stat(f"{dest}/blob.bin").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(f"{dest}/creds.yml").st_mode) == 0o600
    assert sorted(os.listdir(dest)) == ["blob.bin", "creds.yml"]  # no temporary names left behind
    import hashlib
    assert remote.digest(f"{dest}/blob.bin") == hashlib.sha256(data).hexdigest()
    assert remote.digest(f"{dest}/absent") is None
    back = tmp_path / "back" / "blob.bin"
    remote.get(f"{dest}/blob.bin", back)
    assert back.read_bytes() == data and stat.S_IMODE(back.stat().st_mode) == 0o600
    remote.get(f"{dest}/creds.yml", tmp_path / "creds.yml", mode=0o644)
    assert stat.S_IMODE((tmp_path / "creds.yml").stat().st_mode) == 0o644


def test_upload_into_a_missing_directory_fails_cleanly(remote: RemoteHost, tmp_path: Path) -> None:
    with pytest.raises(RemoteFileError, match="cannot write .*/no-such-dir/file"):
        remote.put_bytes(b"x", f"{remote.home}/no-such-dir/file")
    with pytest.raises(RemoteFileError, match="cannot download"):
        remote.get(f"{remote.home}/no-such-file", tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_redaction() -> None:
    assert redact("curl -o x https://user:pa55@example.org/bosh --token abc", ["abc"]) == \
        "curl -o x https://user:***@example.org/bosh --token ***"
