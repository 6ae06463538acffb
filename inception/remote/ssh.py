"""`RemoteHost`: an SSH connection to the inception VM with its host key pinned (paramiko).

The host key is known before the first connection (generated here and put into the VM's user-data, see
hostkeys.py); a server presenting any other key is refused before authentication, so nothing is sent
to it. Connection refusals and timeouts are retried until a deadline (the VM may still be booting);
authentication failures and host key mismatches are not (they do not heal by waiting).

Commands given as a sequence are quoted with shlex; a string is a shell snippet used as is. Output is
streamed line by line to a callback while it runs. Logs and errors show commands in a redacted form.
"""
from __future__ import annotations

import io
import logging
import os
import re
import secrets as token
import select
import shlex
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import paramiko

from inception.remote.errors import (
    HostKeyMismatchError,
    RemoteAuthError,
    RemoteCommandError,
    RemoteError,
    RemoteFileError,
    RemoteUnreachableError,
)
from inception.remote.hostkeys import fingerprint, fingerprint_blob, split_public_line
from inception.remote.redact import redact

log = logging.getLogger(__name__)

OutputCallback = Callable[[str, str], None]
"""`on_output(stream, line)`: stream is "stdout" or "stderr", line has no trailing newline."""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CHUNK = 32768


@dataclass(frozen=True)
class SshTarget:
    """Where and how to reach the inception VM. `host_public_key` is the pinned `TYPE BASE64` line."""

    host: str
    user: str
    key_path: Path
    host_public_key: str
    port: int = 22

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def known_hosts_entry(self) -> str:
        """This host's line in OpenSSH's known_hosts format."""
        name = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        return f"{name} {' '.join(self.host_public_key.split()[:2])}"


@dataclass(frozen=True)
class CommandResult:
    command: str  # redacted form
    exit_status: int
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


class _PinnedKeyPolicy(paramiko.MissingHostKeyPolicy):
    """Refuses every key that is not the pinned one (paramiko asks this only for keys it does not know)."""

    def __init__(self, target: SshTarget):
        self.target = target

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise HostKeyMismatchError(self.target.address, fingerprint(self.target.host_public_key),
                                   fingerprint_blob(key.asbytes()))


class _Lines:
    """Splits a byte stream into lines, handing each complete line to the callback as it arrives."""

    def __init__(self, stream: str, on_output: OutputCallback | None):
        self.stream, self.on_output = stream, on_output
        self.pending = b""
        self.lines: list[str] = []

    def feed(self, data: bytes) -> None:
        *complete, self.pending = (self.pending + data).split(b"\n")
        for raw in complete:
            self._emit(raw)

    def close(self) -> None:
        if self.pending:
            self._emit(self.pending)
            self.pending = b""

    def _emit(self, raw: bytes) -> None:
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        self.lines.append(line)
        if self.on_output:
            self.on_output(self.stream, line)

    @property
    def text(self) -> str:
        return "".join(f"{line}\n" for line in self.lines)


def _load_private_key(path: Path) -> paramiko.PKey:
    try:
        return paramiko.PKey.from_path(path)
    except FileNotFoundError:
        raise RemoteError(f"SSH private key {path} not found") from None
    except paramiko.PasswordRequiredException:
        raise RemoteError(f"SSH private key {path} is passphrase-protected; inception needs an unencrypted "
                          "key (the keypair's private key, stored mode 0600 in the state dir)") from None
    except (OSError, ValueError, paramiko.SSHException) as exc:
        raise RemoteError(f"cannot read SSH private key {path}: {type(exc).__name__}") from None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def shell_command(command: str | Sequence[str], *, env: Mapping[str, str] | None = None,
                  cwd: str | None = None) -> tuple[str, bytes]:
    """The shell line for `command` (a sequence is quoted word by word, a string is used as is) and the bytes
    to send first on its standard input.

    `env` values travel on stdin, not in the line: the line is the login shell's argv on the VM, which every
    user there can read in `ps` for as long as the command runs. The shell reads exactly the exports' bytes
    (`head -c` never reads past its count), so the command still gets the rest of stdin."""
    line = command if isinstance(command, str) else shlex.join(command)
    exports = ""
    for name, value in (env or {}).items():
        if not _ENV_NAME.match(name):
            raise ValueError(f"invalid environment variable name {name!r}")
        exports += f"export {name}={shlex.quote(value)}\n"
    preamble = exports.encode()
    prefix = f'eval "$(head -c {len(preamble)})" && ' if preamble else ""
    if cwd:
        prefix += f"cd {shlex.quote(cwd)} && "
    return prefix + line, preamble


class RemoteHost:
    """One SSH connection (plus a lazily opened SFTP session). Use as a context manager."""

    def __init__(self, target: SshTarget, *, connect_timeout: float = 10.0):
        self.target = target
        self.connect_timeout = connect_timeout
        self._pkey = _load_private_key(target.key_path)
        key_type, blob = split_public_line(target.host_public_key)
        self._host_key = paramiko.PKey.from_type_string(key_type, blob)
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._home: str | None = None

    def __repr__(self) -> str:
        return f"RemoteHost({self.target.user}@{self.target.address})"

    # -- connection ------------------------------------------------------------------------------------

    def connect(self, *, wait: float = 0.0) -> "RemoteHost":
        """Connect, retrying refused/timed-out attempts for up to `wait` seconds (a booting VM)."""
        started = time.monotonic()
        delay = 0.25
        while True:
            client = self._new_client()
            try:
                client.connect(self.target.host, self.target.port, username=self.target.user, pkey=self._pkey,
                               timeout=self.connect_timeout, banner_timeout=self.connect_timeout,
                               auth_timeout=self.connect_timeout, allow_agent=False, look_for_keys=False)
            except paramiko.BadHostKeyException as exc:
                client.close()
                raise HostKeyMismatchError(self.target.address, fingerprint_blob(exc.expected_key.asbytes()),
                                           fingerprint_blob(exc.key.asbytes())) from None
            except HostKeyMismatchError:
                client.close()
                raise
            except paramiko.AuthenticationException:
                client.close()
                raise RemoteAuthError(self.target.address, self.target.user,
                                      f"the key {self.target.key_path} ({self._pkey.fingerprint})") from None
            except (OSError, EOFError, paramiko.SSHException) as exc:
                client.close()
                waited = time.monotonic() - started
                if waited + delay > wait:
                    raise RemoteUnreachableError(self.target.address, waited, _describe(exc)) from None
                log.debug("SSH to %s not ready (%s); retrying in %.1f s", self.target.address, _describe(exc), delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            transport = client.get_transport()
            if transport is not None and hasattr(transport.sock, "setsockopt"):
                # Small request/response exchanges (each command, each SFTP stat) must not wait for
                # delayed ACKs: without this every remote command costs ~40 ms more.
                transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._client = client
            log.info("connected to %s@%s (host key %s)", self.target.user, self.target.address,
                     fingerprint(self.target.host_public_key))
            return self

    def _new_client(self) -> paramiko.SSHClient:
        client = paramiko.SSHClient()
        known = client.get_host_keys()
        for name in {self.target.host, f"[{self.target.host}]:{self.target.port}"}:
            known.add(name, self._host_key.get_name(), self._host_key)
        client.set_missing_host_key_policy(_PinnedKeyPolicy(self.target))
        return client

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
            self._sftp = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> "RemoteHost":
        if self._client is None:
            self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _transport(self) -> paramiko.Transport:
        transport = self._client.get_transport() if self._client else None
        if transport is None or not transport.is_active():
            raise RemoteError(f"not connected to {self.target.address}")
        return transport

    # -- commands --------------------------------------------------------------------------------------

    def run(self, command: str | Sequence[str], *, on_output: OutputCallback | None = None,
            env: Mapping[str, str] | None = None, cwd: str | None = None, check: bool = True,
            stdin: bytes | None = None, secrets: Iterable[str] = (), timeout: float | None = None) -> CommandResult:
        """Run `command`, streaming its output line by line to `on_output(stream, line)`.

        `env` values and `secrets` never appear in logs or errors (only the variable names do). With
        `check`, a non-zero exit raises RemoteCommandError (with the last lines of stderr).
        """
        script, preamble = shell_command(command, env=env, cwd=cwd)
        shown = redact(command if isinstance(command, str) else shlex.join(command), secrets)
        if env:
            shown = f"[env {' '.join(env)}] {shown}"
        log.info("run on %s: %s", self.target.address, shown)
        channel = self._transport.open_session()
        out, err = _Lines("stdout", on_output), _Lines("stderr", on_output)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            channel.exec_command(script)
            if preamble or stdin:
                channel.sendall(preamble + (stdin or b""))
            channel.shutdown_write()
            while True:
                select.select([channel], [], [], 0.01)
                while channel.recv_ready():
                    out.feed(channel.recv(_CHUNK))
                while channel.recv_stderr_ready():
                    err.feed(channel.recv_stderr(_CHUNK))
                if channel.exit_status_ready() and not channel.recv_ready() and not channel.recv_stderr_ready():
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise RemoteError(f"remote command timed out after {timeout:.0f} s: {shown}")
            status = channel.recv_exit_status()
        finally:
            channel.close()
        out.close()
        err.close()
        result = CommandResult(shown, status, out.text, err.text)
        log.debug("exit status %d: %s", status, shown)
        if check and status != 0:
            raise RemoteCommandError(shown, status, redact("\n".join(err.lines[-20:]), secrets))
        return result

    # -- files -----------------------------------------------------------------------------------------

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self._sftp = paramiko.SFTPClient.from_transport(self._transport)
        return self._sftp

    @property
    def home(self) -> str:
        """The login user's home directory on the VM (absolute)."""
        if self._home is None:
            self._home = self.sftp.normalize(".")
        return self._home

    def put(self, local: str | os.PathLike[str], remote: str, *, mode: int = 0o600,
            on_progress: Callable[[int, int], None] | None = None) -> None:
        """Upload a file: written to a temporary name (mode set before the first byte), then renamed."""
        local = Path(local)
        try:
            size = local.stat().st_size
            with local.open("rb") as source:
                self._upload(source, remote, mode, size, on_progress)
        except OSError as exc:
            raise RemoteFileError(f"cannot upload {local} to {remote}: {_describe(exc)}") from None

    def put_bytes(self, data: bytes, remote: str, *, mode: int = 0o600) -> None:
        self._upload(io.BytesIO(data), remote, mode, len(data), None)

    def _upload(self, source: BinaryIO, remote: str, mode: int, size: int,
                on_progress: Callable[[int, int], None] | None) -> None:
        tmp = f"{remote}.part-{token.token_hex(4)}"
        sftp = self.sftp
        try:
            with sftp.open(tmp, "wb") as target:
                target.chmod(mode)
                target.set_pipelined(True)
                sent = 0
                while chunk := source.read(_CHUNK):
                    target.write(chunk)
                    sent += len(chunk)
                    if on_progress:
                        on_progress(sent, size)
            sftp.posix_rename(tmp, remote)
        except BaseException as exc:
            self.discard(tmp)
            if isinstance(exc, (OSError, paramiko.SSHException)):
                raise RemoteFileError(f"cannot write {remote} on {self.target.address}: {_describe(exc)}") from None
            raise

    def get(self, remote: str, local: str | os.PathLike[str], *, mode: int = 0o600) -> None:
        """Download to `local` atomically (temporary file with `mode` from the start, then renamed)."""
        local = Path(local)
        local.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{local.name}.", dir=local.parent)
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as handle:
                self.sftp.getfo(remote, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, local)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, (OSError, paramiko.SSHException)):
                raise RemoteFileError(f"cannot download {remote} from {self.target.address}: "
                                      f"{_describe(exc)}") from None
            raise

    def exists(self, remote: str) -> bool:
        try:
            self.sftp.stat(remote)
        except FileNotFoundError:
            return False
        return True

    def digest(self, remote: str, algorithm: str = "sha256") -> str | None:
        """Hex digest of a remote file computed on the VM (`sha256sum`/`sha1sum`), None when it is absent."""
        if algorithm not in ("sha1", "sha256"):
            raise ValueError(f"unsupported digest {algorithm!r}")
        path = shlex.quote(remote)
        result = self.run(f"if [ -f {path} ]; then {algorithm}sum -- {path}; fi")
        return result.stdout.split()[0] if result.stdout.strip() else None

    def discard(self, remote: str) -> None:
        """Best-effort removal of a leftover (e.g. a partial download) while another error propagates."""
        try:
            self.sftp.remove(remote)
        except (OSError, EOFError, paramiko.SSHException, RemoteError) as exc:
            log.debug("could not remove %s: %s", remote, _describe(exc))

    def makedirs(self, remote: str, *, mode: int = 0o700) -> None:
        self.run(["mkdir", "-p", "-m", f"{mode:o}", "--", remote])
