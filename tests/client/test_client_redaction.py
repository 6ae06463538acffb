"""Secrets (secret key, API key, signatures, user-data, passwords) never reach logs, error
texts or reprs; the DEBUG log still tells command, parameters, status, duration and retries."""

from __future__ import annotations

import logging
import re

import pytest

from cpi.cloudstack.client import CloudStackClient
from cpi.cloudstack.errors import CloudStackError, OutcomeUnknownError
from tests.client.client_scripted_server import API_KEY, SECRET_KEY, Reply, api_error, job_status, ok

USERDATA = "c2VjcmV0LWFnZW50LXNldHRpbmdz" * 40


def _leaks(text: str, signatures: list[str]) -> list[str]:
    secrets = [SECRET_KEY, API_KEY, USERDATA[:40], "hunter2", *signatures]
    return [s for s in secrets if s and s in text]


def test_logs_errors_and_reprs_hold_no_secret(server, make_client, caplog):
    server.script(
        "deployVirtualMachine",
        api_error("deployVirtualMachine", 429, "slow down", 9999),
        ok("deployVirtualMachine", {"jobid": "j", "id": "vm"}),
    )
    server.script("queryAsyncJobResult", job_status(1, {"virtualmachine": {"id": "vm"}}))
    server.script("createUser", api_error("createUser", 431, "Invalid parameter: username taken"))
    server.script("createVolume", Reply(drop=True))
    client = make_client()
    errors: list[Exception] = []
    with caplog.at_level(logging.DEBUG, logger="cloudstack"):
        client.run("deployVirtualMachine", zoneid="z-1", userdata=USERDATA, name="bosh-1")
        for command, params in [
            ("createUser", {"username": "u", "password": "hunter2"}),
            ("createVolume", {"name": "d"}),
        ]:
            with pytest.raises(CloudStackError) as caught:
                client.call(command, **params)
            errors.append(caught.value)
    signatures = [r.form["signature"] for r in server.calls()]
    assert len(signatures) == 5 and all(signatures)
    texts = [caplog.text, repr(client), str(client)]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    for text in texts:
        assert _leaks(text, signatures) == [], text
    assert isinstance(errors[1], OutcomeUnknownError)


def test_debug_log_shows_command_params_status_duration_and_retries(server, make_client, caplog):
    server.script(
        "deployVirtualMachine",
        api_error("deployVirtualMachine", 429, "slow down", 9999),
        ok("deployVirtualMachine", {"jobid": "j", "id": "vm"}),
    )
    with caplog.at_level(logging.DEBUG, logger="cloudstack"):
        make_client().call("deployVirtualMachine", zoneid="z-1", userdata=USERDATA, name="bosh-1")
    lines = [r.getMessage() for r in caplog.records if r.name == "cloudstack"]
    assert re.search(r"deployVirtualMachine .*'zoneid': 'z-1'.*: HTTP 429 in \d+\.\d+s \(attempt 1\)", lines[0])
    assert f"'userdata': '<{len(USERDATA)} chars>'" in lines[0]
    assert any(line.startswith("retrying deployVirtualMachine") for line in lines)
    assert any(re.search(r"HTTP 200 in \d+\.\d+s \(attempt 2\)", line) for line in lines)
    assert any("succeeded after 1 retries" in line for line in lines)


def test_settings_repr_hides_credentials(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    from cpi.cloudstack.config import resolve_settings

    settings = resolve_settings("http://127.0.0.1:1/client/api", API_KEY, SECRET_KEY)
    assert API_KEY not in repr(settings) and SECRET_KEY not in repr(settings)
    client = CloudStackClient.from_settings("http://127.0.0.1:1/client/api", API_KEY, SECRET_KEY)
    assert API_KEY not in repr(client) and SECRET_KEY not in repr(client)
