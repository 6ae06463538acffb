"""`inception ssh [-- CMD]`: a shell or one command on the inception VM, its host key pinned."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console

from inception.commands.up import CONFIG_OPTION, STATE_OPTION

if TYPE_CHECKING:
    from inception.remote.connection import ConnectionInfo
    from inception.remote.ssh import SshTarget

err = Console(stderr=True)


def _run_one(target: SshTarget, command: list[str]) -> int:
    """Like `ssh host CMD...`: the words are joined with spaces for the remote shell; output streams live."""
    from inception.remote.ssh import RemoteHost

    streams = {"stdout": sys.stdout, "stderr": sys.stderr}

    def show(stream: str, line: str) -> None:
        streams[stream].write(line + "\n")
        streams[stream].flush()

    with RemoteHost(target).connect(wait=10) as host:
        return host.run(" ".join(command), on_output=show, check=False).exit_status


def ssh_arguments(target: SshTarget, known_hosts: Path) -> list[str]:
    """The system ssh's command line: only the pinned key is trusted, never a new one accepted."""
    return ["-i", str(target.key_path), "-p", str(target.port),
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no",
            f"{target.user}@{target.host}"]


def _interactive(info: ConnectionInfo) -> int:
    from inception.remote.errors import RemoteError

    ssh = shutil.which("ssh")
    if ssh is None:
        raise RemoteError("interactive `inception ssh` runs the OpenSSH client, which is not installed; "
                          "install it (openssh-client) or run one command: inception ssh -- CMD")
    with tempfile.TemporaryDirectory(prefix="inception-ssh-") as tmp:
        known_hosts = Path(tmp) / "known_hosts"
        known_hosts.write_text(info.target.known_hosts_entry + "\n")
        return subprocess.run([ssh, *ssh_arguments(info.target, known_hosts)]).returncode


def ssh(
    command: Optional[list[str]] = typer.Argument(None, help="Command to run (after --); none: an interactive shell."),
    config: Path = CONFIG_OPTION,
    state_dir: Optional[Path] = STATE_OPTION,
) -> None:
    """Open a shell on the inception VM, or run one command there (`inception ssh -- bosh envs`)."""
    from inception.remote.connection import load_connection, resolve_state_dir
    from inception.remote.errors import RemoteError

    try:
        info = load_connection(resolve_state_dir(config, state_dir))
        code = _run_one(info.target, command) if command else _interactive(info)
    except RemoteError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command(name="ssh")(ssh)
