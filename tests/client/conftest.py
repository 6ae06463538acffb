"""Fixtures of the CloudStack client tests: a scripted endpoint and a client bound to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cpi.cloudstack.client import CloudStackClient
from cpi.cloudstack.policy import PollSchedule
from tests.client.client_scripted_server import API_KEY, SECRET_KEY, ScriptedCloudStack


@pytest.fixture
def server() -> Iterator[ScriptedCloudStack]:
    with ScriptedCloudStack() as scripted:
        yield scripted


@pytest.fixture
def make_client(server: ScriptedCloudStack) -> Callable[..., CloudStackClient]:
    """A client for ``server`` with fast retries and polls (overridable per test)."""

    def make(**options: Any) -> CloudStackClient:
        options.setdefault("retry_backoff", 0.02)
        options.setdefault("poll", PollSchedule(initial=0.01, factor=1.5, maximum=0.05))
        options.setdefault("timeout", 5.0)
        return CloudStackClient(server.endpoint, API_KEY, SECRET_KEY, **options)

    return make
