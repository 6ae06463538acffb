"""What is repeated (reads, throttled calls, calls never sent) and what never is (mutations of
unknown outcome), asserted on the requests the scripted server actually received."""

from __future__ import annotations

import socket

import pytest

from cpi.cloudstack.client import CloudStackClient
from cpi.cloudstack.errors import CloudStackConnectionError, CloudStackError, OutcomeUnknownError
from cpi.cloudstack.policy import is_read_only
from tests.client.client_scripted_server import Reply, api_error, ok

THROTTLED = "The given user has reached his/her account api limit, please retry after [150] ms."
ZONES = {"count": 1, "zone": [{"id": "z-1"}]}
GATEWAY_ERROR = Reply(502, "<html>Bad Gateway</html>", content_type="text/html")


@pytest.mark.parametrize(
    ("command", "read_only"),
    [
        ("listZones", True),
        ("queryAsyncJobResult", True),
        ("getVirtualMachineUserData", True),
        ("isAccountAllowedToCreateOfferingsWithTags", True),
        ("findHostsForMigration", True),
        ("getUploadParamsForTemplate", False),
        ("getDiagnosticsData", False),
        ("issueCertificate", False),
        ("deployVirtualMachine", False),
        ("createTags", False),
        ("registerTemplate", False),
    ],
)
def test_read_only_commands(command, read_only):
    assert is_read_only(command) is read_only


@pytest.mark.parametrize("command", ["listZones", "createTags"])
def test_throttled_calls_are_retried_for_every_command_after_the_asked_delay(server, make_client, command):
    server.script(command, api_error(command, 429, THROTTLED, 9999), ok(command, {"success": "true"}))
    assert make_client().call(command, x="1") == {"success": "true"}
    first, second = server.calls(command)
    assert second.at - first.at >= 0.15  # CloudStack's "retry after [150] ms", over the 0.02 s backoff


def test_throttling_that_never_ends_surfaces_as_a_429_error(server, make_client):
    server.script("createTags", api_error("createTags", 429, "api limit reached", 9999))
    with pytest.raises(CloudStackError) as caught:
        make_client(retries=2).call("createTags")
    assert caught.value.is_throttled and caught.value.errorcode == 429
    assert len(server.calls()) == 3


@pytest.mark.parametrize(
    "failure", [GATEWAY_ERROR, api_error("listZones", 530, "Internal error executing command", 9999)]
)
def test_5xx_on_a_read_is_retried_with_growing_backoff(server, make_client, failure):
    server.script("listZones", failure, failure, ok("listZones", ZONES))
    assert make_client(retry_backoff=0.05).call("listZones") == ZONES
    times = [r.at for r in server.calls()]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.05 and times[2] - times[1] >= 0.1


@pytest.mark.parametrize(
    "failure", [GATEWAY_ERROR, api_error("deployVirtualMachine", 530, "Internal error executing command", 9999)]
)
def test_5xx_of_unknown_meaning_on_a_mutation_is_never_repeated(server, make_client, failure):
    server.script("deployVirtualMachine", failure, ok("deployVirtualMachine", {"jobid": "j"}))
    with pytest.raises(OutcomeUnknownError, match="outcome of deployVirtualMachine is unknown") as caught:
        make_client().call("deployVirtualMachine", name="vm-1")
    assert caught.value.command == "deployVirtualMachine"
    assert len(server.calls()) == 1


def test_a_definite_cloudstack_refusal_is_an_ordinary_error(server, make_client):
    server.script("createVolume", api_error("createVolume", 536, "volume in use", 4375))
    with pytest.raises(CloudStackError) as caught:
        make_client().call("createVolume", name="d")
    assert type(caught.value) is CloudStackError and caught.value.errorcode == 536
    assert len(server.calls()) == 1


def test_a_dropped_connection_is_retried_for_reads(server, make_client):
    server.script("listZones", Reply(drop=True), ok("listZones", ZONES))
    assert make_client().call("listZones") == ZONES
    assert len(server.calls()) == 2


def test_a_dropped_connection_after_sending_a_mutation_makes_its_outcome_unknown(server, make_client):
    server.script("createVolume", Reply(drop=True), ok("createVolume", {"jobid": "j"}))
    with pytest.raises(OutcomeUnknownError, match="not repeated"):
        make_client().call("createVolume", name="d")
    assert len(server.calls()) == 1


def test_a_read_timeout_is_retried_for_reads_but_not_for_mutations(server, make_client):
    server.script("listZones", Reply(200, {"listzonesresponse": ZONES}, delay=0.5), ok("listZones", ZONES))
    server.script("createVolume", Reply(200, {"createvolumeresponse": {"jobid": "j"}}, delay=0.5))
    client = make_client(timeout=0.2)
    assert client.call("listZones") == ZONES
    assert len(server.calls("listZones")) == 2
    with pytest.raises(OutcomeUnknownError, match="read timed out"):
        client.call("createVolume", name="d")
    assert len(server.calls("createVolume")) == 1


def test_a_refused_connection_is_retried_even_for_mutations_since_nothing_was_sent(caplog):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = CloudStackClient(f"http://127.0.0.1:{port}/client/api", "k", "s", retries=2, retry_backoff=0.01)
    with caplog.at_level("DEBUG", logger="cloudstack"), pytest.raises(CloudStackConnectionError) as caught:
        client.call("deployVirtualMachine", name="vm-1")
    assert "after 3 attempts" in str(caught.value)
    assert sum("retrying deployVirtualMachine" in r.getMessage() for r in caplog.records) == 2


def _find(result):
    calls = []

    def find():
        calls.append(1)
        if isinstance(result, Exception):
            raise result
        return result

    return find, calls


def test_create_or_find_returns_the_found_resource_without_sending_again(server, make_client):
    server.script("createSecurityGroup", Reply(drop=True))
    find, lookups = _find({"id": "sg-1", "name": "bosh"})
    group = make_client().create_or_find("createSecurityGroup", key="securitygroup", find=find, name="bosh")
    assert group == {"id": "sg-1", "name": "bosh"}
    assert len(lookups) == 1 and len(server.calls("createSecurityGroup")) == 1


def test_create_or_find_sends_again_only_when_the_lookup_proves_absence(server, make_client):
    server.script(
        "createSecurityGroup",
        GATEWAY_ERROR,
        ok("createSecurityGroup", {"securitygroup": {"id": "sg-2", "name": "bosh"}}),
    )
    find, lookups = _find(None)
    group = make_client().create_or_find("createSecurityGroup", key="securitygroup", find=find, name="bosh")
    assert group == {"id": "sg-2", "name": "bosh"}
    assert len(lookups) == 1 and len(server.calls("createSecurityGroup")) == 2


def test_create_or_find_never_sends_again_when_the_lookup_fails(server, make_client):
    server.script("createSecurityGroup", Reply(drop=True))
    find, _ = _find(CloudStackConnectionError("cannot reach"))
    with pytest.raises(OutcomeUnknownError):
        make_client().create_or_find("createSecurityGroup", key="securitygroup", find=find, name="bosh")
    assert len(server.calls("createSecurityGroup")) == 1


def test_create_or_find_waits_for_the_job_of_a_resource_found_in_flight(server, make_client):
    server.script("deployVirtualMachine", Reply(drop=True))
    server.script(
        "queryAsyncJobResult",
        ok("queryAsyncJobResult", {"jobid": "j-7", "jobstatus": 0}),
        ok(
            "queryAsyncJobResult",
            {
                "jobid": "j-7",
                "jobstatus": 1,
                "jobresultcode": 0,
                "jobresult": {"virtualmachine": {"id": "vm-7", "state": "Running"}},
            },
        ),
    )
    find, _ = _find({"id": "vm-7", "state": "Starting", "jobid": "j-7", "jobstatus": 0})
    vm = make_client().create_or_find("deployVirtualMachine", key="virtualmachine", find=find, name="vm-7")
    assert vm == {"id": "vm-7", "state": "Running"}
    assert len(server.calls("deployVirtualMachine")) == 1
    assert [r.form["jobid"] for r in server.calls("queryAsyncJobResult")] == ["j-7", "j-7"]


def test_a_503_envelope_on_a_mutation_leaves_the_outcome_unknown(server, make_client):
    server.script("createTags", api_error("createTags", 503, "Service Temporarily Unavailable", 9999))
    with pytest.raises(OutcomeUnknownError):
        make_client().call("createTags", resourceids="a")
    assert len(server.calls()) == 1


def test_create_or_find_gives_up_after_its_rounds_with_the_unknown_outcome(server, make_client):
    server.script("createSecurityGroup", Reply(drop=True))
    find, lookups = _find(None)
    with pytest.raises(OutcomeUnknownError):
        make_client().create_or_find("createSecurityGroup", key="securitygroup", find=find, rounds=3, name="bosh")
    assert len(lookups) == 2 and len(server.calls("createSecurityGroup")) == 3
