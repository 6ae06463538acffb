"""Fixtures for the remote tests: a real OpenSSH sshd on loopback as the inception VM, a loopback file
server for downloads, and a connected RemoteHost."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from inception.remote.ssh import RemoteHost
from testkit.fileserver import FileServer
from testkit.sshd import RunningSshd


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSshd]:
    running = RunningSshd(tmp_path_factory.mktemp("sshd"), user=os.environ.get("INCEPTION_TEST_SSH_USER")).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def fileserver() -> Iterator[FileServer]:
    server = FileServer().start()
    yield server
    server.stop()


@pytest.fixture
def remote(sshd: RunningSshd) -> Iterator[RemoteHost]:
    with RemoteHost(sshd.target).connect(wait=5) as host:
        yield host


@pytest.fixture
def env_name() -> str:
    """A fresh environment name per test: workspaces never collide inside the shared sshd home."""
    return f"t-{uuid.uuid4().hex[:8]}"
