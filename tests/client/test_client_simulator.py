"""The client against the CloudStack simulator (real process, real HTTP, real signing)."""

from __future__ import annotations

import uuid

import pytest

from cpi.cloudstack.client import CloudStackClient
from cpi.cloudstack.errors import CloudStackError, JobFailedError, OutcomeUnknownError


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


def test_creates_on_a_flaky_cloud_converge_without_duplicates(sim_factory, caplog):
    """Random faults (seeded, but poll timing shifts the draws): 429/530/503, dropped connections
    before and after execution, slow answers, failed jobs. Whatever happens, a tag is never
    created twice, and a create that returned really exists."""
    flaky = sim_factory(fault_rate=0.3, seed=3)
    client = CloudStackClient(flaky.endpoint, flaky.api_key, flaky.secret_key, retries=8, retry_backoff=0.05)
    zone = client.find_one("listZones", name="Sim-Basic")
    outcomes = {}
    with caplog.at_level("DEBUG", logger="cloudstack"):
        for n in range(5):
            key = f"flaky-{n}"
            try:
                client.create_or_find(
                    "createTags",
                    key="success",
                    find=lambda key=key: client.find_one("listTags", key=key),
                    resourceids=[zone["id"]],
                    resourcetype="Zone",
                    tags=[{"key": key, "value": "v"}],
                )
                outcomes[key] = "created"
            except (JobFailedError, OutcomeUnknownError) as exc:
                outcomes[key] = type(exc).__name__
    for key, outcome in outcomes.items():
        tags = client.list("listTags", key=key)
        assert len(tags) == 1 if outcome == "created" else len(tags) <= 1, (key, outcome, tags)
    assert "created" in outcomes.values()
    troubles = [c for c in flaky.calls() if c["status"] != 200] + [
        r for r in caplog.records if "retrying" in r.getMessage() or "outcome unknown" in r.getMessage()
    ]
    assert troubles, "the simulator should have injected faults"
