"""`inception up` against the simulator in realistic latency mode: independent steps run at once (the default)
vs forced sequential (--sequential), for a basic and an advanced zone; plus the API calls made.

On a simulator `up` builds the CloudStack side, the bootstrap bundle (CPI release, manifest) and runs the CPI
lifecycle check; the last two need nothing from the first, so they run while the inception VM deploys.
`--cloud-only` measures the CloudStack steps alone.

Each run gets a fresh simulator (same seed, same time scale) and a fresh environment, so both modes do the same
work; the figure is the wall time of the whole `inception up` process. Goal: concurrent <= 0.6 x sequential.

Below each zone, the critical path's arithmetic from the sequential run's own step times (a floor for the
concurrent run on an idle machine): start-up and finish (wall time outside the steps) plus the longer of the
longest single step and the CPI check's path (its set-up plus, per wave of cpi.lifecycle.WAVES, its longest call).

    .venv/bin/python bench/up_concurrency.py [--time-scale 0.2] [--repeat 1]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cpi.lifecycle import WAVES  # noqa: E402
from simulator.process import RunningSimulator  # noqa: E402
from tests.inception.conftest import advanced_config, basic_config, bootstrappable  # noqa: E402

INCEPTION = str(Path(sys.executable).parent / "inception")
# `inception up` progress lines: mark, action, label, seconds, optional detail.
LINE = re.compile(r"^.\s(\w+)\s+(.+?) (\d+\.\d+)s(?:\s\s.*)?$")
CHECK_TASK = "CPI lifecycle check through the simulator"


def run_once(zone: str, sequential: bool, time_scale: float, workdir: Path,
             cloud_only: bool) -> tuple[float, Counter, int, str]:
    sim = RunningSimulator(workdir / "sim", {"latency": "realistic", "time_scale": time_scale, "seed": 1}).start()
    try:
        config = bootstrappable(basic_config("bench") if zone == "basic" else advanced_config("bench"))
        (workdir / "inception.yml").write_text(yaml.safe_dump(config))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSTACK_", "INCEPTION_"))}
        env.update(sim.env(), NO_COLOR="1", COLUMNS="250")
        args = [INCEPTION, "up", "--non-interactive", *(["--cloud-only"] if cloud_only else []),
                *(["--sequential"] if sequential else [])]
        started = time.monotonic()
        done = subprocess.run(args, cwd=workdir, env=env, check=True, capture_output=True, text=True)
        seconds = time.monotonic() - started
        calls = sim.calls()
        commands = Counter(c["command"] for c in calls)
        return seconds, commands, len(calls), done.stdout
    finally:
        sim.stop()


def critical_path(wall: float, output: str) -> str:
    """The floor of a concurrent run, from a sequential run's wall time and printed step times."""
    calls = {name for wave in WAVES for name in wave}
    tasks: dict[str, float] = {}
    check: dict[str, float] = {}
    for text in output.splitlines():
        found = LINE.match(text)
        if not found:
            continue
        label, seconds = found.group(2), float(found.group(3))
        if label.startswith("CPI ") and label[4:] in calls:
            check[label[4:]] = seconds
        else:
            tasks[label] = seconds
    outside = wall - sum(tasks.values())
    longest = max((s, label) for label, s in tasks.items() if label != CHECK_TASK)
    parts = [f"start-up and finish {outside:.1f} s"]
    path = longest[0]
    per_wave = ""
    if check:
        setup = tasks[CHECK_TASK] - sum(check.values())
        longest_calls = [max((check[n], n) for n in wave if n in check) for wave in WAVES
                         if any(n in check for n in wave)]
        chain = sum(seconds for seconds, _ in longest_calls)
        parts.append(f"CPI check set-up {setup:.1f} s + its waves' longest calls {chain:.1f} s "
                     f"(longest single step: {longest[1]} {longest[0]:.1f} s)")
        per_wave = "\n  longest call per wave: " + ", ".join(f"{name} {s:.2f}" for s, name in longest_calls)
        path = max(path, setup + chain)
    else:
        parts.append(f"longest step: {longest[1]} {longest[0]:.1f} s")
    floor = outside + path
    return f"  critical path: {' + '.join(parts)} -> floor {floor:.1f} s = {floor / wall:.2f} of sequential{per_wave}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-scale", type=float, default=0.1, help="simulator time scale (realistic mode)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cloud-only", action="store_true", help="only the CloudStack steps")
    options = parser.parse_args()
    print(f"inception up{' --cloud-only' if options.cloud_only else ''}, simulator realistic latency "
          f"x{options.time_scale}, {options.repeat} run(s) per row (best of)")
    print(f"{'zone':<9} {'mode':<11} {'wall s':>7} {'API calls':>9}  {'ratio':>5}")
    for zone in ("basic", "advanced"):
        results: dict[str, tuple[float, Counter, int, str]] = {}
        for _ in range(options.repeat):   # interleaved: a busy spell of this shared machine hits both modes
            for mode in ("sequential", "concurrent"):
                with tempfile.TemporaryDirectory(prefix="bench-up-") as tmp:
                    run = run_once(zone, mode == "sequential", options.time_scale, Path(tmp), options.cloud_only)
                if mode not in results or run[0] < results[mode][0]:
                    results[mode] = run
        base = results["sequential"][0]
        for mode, (seconds, _commands, total, _output) in results.items():
            print(f"{zone:<9} {mode:<11} {seconds:7.2f} {total:9d}  {seconds / base:5.2f}")
        print(critical_path(base, results["sequential"][3]))
        commands = results["concurrent"][1]
        print("  calls: " + ", ".join(f"{name} {n}" for name, n in sorted(commands.items(), key=lambda x: -x[1])))


if __name__ == "__main__":
    main()
