"""Every recovery message is true for the case it is shown in: "Nothing is lost ... run the command again to
continue" only after a run that recorded something; the fault named (endpoint, keys) when the error says where it
is; a refused create is not "interrupted"; a wrong endpoint is never recorded as the environment's."""
from __future__ import annotations

import json
from pathlib import Path

from testkit.sshd import free_port
from tests.inception.conftest import Env, basic_config

RESUME = "Nothing is lost"


def _output(result) -> str:
    return " ".join((result.stdout + result.stderr).split())


def test_wrong_secret_names_the_keys_and_promises_nothing(sim, make_env) -> None:
    config = basic_config("msg1")
    config["cloudstack"]["secret_key"] = "not-the-secret"
    env = make_env(sim, config)
    for args in (("status",), ("plan", "--cloud-only"), ("up", "--cloud-only", "--non-interactive"),
                 ("destroy", "--yes"), ("cleanup-leftovers", "--dry-run")):
        result = env.run(*args, check=False)
        text = _output(result)
        assert result.returncode == 1, text
        assert "CloudStack error" in text and "Check the API key and secret key" in text, text
        assert RESUME not in text and "Traceback" not in text, text
    state = env.state_dir / "state.json"
    assert not state.exists() or "target" not in json.loads(state.read_text())


def test_closed_port_names_the_endpoint_and_is_not_recorded(sim, make_env) -> None:
    config = basic_config("msg2")
    config["cloudstack"]["endpoint"] = f"http://127.0.0.1:{free_port()}/client/api"
    env = make_env(sim, config)
    up = env.run("up", "--cloud-only", "--non-interactive", check=False, timeout=300)
    text = _output(up)
    assert up.returncode == 1 and "Check cloudstack.endpoint" in text and RESUME not in text, text
    state = env.state_dir / "state.json"
    assert not state.exists() or "target" not in json.loads(state.read_text())
    # the right endpoint now (from the environment): nothing says the environment "was built on" the wrong one
    del config["cloudstack"]["endpoint"]
    env.write(config)
    plan = env.run("plan", "--cloud-only")
    assert "was built on" not in _output(plan)


def test_config_errors_promise_nothing(sim, make_env) -> None:
    config = basic_config("msg3")
    config["inception"]["allowed_cidrs"] = ["10.0.0.300/8"]
    env = make_env(sim, config)
    for args in (("up", "--cloud-only", "--non-interactive"), ("status",), ("plan",)):
        result = env.run(*args, check=False)
        assert result.returncode == 2 and "config error" in result.stderr and RESUME not in _output(result)


def test_a_create_cloudstack_refused_is_not_called_interrupted(sim, make_env) -> None:
    """A custom compute offering without its cpu/memory details: deployVirtualMachine is refused at once."""
    config = basic_config("msg4")
    config["inception"]["offering"] = "Custom"
    env = make_env(sim, config)
    up = env.run("up", "--cloud-only", "--non-interactive", check=False)
    assert up.returncode == 1
    assert RESUME in _output(up)        # true here: the keypair and group were created and are recorded
    status = env.run("status", check=False)
    text = _output(status)
    assert "creation interrupted" not in text
    assert "not created: " in text and "`up` tries again" in text, text
    assert status.returncode == 1        # not everything recorded is there: scripts can tell
    config["inception"]["offering"] = "Small Instance"
    env.write(config)
    assert "created VM msg4-inception" in _output(env.run("up", "--cloud-only", "--non-interactive", "--yes"))
    assert env.run("status").returncode == 0
    env.run("destroy", "--yes")
    assert env.leftovers() == {}


def test_demo_print_env_and_ssh_do_not_send_back_to_up(tmp_path: Path) -> None:
    env = Env(None, tmp_path, {"name": "demo"})
    env.config_path.unlink()
    env.run("up", timeout=300)
    for args in (("print-env",), ("ssh", "--", "true")):
        result = env.run(*args, check=False)
        text = _output(result)
        assert result.returncode == 1 and "run `inception up`" not in text, text
        assert "simulated CloudStack" in text and "no director was bootstrapped" in text
    env.run("destroy", "--yes")


def test_read_only_commands_after_success_promise_nothing(sim, make_env) -> None:
    """An environment that exists, a status that fails: nothing of this run is there to continue."""
    env = make_env(sim, basic_config("msg5"))
    env.run("up", "--cloud-only", "--non-interactive")
    config = dict(env.config)
    config["cloudstack"] = {**config["cloudstack"], "secret_key": "wrong"}
    env.write(config)
    status = env.run("status", check=False)
    assert status.returncode == 1 and RESUME not in _output(status)
    config["cloudstack"].pop("secret_key")
    env.write(config)
    env.run("destroy", "--yes")
