"""Config changes between runs: a zone switch is refused (not an in-place change), new rules exist before old
ones go."""
from __future__ import annotations

from tests.inception.conftest import advanced_config, basic_config


def _mutations(sim, since: int) -> list[str]:
    return [c["command"] for c in sim.calls()[since:] if not c["command"].startswith(("list", "query"))]


def test_a_zone_switch_is_refused_by_plan_and_up(sim, make_env) -> None:
    env = make_env(sim, basic_config("zs1"))
    env.run("up", "--cloud-only", "--non-interactive")
    env.write(advanced_config("zs1"))
    before = len(sim.calls())
    plan = env.run("plan", "--cloud-only", check=False)
    up = env.run("up", "--cloud-only", "--non-interactive", "--yes", check=False)
    assert plan.returncode == up.returncode == 1
    text = " ".join(up.stderr.split())
    assert "cloudstack.zone: the environment's 11 resources are in zone 'Sim-Basic', not 'Sim-Advanced'" in text
    assert "fix: set it back to Sim-Basic and `inception destroy`" in text
    assert plan.stderr == up.stderr
    assert _mutations(sim, before) == []
    env.write(basic_config("zs1"))
    env.run("destroy", "--yes")
    assert env.leftovers() == {}


def test_changed_allowed_cidrs_create_the_new_rules_before_deleting_the_old(sim, make_env) -> None:
    config = basic_config("zs2")
    config["inception"]["allowed_cidrs"] = ["198.51.100.0/24"]
    env = make_env(sim, config)
    env.run("up", "--cloud-only", "--non-interactive")
    config["inception"]["allowed_cidrs"] = ["203.0.113.0/24"]
    env.write(config)
    out = env.run("up", "--cloud-only", "--non-interactive", "--yes").stdout.splitlines()
    created = [i for i, line in enumerate(out) if "created" in line and "from 203.0.113.0/24" in line]
    deleted = [i for i, line in enumerate(out) if "deleted" in line and "from 198.51.100.0/24" in line]
    assert len(created) == len(deleted) == 6, out
    assert max(created) < min(deleted), out
    group = next(g for g in sim.resources()["securitygroup"] if g["name"] == "zs2-bosh")
    assert {r.get("cidr") for r in group["ingressrule"]} == {"203.0.113.0/24", None}
    env.run("destroy", "--yes")
    assert env.leftovers() == {}
