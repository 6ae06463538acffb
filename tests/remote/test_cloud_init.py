"""Waiting for cloud-init on the inception VM, over a real sshd whose sessions find a `cloud-init` test double
first on their PATH: the exact command, its streamed output, and which exit statuses stop the bootstrap."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inception.remote.bootstrap import wait_for_cloud_init
from inception.remote.errors import RemoteError
from inception.remote.ssh import RemoteHost
from testkit.sshd import RunningSshd

# Prints what `cloud-init status --wait --long` prints while it waits, then exits with the status in ./exit-status.
FAKE_CLOUD_INIT = """#!/bin/sh
here=$(dirname "$0")
echo "$*" >> "$here/calls"
printf '.'
printf '.\\n'
echo "status: $(cat "$here/status")"
echo "detail:"
echo "DataSourceCloudStack [seed=http://10.1.1.1]"
exit "$(cat "$here/exit-status")"
"""


@pytest.fixture(scope="module")
def bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cloud-init-bin")
    fake = directory / "cloud-init"
    fake.write_text(FAKE_CLOUD_INIT)
    fake.chmod(0o755)
    return directory


@pytest.fixture(scope="module")
def vm(tmp_path_factory: pytest.TempPathFactory, bin_dir: Path) -> Iterator[RunningSshd]:
    running = RunningSshd(tmp_path_factory.mktemp("sshd-cloud-init"), path_prepend=[bin_dir]).start()
    yield running
    running.stop()


def finish_with(bin_dir: Path, status: str, exit_status: int) -> None:
    (bin_dir / "status").write_text(status)
    (bin_dir / "exit-status").write_text(str(exit_status))
    (bin_dir / "calls").unlink(missing_ok=True)


def wait(vm: RunningSshd) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    with RemoteHost(vm.target).connect(wait=5) as host:
        wait_for_cloud_init(host, timeout=30, on_output=lambda stream, line: lines.append((stream, line)))
    return lines


@pytest.mark.parametrize(("status", "exit_status"), [("done", 0), ("degraded done", 2)])
def test_done_or_recoverable_errors_let_the_bootstrap_go_on(vm: RunningSshd, bin_dir: Path, status: str,
                                                           exit_status: int) -> None:
    finish_with(bin_dir, status, exit_status)
    lines = wait(vm)
    assert (bin_dir / "calls").read_text() == "status --wait --long\n"
    assert ("stdout", f"status: {status}") in lines
    assert ("stdout", "DataSourceCloudStack [seed=http://10.1.1.1]") in lines


def test_a_failed_cloud_init_stops_with_where_to_look(vm: RunningSshd, bin_dir: Path) -> None:
    finish_with(bin_dir, "error", 1)
    with pytest.raises(RemoteError) as caught:
        wait(vm)
    message = str(caught.value)
    assert "cloud-init failed on the inception VM (exit status 1)" in message
    assert "/var/log/cloud-init-output.log" in message and "inception ssh --" in message
    assert (bin_dir / "calls").read_text() == "status --wait --long\n"


def test_a_host_without_cloud_init_is_not_waited_for(sshd: RunningSshd, remote: RemoteHost) -> None:
    lines: list[tuple[str, str]] = []
    assert remote.run("command -v cloud-init || echo none").stdout.strip() == "none"
    wait_for_cloud_init(remote, timeout=30, on_output=lambda stream, line: lines.append((stream, line)))
    assert lines == []
