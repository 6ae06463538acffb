"""The client against the CloudStack simulator (real process, real HTTP, real signing)."""

from __future__ import annotations

import uuid

import pytest

from cpi.cloudstack.client import CloudStackClient
from cpi.cloudstack.errors import CloudStackError


@pytest.fixture
def client(sim, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray cloudstack.ini
    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)
    return CloudStackClient.from_settings()


def test_list_zones_from_env_settings(client, sim):
    zones = client.list("listZones")
    assert {"Sim-Basic", "Sim-Advanced"} <= {zone["name"] for zone in zones}
    calls = [c for c in sim.calls() if c["command"] == "listZones"]
    assert calls and calls[-1]["method"] == "POST" and calls[-1]["status"] == 200


def test_paging_gives_the_same_items_as_one_page(client):
    assert client.list("listOsTypes", pagesize=2) == client.list("listOsTypes")


def test_an_async_call_is_waited_to_completion(client):
    zone = client.find_one("listZones", name="Sim-Basic")
    key = f"client-test-{uuid.uuid4().hex[:8]}"
    tags = [{"key": key, "value": "yes"}]
    assert client.run("createTags", resourceids=[zone["id"]], resourcetype="Zone", tags=tags, operation="tag zone") == {
        "success": True
    }
    assert [t["value"] for t in client.list("listTags", key=key)] == ["yes"]
    client.run("deleteTags", resourceids=[zone["id"]], resourcetype="Zone", tags=tags)
    assert client.list("listTags", key=key) == []


def test_simulator_not_found_answers_are_recognised(client):
    with pytest.raises(CloudStackError) as caught:
        client.run("createTags", resourceids=["no-such-zone"], resourcetype="Zone", tags=[{"key": "k", "value": "v"}])
    assert caught.value.is_not_found and caught.value.errorcode == 431
    with pytest.raises(CloudStackError) as caught:
        client.wait_job(str(uuid.uuid4()), timeout=5)
    assert caught.value.is_not_found
