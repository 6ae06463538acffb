"""Async jobs: adaptive polling timing, results, failures and per-operation timeouts."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest

from cpi.cloudstack.errors import JobFailedError, JobTimeoutError
from cpi.cloudstack.policy import PollSchedule
from tests.client.client_scripted_server import TimedJobs, api_error, job_status, ok

VM = {"id": "vm-1", "state": "Running"}


def _poll_times(server):
    start = server.calls("deployVirtualMachine")[0].at
    return [r.at - start for r in server.calls("queryAsyncJobResult")]


def test_default_schedule_polls_first_within_a_quarter_second_then_backs_off_to_about_5s():
    delays = PollSchedule().delays()
    first = [next(delays) for _ in range(20)]
    assert first[0] <= 0.25
    assert all(b >= a for a, b in pairwise(first))
    assert first[-1] == 5.0 and max(first) == 5.0


def test_polls_start_fast_and_grow_to_the_cap(server, make_client):
    jobs = TimedJobs(1.2, {"virtualmachine": VM})
    server.script("deployVirtualMachine", jobs.start("deployVirtualMachine", id="vm-1"))
    server.script("queryAsyncJobResult", jobs.query)
    client = make_client(poll=PollSchedule(initial=0.05, factor=2.0, maximum=0.4))
    started = time.monotonic()
    assert client.run("deployVirtualMachine", zoneid="z") == {"virtualmachine": VM}
    waited = time.monotonic() - started
    times = _poll_times(server)
    gaps = [b - a for a, b in pairwise(times)]
    assert times[0] < 0.25
    assert gaps[0] < gaps[2]  # growing
    assert max(gaps) < 0.4 + 0.15  # capped
    assert 1.2 <= waited < 1.2 + 0.4 + 0.3  # overhead bounded by the cap
    assert all(r.form["jobid"] == "job-1" for r in server.calls("queryAsyncJobResult"))


def test_a_quick_job_is_seen_done_at_the_first_poll_with_default_schedule(server, make_client):
    server.script("createTags", ok("createTags", {"jobid": "job-1"}))
    server.script("queryAsyncJobResult", job_status(1, {"success": True}))
    started = time.monotonic()
    assert make_client(poll=PollSchedule()).run("createTags", resourceids="a") == {"success": True}
    assert time.monotonic() - started < 0.25
    assert len(server.calls("queryAsyncJobResult")) == 1


def test_a_failed_job_raises_with_its_errorcode_and_text(server, make_client):
    server.script("deployVirtualMachine", ok("deployVirtualMachine", {"jobid": "job-1", "id": "vm-1"}))
    server.script(
        "queryAsyncJobResult",
        job_status(0),
        job_status(
            2,
            {"errorcode": 533, "cserrorcode": 4325, "errortext": "Unable to create a deployment for VM"},
            resultcode=530,
        ),
    )
    with pytest.raises(JobFailedError) as caught:
        make_client().run("deployVirtualMachine", operation="create VM bosh-1")
    error = caught.value
    assert (error.errorcode, error.cserrorcode, error.errortext, error.jobid, error.command) == (
        533,
        4325,
        "Unable to create a deployment for VM",
        "job-1",
        "deployVirtualMachine",
    )
    assert "create VM bosh-1 failed" in str(error) and "Unable to create a deployment" in str(error)


def test_a_job_that_never_ends_times_out_naming_the_operation(server, make_client):
    server.script("attachVolume", ok("attachVolume", {"jobid": "job-9"}))
    server.script("queryAsyncJobResult", job_status(0))
    started = time.monotonic()
    with pytest.raises(JobTimeoutError) as caught:
        make_client().run("attachVolume", id="v", virtualmachineid="vm", timeout=0.5, operation="attach disk d-1")
    assert 0.5 <= time.monotonic() - started < 0.8
    assert caught.value.operation == "attach disk d-1" and caught.value.jobid == "job-9"
    assert "attach disk d-1 did not finish within 0.5s" in str(caught.value)


def test_transient_polling_trouble_does_not_end_the_wait(server, make_client):
    server.script("createSnapshot", ok("createSnapshot", {"jobid": "job-1", "id": "s"}))
    server.script(
        "queryAsyncJobResult",
        job_status(0),
        api_error("queryAsyncJobResult", 530, "db down", 9999),
        api_error("queryAsyncJobResult", 530, "db down", 9999),
        job_status(1, {"snapshot": {"id": "s"}}),
    )
    assert make_client(retries=1).run("createSnapshot", volumeid="v") == {"snapshot": {"id": "s"}}
    assert len(server.calls("createSnapshot")) == 1


def test_a_command_answering_synchronously_returns_its_body(server, make_client):
    server.script("createSecurityGroup", ok("createSecurityGroup", {"securitygroup": {"id": "sg"}}))
    assert make_client().run("createSecurityGroup", name="x") == {"securitygroup": {"id": "sg"}}
    assert server.calls("queryAsyncJobResult") == []
