"""Requests go out as signed POSTs; answers come back unwrapped, paged and as typed errors."""

from __future__ import annotations

import pytest

from cpi.cloudstack.errors import CloudStackError
from tests.client.client_scripted_server import API_KEY, SECRET_KEY, Reply, api_error, ok, signature_ok

ZONE = {"id": "z-1", "name": "zone1", "networktype": "Basic"}


def test_every_call_is_a_signed_post_with_a_form_body(server, make_client):
    server.script("listZones", ok("listZones", {"count": 1, "zone": [ZONE]}))
    server.script("deployVirtualMachine", ok("deployVirtualMachine", {"jobid": "j1", "id": "vm-1"}))
    client = make_client()
    userdata = "QUJD" * 5000  # 20 000 chars: far beyond what fits a GET URL
    assert client.call("listZones", name="zone 1") == {"count": 1, "zone": [ZONE]}
    assert client.call("deployVirtualMachine", zoneid="z-1", userdata=userdata) == {"jobid": "j1", "id": "vm-1"}
    for request in server.calls():
        assert request.method == "POST"
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert request.form["apiKey"] == API_KEY
        assert request.form["response"] == "json"
        assert signature_ok(request.form, SECRET_KEY)
        assert not signature_ok(request.form, SECRET_KEY + "x")
    assert server.calls("listZones")[0].form["name"] == "zone 1"
    assert server.calls("deployVirtualMachine")[0].form["userdata"] == userdata


def test_cs_style_attribute_calls_use_the_same_machinery(server, make_client):
    server.script(
        "listZones", api_error("listZones", 530, "db hiccup", 9999), ok("listZones", {"count": 1, "zone": [ZONE]})
    )
    client = make_client()
    assert client.listZones(fetch_list=True) == [ZONE]
    assert [r.method for r in server.calls()] == ["POST", "POST"]


def test_list_follows_pages_until_count(server, make_client):
    zones = [{"id": f"z-{i}", "name": f"zone{i}"} for i in range(5)]
    server.script(
        "listZones",
        ok("listZones", {"count": 5, "zone": zones[:2]}),
        ok("listZones", {"count": 5, "zone": zones[2:4]}),
        ok("listZones", {"count": 5, "zone": zones[4:]}),
    )
    assert make_client().list("listZones", pagesize=2) == zones
    assert [(r.form["page"], r.form["pagesize"]) for r in server.calls()] == [("1", "2"), ("2", "2"), ("3", "2")]


def test_empty_list_answer_is_an_empty_list(server, make_client):
    server.script("listSecurityGroups", ok("listSecurityGroups", {}))
    assert make_client().list("listSecurityGroups") == []
    assert len(server.calls()) == 1


def test_find_one_matches_names_exactly_and_treats_unknown_ids_as_absent(server, make_client):
    server.script(
        "listVirtualMachines",
        ok(
            "listVirtualMachines",
            {"count": 2, "virtualmachine": [{"id": "a", "name": "bosh-1"}, {"id": "b", "name": "bosh-10"}]},
        ),
    )
    client = make_client()
    assert client.find_one("listVirtualMachines", name="bosh-1") == {"id": "a", "name": "bosh-1"}
    assert client.find_one("listVirtualMachines", name="bosh") is None
    server.script(
        "listVolumes",
        api_error(
            "listVolumes",
            431,
            "Unable to execute API command listvolumes due to invalid value. Invalid parameter id value=nope due to "
            "incorrect long value format, or entity does not exist or due to incorrect parameter annotation for the "
            "field in api cmd class.",
        ),
    )
    assert client.get_by_id("listVolumes", "nope") is None


def test_find_one_refuses_ambiguous_matches(server, make_client):
    server.script("listNetworks", ok("listNetworks", {"count": 2, "network": [{"id": "a"}, {"id": "b"}]}))
    with pytest.raises(CloudStackError, match="matched 2 items"):
        make_client().find_one("listNetworks", zoneid="z")


@pytest.mark.parametrize(
    ("errortext", "not_found"),
    [
        (
            "Unable to execute API command destroyvirtualmachine due to invalid value. Invalid parameter id "
            "value=3f1e due to incorrect long value format, or entity does not exist or due to incorrect parameter "
            "annotation for the field in api cmd class.",
            True,
        ),
        ("Unable to find virtual machine with id 42", True),
        ("Unable to find volume with ID: 7", True),
        ("Unable to find resource by id 9 and type UserVm", True),
        ("Object vm_instance(uuid: 3f1e) does not exist.", True),
        ("Please specify a valid zone", False),
        ("deviceId 3 is reserved for CD-ROM", False),
    ],
)
def test_typed_api_errors_and_not_found(server, make_client, errortext, not_found):
    server.script("destroyVirtualMachine", api_error("destroyVirtualMachine", 431, errortext))
    with pytest.raises(CloudStackError) as caught:
        make_client().call("destroyVirtualMachine", id="3f1e")
    error = caught.value
    assert (error.command, error.errorcode, error.cserrorcode, error.errortext) == (
        "destroyVirtualMachine",
        431,
        4350,
        errortext,
    )
    assert error.is_not_found is not_found
    assert errortext in str(error)
    assert len(server.calls()) == 1  # a 4xx is an answer, never retried


def test_unable_to_find_is_not_not_found_outside_param_errors(server, make_client):
    server.script("deployVirtualMachine", api_error("deployVirtualMachine", 533, "Unable to find suitable host", 4325))
    with pytest.raises(CloudStackError) as caught:
        make_client().call("deployVirtualMachine", zoneid="z")
    assert caught.value.errorcode == 533 and not caught.value.is_not_found


def test_bad_credentials_say_so(server, make_client):
    server.script(
        "listZones", api_error("listZones", 401, "unable to verify user credentials and/or request signature", 9999)
    )
    with pytest.raises(CloudStackError, match="check the API key and secret key") as caught:
        make_client().call("listZones")
    assert caught.value.errorcode == 401


def test_a_non_cloudstack_answer_names_the_endpoint_problem(server, make_client):
    server.script("listZones", Reply(200, "<html>login</html>", content_type="text/html"))
    with pytest.raises(CloudStackError, match="did not answer with CloudStack JSON.*/client/api"):
        make_client().call("listZones")
