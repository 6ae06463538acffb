"""`up` killed with SIGKILL at random points, then run again, ends with exactly one of each resource; `destroy`
then leaves nothing of the environment in the simulator. The same with the simulator injecting faults."""
from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter

from tests.inception.conftest import advanced_config, basic_config

KILLS = 10


def _kill_at_random(env, rng: random.Random, low: float, high: float) -> list[float]:
    """Start `up` KILLS times and SIGKILL it after a random delay (runs that finish first are fine too)."""
    delays = []
    for _ in range(KILLS):
        delay = rng.uniform(low, high)
        process = env.popen("up", "--cloud-only", "--non-interactive", "--yes")
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        delays.append(delay)
    return delays


def _converge(env, *args: str, attempts: int = 12) -> str:
    """Run until it succeeds (injected faults may fail a run; each run resumes the previous one)."""
    out = ""
    for _ in range(attempts):
        result = env.run(*args, check=False)
        out += result.stdout + result.stderr
        if result.returncode == 0:
            return out
    raise AssertionError(f"inception {' '.join(args)} never succeeded:\n{out[-3000:]}")


def _state(env) -> dict:
    return json.loads((env.state_dir / "state.json").read_text())


def _assert_recorded_exactly_once(env) -> None:
    state = _state(env)
    assert all(r["status"] == "ready" for r in state["resources"]), state["resources"]
    recorded = Counter(r["id"] for r in state["resources"] if r["kind"] != "static_nat")
    assert max(recorded.values()) == 1
    for ids in env.tagged().values():    # everything tagged for the environment is a recorded resource
        assert set(ids) <= set(recorded)


def test_up_killed_at_random_points_converges_advanced(sim_factory, make_env) -> None:
    sim = sim_factory()
    env = make_env(sim, advanced_config("kill1"))
    _kill_at_random(env, random.Random(1234), 0.8, 3.0)
    env.run("up", "--cloud-only", "--non-interactive", "--yes")

    resources = sim.resources()
    networks = [n for n in resources["network"] if n["name"] == "kill1-net"]
    vms = [v for v in resources["virtualmachine"] if v["name"] == "kill1-inception" and v["state"] != "Expunging"]
    assert len(networks) == 1 and len(vms) == 1 and vms[0]["state"] == "Running"
    ips = [i for i in resources["publicipaddress"] if i.get("associatednetworkid") == networks[0]["id"]]
    assert sorted(bool(i["issourcenat"]) for i in ips) == [False, True]      # source NAT + ours, nothing more
    assert [i["virtualmachineid"] for i in ips if i["isstaticnat"]] == [vms[0]["id"]]
    assert len([k for k in resources["sshkeypair"] if k["name"] == "kill1-bosh"]) == 1
    rules = [r for r in resources.get("firewallrule", []) if r.get("networkid") == networks[0]["id"]
             or r.get("ipaddressid") in {i["id"] for i in ips}]
    kinds = Counter(r.get("traffictype", "Ingress") for r in rules)
    assert kinds == Counter({"Egress": 3, "Ingress": 1}), rules
    _assert_recorded_exactly_once(env)

    env.run("destroy", "--yes")
    assert env.leftovers() == {}


def test_up_killed_with_faults_on_converges_basic(sim_factory, make_env) -> None:
    sim = sim_factory(fault_rate=0.08, seed=7)
    env = make_env(sim, basic_config("kill2"))
    _kill_at_random(env, random.Random(99), 0.8, 3.0)
    _converge(env, "up", "--cloud-only", "--non-interactive", "--yes")

    resources = sim.resources()
    groups = [g for g in resources["securitygroup"] if g["name"] == "kill2-bosh"]
    vms = [v for v in resources["virtualmachine"] if v["name"] == "kill2-inception" and v["state"] != "Expunging"]
    assert len(groups) == 1 and len(vms) == 1 and vms[0]["state"] == "Running"
    assert len(groups[0]["ingressrule"]) == 8
    assert len([k for k in resources["sshkeypair"] if k["name"] == "kill2-bosh"]) == 1
    _assert_recorded_exactly_once(env)

    _converge(env, "destroy", "--yes")
    assert env.leftovers() == {}
