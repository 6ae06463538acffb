"""The simulator's API layer: signing, validation against the spec, envelopes, errors, jobs, persistence."""
from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from cs import CloudStack, CloudStackApiException

from simulator.errors import ApiError
from simulator.signing import signature_for
from simulator.spec import load_spec


def raw_request(sim, params: dict, *, method: str = "POST", secret: str | None = None) -> requests.Response:
    """Sign by hand (as the devguide describes), to control every byte of the request."""
    params = {"apiKey": sim.api_key, "response": "json", **params}
    pairs = sorted(params.items())
    unsigned = "&".join(f"{k}={quote(str(v), safe='*')}" for k, v in pairs).lower()
    digest = hmac.new((secret or sim.secret_key).encode(), unsigned.encode(), hashlib.sha1).digest()
    params["signature"] = base64.b64encode(digest).decode()
    if method == "GET":
        return requests.get(sim.endpoint, params=params, timeout=10)
    return requests.post(sim.endpoint, data=params, timeout=10)


def test_signature_matches_the_cs_library_test_vector():
    # ngine-io/cs tests/test_client.py::test_signature_is_stable: key foo, secret bar.
    params = [("command", "listZones"), ("apiKey", "foo")]
    assert signature_for(params, "bar") == "vRCL4rttwUS7s3a3m53Py1iHaAw="


def test_get_and_post_both_answer_json(sim):
    for method in ("GET", "POST"):
        resp = raw_request(sim, {"command": "listZones"}, method=method)
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("application/json")
        body = resp.json()["listzonesresponse"]
        assert body["count"] == len(body["zone"]) >= 2
        assert {z["networktype"] for z in body["zone"]} >= {"Basic", "Advanced"}


@pytest.mark.parametrize("mutate", ["bad_secret", "no_signature", "unknown_key", "no_key"])
def test_bad_credentials_are_refused_with_401(sim, mutate):
    if mutate == "bad_secret":
        resp = raw_request(sim, {"command": "listZones"}, secret="not-the-secret")
    else:
        params = {"command": "listZones", "response": "json", "apiKey": sim.api_key}
        if mutate == "unknown_key":
            params["apiKey"] = "nobody"
            params["signature"] = "AAAA"
        elif mutate == "no_key":
            params.pop("apiKey")
            params["signature"] = "AAAA"
        resp = requests.post(sim.endpoint, data=params, timeout=10)
    assert resp.status_code == 401
    body = resp.json()["listzonesresponse"]
    assert body == {"uuidList": [], "errorcode": 401, "cserrorcode": 9999,
                    "errortext": "unable to verify user credentials and/or request signature"}


def test_signature_version_3_expiry(sim):
    fmt = "%Y-%m-%dT%H:%M:%S%z"
    future = (datetime.now(timezone.utc) + timedelta(minutes=5)).strftime(fmt)
    past = (datetime.now(timezone.utc) - timedelta(minutes=5)).strftime(fmt)
    ok = raw_request(sim, {"command": "listZones", "signatureVersion": "3", "expires": future})
    assert ok.status_code == 200
    expired = raw_request(sim, {"command": "listZones", "signatureVersion": "3", "expires": past})
    assert expired.status_code == 401
    # Without signatureVersion=3, expires is ignored.
    ignored = raw_request(sim, {"command": "listZones", "expires": past})
    assert ignored.status_code == 200


def test_a_tampered_parameter_breaks_the_signature(sim):
    params = {"apiKey": sim.api_key, "response": "json", "command": "listZones", "name": "Sim-Basic"}
    unsigned = "&".join(f"{k}={quote(v, safe='*')}" for k, v in sorted(params.items())).lower()
    sig = base64.b64encode(hmac.new(sim.secret_key.encode(), unsigned.encode(), hashlib.sha1).digest()).decode()
    resp = requests.post(sim.endpoint, data={**params, "name": "Sim-Advanced", "signature": sig}, timeout=10)
    assert resp.status_code == 401


def test_unknown_command_is_432_errorresponse(sim):
    resp = raw_request(sim, {"command": "launchRocket"})
    assert resp.status_code == 432
    assert resp.json() == {"errorresponse": {
        "uuidList": [], "errorcode": 432, "cserrorcode": 9999,
        "errortext": "The given command does not exist or it is not available for user"}}


@pytest.mark.parametrize("command", ["listzones", "ListZones", "launchRocket"])
def test_command_names_are_case_sensitive_and_checked_before_the_signature(sim, command):
    # ApiServer.verifyRequest looks the name up in a case-sensitive map before it checks the signature.
    for secret in (None, "not-the-secret"):
        resp = raw_request(sim, {"command": command}, secret=secret)
        assert resp.status_code == 432, resp.text
        assert resp.json()["errorresponse"]["errorcode"] == 432


def test_missing_required_parameter(sim):
    resp = raw_request(sim, {"command": "queryAsyncJobResult"})
    assert resp.status_code == 431
    body = resp.json()["queryasyncjobresultresponse"]
    # ParamProcessWorker throws ServerApiException: cserrorcode 9999, not InvalidParameterValueException's 4350.
    assert body["cserrorcode"] == 9999
    assert body["errortext"] == "Unable to execute API command queryasyncjobresult due to missing parameter jobid"


@pytest.mark.parametrize("params,text", [
    ({"command": "listZones", "page": "one", "pagesize": "5"},
     "Unable to execute API command listzones due to invalid value one for parameter page"),
    ({"command": "listZones", "pagesize": "99999999999", "page": "1"},
     "Unable to execute API command listzones due to invalid value 99999999999 for parameter pagesize"),
    ({"command": "listTags", "key": "k" * 300},
     "Unable to execute API command listtags due to invalid value. Value greater than max allowed length 255 "
     "for param: key"),
])
def test_values_of_the_wrong_type_are_refused(sim, params, text):
    resp = raw_request(sim, params)
    assert resp.status_code == 431, resp.text
    body = next(iter(resp.json().values()))
    assert (body["errortext"], body["cserrorcode"]) == (text, 9999)


def test_dates_and_maps_are_checked_like_paramprocessworker():
    spec = load_spec()
    with pytest.raises(ApiError) as err:
        spec.validate(spec.command("listEvents"), {"startdate": "26/11/2026"})
    assert err.value.errortext == ("Unable to parse date 26/11/2026 for command listevents, please pass dates in "
                                   "the format mentioned in the api documentation")
    typed = spec.validate(spec.command("createTags"), {"resourceids": "a,b", "resourcetype": "Zone",
                                                       "tags[1].key": "k2", "tags[1].value": "v2",
                                                       "tags[0].key": "k1", "tags[0].value": "v1"})
    assert typed["tags"] == [{"key": "k1", "value": "v1"}, {"key": "k2", "value": "v2"}]
    assert typed["resourceids"] == ["a", "b"]
    # Java's Boolean.valueOf never fails: anything but "true" is false.
    assert spec.validate(spec.command("listZones"), {"available": "yes"})["available"] is False


def test_an_unimplemented_command_of_the_spec_is_not_available(sim):
    resp = raw_request(sim, {"command": "listEvents"})
    assert resp.status_code == 432


def test_parameter_names_are_case_insensitive(sim):
    resp = raw_request(sim, {"command": "listZones", "NAME": "Sim-Basic"})
    assert [z["name"] for z in resp.json()["listzonesresponse"]["zone"]] == ["Sim-Basic"]


def test_empty_list_is_an_empty_object(sim):
    resp = raw_request(sim, {"command": "listZones", "name": "no-such-zone"})
    assert resp.json() == {"listzonesresponse": {}}


def test_paging_needs_page_and_pagesize_and_slices(sim):
    full = raw_request(sim, {"command": "listOsTypes"}).json()["listostypesresponse"]
    page2 = raw_request(sim, {"command": "listOsTypes", "page": "2", "pagesize": "3"}).json()["listostypesresponse"]
    assert page2["count"] == full["count"]
    assert [t["id"] for t in page2["ostype"]] == [t["id"] for t in full["ostype"][3:6]]
    # ApiResponseSerializer: a page past the end still says count, but has no list key at all.
    beyond = raw_request(sim, {"command": "listOsTypes", "page": "999", "pagesize": "3"}).json()
    assert beyond == {"listostypesresponse": {"count": full["count"]}}
    lonely = raw_request(sim, {"command": "listOsTypes", "pagesize": "3"})
    assert lonely.status_code == 431
    assert lonely.json()["listostypesresponse"]["errortext"] == \
        '"page" parameter is required when "pagesize" is specified'
    assert lonely.json()["listostypesresponse"]["cserrorcode"] == 9999   # a ServerApiException


def test_cs_client_pages_through_lists(sim):
    client = sim.cs()
    types = client.listOsTypes(fetch_list=True)
    assert len(types) == len({t["id"] for t in types}) >= 10


def test_async_job_lifecycle_and_result_envelope(sim):
    client = sim.cs()
    zone = client.listZones(name="Sim-Basic")["zone"][0]
    start = client.createTags(resourceids=zone["id"], resourcetype="Zone",
                              tags=[{"key": "core-test", "value": "v1"}])
    assert set(start) == {"jobid"}
    job = client.queryAsyncJobResult(jobid=start["jobid"])
    assert job["jobstatus"] == 1 and job["jobresultcode"] == 0 and job["jobresulttype"] == "object"
    assert job["jobresult"] == {"success": True}
    assert job["cmd"].endswith("CreateTagsCmd")
    assert job["jobid"] == start["jobid"]
    tags = client.listTags(resourceid=zone["id"], key="core-test")["tag"]
    assert tags == [{"key": "core-test", "value": "v1", "resourceid": zone["id"], "resourcetype": "Zone",
                     "account": "admin", "domain": "ROOT", "domainid": tags[0]["domainid"]}]
    # The tag filter of list commands.
    assert [z["id"] for z in client.listZones(tags=[{"key": "core-test", "value": "v1"}])["zone"]] == [zone["id"]]
    client.deleteTags(resourceids=zone["id"], resourcetype="Zone", tags=[{"key": "core-test"}], fetch_result=True)
    assert client.listTags(resourceid=zone["id"], key="core-test") == {}


def test_failed_job_carries_errorcode_and_errortext(sim):
    client = sim.cs()
    zone = client.listZones(name="Sim-Advanced")["zone"][0]
    client.createTags(resourceids=zone["id"], resourcetype="Zone", tags=[{"key": "dup", "value": "1"}],
                      fetch_result=True)
    with pytest.raises(CloudStackApiException) as err:
        client.createTags(resourceids=zone["id"], resourcetype="Zone", tags=[{"key": "dup", "value": "2"}])
    assert err.value.error["errorcode"] == 431


def test_unknown_job_id(sim):
    resp = raw_request(sim, {"command": "queryAsyncJobResult", "jobid": "5d3c1f3e-0000-4000-8000-000000000000"})
    assert resp.status_code == 431
    assert "Invalid parameter jobid value=5d3c1f3e" in resp.json()["queryasyncjobresultresponse"]["errortext"]


def test_calls_log_has_no_secrets(sim):
    resp = raw_request(sim, {"command": "listZones", "name": "Sim-Basic"})
    sent_signature = parse_qs(resp.request.body)["signature"][0]
    text = requests.get(sim.url("/_sim/calls"), timeout=10).text
    assert sim.secret_key not in text
    assert sim.api_key not in text
    assert sent_signature not in text
    last = sim.calls()[-1]
    assert {"command", "method", "status", "duration_ms", "seq"} <= set(last)


def test_the_verbose_request_log_holds_no_credentials(sim_factory):
    running = sim_factory(verbose=True)
    resp = raw_request(running, {"command": "listZones"}, method="GET")   # credentials in the query string
    assert resp.status_code == 200
    signature = parse_qs(urlsplit(resp.request.url).query)["signature"][0]
    process, running.process = running.process, None   # read stderr ourselves (stop() would close it)
    process.terminate()
    _, log = process.communicate(timeout=10)
    assert '"GET /client/api' in log                     # the request is logged...
    for secret in (running.api_key, running.secret_key, signature, quote(signature, safe="")):
        assert secret not in log                         # ...without its credentials


def test_cs_cli_works_unchanged(sim):
    out = subprocess.run([sys.executable, "-m", "cs", "listZones", "name=Sim-Basic"], env={**sim.env()},
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert '"networktype": "Basic"' in out.stdout


def test_state_survives_a_restart(sim_factory):
    running = sim_factory()
    client = running.cs()
    zone = client.listZones(name="Sim-Basic")["zone"][0]
    client.createTags(resourceids=zone["id"], resourcetype="Zone", tags=[{"key": "persist", "value": "yes"}],
                      fetch_result=True)
    gone = client.createSecurityGroup(name="restart-gone")["securitygroup"]
    client.deleteSecurityGroup(id=gone["id"])
    before = running.resources()
    running.restart()
    assert running.resources() == before
    assert running.cs().listTags(key="persist")["count"] == 1
    # Removed ids stay known across the restart: they list nothing instead of being refused.
    assert running.cs().listSecurityGroups(id=gone["id"]) == {}


def test_realistic_latency_keeps_jobs_pending(sim_factory):
    running = sim_factory(latency="realistic", time_scale=1.0)
    client = running.cs()
    zone = client.listZones(name="Sim-Basic")["zone"][0]
    start = client.createTags(resourceids=zone["id"], resourcetype="Zone", tags=[{"key": "slow", "value": "1"}])
    pending = client.queryAsyncJobResult(jobid=start["jobid"])
    assert pending["jobstatus"] == 0 and "jobresult" not in pending and pending["jobresultcode"] == 0
    deadline = time.monotonic() + 10
    while client.queryAsyncJobResult(jobid=start["jobid"])["jobstatus"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # tags take 0.5 s in realistic mode: the job finished neither at once nor late.
    assert client.listTags(key="slow")["count"] == 1


def test_fault_injection_is_reproducible_with_a_seed(sim_factory):
    def outcomes(seed: int) -> list[int]:
        running = sim_factory(fault_rate=0.5, seed=seed)
        statuses = []
        for _ in range(40):
            try:
                statuses.append(raw_request(running, {"command": "listZones"}).status_code)
            except requests.ConnectionError:
                statuses.append(-1)
        running.stop()
        return statuses
    first, second = outcomes(7), outcomes(7)
    assert first == second
    assert 200 in first and any(s in (429, 503, 530, -1) for s in first)


def test_32_concurrent_clients(sim):
    errors: list[BaseException] = []
    counts: list[int] = []

    def worker() -> None:
        try:
            client = CloudStack(endpoint=sim.endpoint, key=sim.api_key, secret=sim.secret_key, method="post")
            for _ in range(10):
                counts.append(client.listZones()["count"])
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(counts) == 320 and len(set(counts)) == 1


def test_map_keys_keep_their_case_while_parameter_names_do_not():
    spec = load_spec()
    from simulator.app import _param_key
    raw = {_param_key(k): v for k, v in {"DETAILS[0].cpuNumber": "2", "Command": "x"}.items()}
    assert raw == {"details[0].cpuNumber": "2", "command": "x"}
    typed = spec.validate(spec.command("deployVirtualMachine"),
                          {"serviceofferingid": "a", "templateid": "b", "zoneid": "c", **raw})
    assert typed["details"] == [{"cpuNumber": "2"}]


def test_list_by_an_id_that_never_existed_is_431_but_a_removed_one_lists_nothing(sim):
    client = sim.cs()
    never = "5d3c1f3e-0000-4000-8000-000000000001"
    with pytest.raises(CloudStackApiException) as err:
        client.listVirtualMachines(id=never)
    assert (err.value.error["errorcode"], err.value.error["cserrorcode"]) == (431, 9999)
    assert f"Invalid parameter id value={never}" in err.value.error["errortext"]
    group = client.createSecurityGroup(name="core-gone")["securitygroup"]
    client.deleteSecurityGroup(id=group["id"])
    assert client.listSecurityGroups(id=group["id"]) == {}
