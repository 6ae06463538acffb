"""Errors of the remote steps. Every message says what happened and what to do; none carries a secret."""
from __future__ import annotations


class RemoteError(Exception):
    """Base of every error raised by inception.remote; the CLI prints its message without a traceback."""


class HostKeyMismatchError(RemoteError):
    """The server presented a host key other than the pinned one. Nothing was sent to it."""

    def __init__(self, address: str, expected: str, offered: str):
        self.address, self.expected, self.offered = address, expected, offered
        super().__init__(
            f"host key mismatch for the inception VM at {address}: it presented {offered}, but this environment "
            f"pinned {expected} (generated when the VM was created). The connection was closed before "
            "authenticating and nothing was run. Either something is intercepting the connection, or the VM "
            "was rebuilt outside inception: investigate first. `inception up` keeps the pinned key and puts it "
            "into the user-data of every VM it creates, so if you rebuilt the VM by hand, delete that VM in "
            "CloudStack and re-run `inception up` to create it again with the pinned key.")


class RemoteAuthError(RemoteError):
    def __init__(self, address: str, user: str, key_description: str):
        super().__init__(
            f"the inception VM at {address} refused login as {user!r} with {key_description}: check that the "
            "VM was created with this environment's keypair and that the user exists on its template")


class RemoteUnreachableError(RemoteError):
    def __init__(self, address: str, waited: float, last_error: str):
        super().__init__(
            f"cannot reach SSH on the inception VM at {address} after {waited:.0f} s ({last_error}): check that "
            "the VM is running, the address and port are right, and the firewall / security group opens it")


class RemoteCommandError(RemoteError):
    """A remote command exited non-zero. `command` is the redacted form."""

    def __init__(self, command: str, exit_status: int, stderr_tail: str):
        self.command, self.exit_status, self.stderr_tail = command, exit_status, stderr_tail
        detail = f":\n{stderr_tail}" if stderr_tail else ""
        super().__init__(f"remote command failed with exit status {exit_status}: {command}{detail}")


class ChecksumMismatchError(RemoteError):
    def __init__(self, what: str, algorithm: str, expected: str, actual: str):
        self.expected, self.actual = expected, actual
        super().__init__(
            f"{what}: {algorithm} is {actual}, expected {expected}; refused and removed the download. Check the "
            "configured URL and checksum (a truncated or replaced file, or a checksum for another version)")


class RemoteFileError(RemoteError):
    """An SFTP transfer or remote file operation failed."""
