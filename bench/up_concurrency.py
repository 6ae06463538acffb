"""`inception up` against the simulator in realistic latency mode: independent steps run at once (the default)
vs forced sequential (--sequential), for a basic and an advanced zone; plus the API calls made.

On a simulator `up` builds the CloudStack side, the bootstrap bundle (CPI release, manifest) and runs the CPI
lifecycle check; the last two need nothing from the first, so they run while the inception VM deploys.
`--cloud-only` measures the CloudStack steps alone.

Each run gets a fresh simulator (same seed, same time scale) and a fresh environment, so both modes do the same
work; the figure is the wall time of the whole `inception up` process. Goal: concurrent <= 0.6 x sequential.

    .venv/bin/python bench/up_concurrency.py [--time-scale 0.2] [--repeat 1]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.testing import RunningSimulator  # noqa: E402
from tests.inception.conftest import advanced_config, basic_config, bootstrappable  # noqa: E402

INCEPTION = str(Path(sys.executable).parent / "inception")


def run_once(zone: str, sequential: bool, time_scale: float, workdir: Path,
             cloud_only: bool) -> tuple[float, Counter, int]:
    sim = RunningSimulator(workdir / "sim", {"latency": "realistic", "time_scale": time_scale, "seed": 1}).start()
    try:
        config = bootstrappable(basic_config("bench") if zone == "basic" else advanced_config("bench"))
        (workdir / "inception.yml").write_text(yaml.safe_dump(config))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSTACK_", "INCEPTION_"))}
        env.update(sim.env())
        args = [INCEPTION, "up", "--non-interactive", *(["--cloud-only"] if cloud_only else []),
                *(["--sequential"] if sequential else [])]
        started = time.monotonic()
        subprocess.run(args, cwd=workdir, env=env, check=True, capture_output=True)
        seconds = time.monotonic() - started
        calls = sim.calls()
        commands = Counter(c["command"] for c in calls)
        return seconds, commands, len(calls)
    finally:
        sim.stop()


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
        results = {}
        for sequential in (True, False):
            times, last = [], None
            for _ in range(options.repeat):
                with tempfile.TemporaryDirectory(prefix="bench-up-") as tmp:
                    seconds, commands, total = run_once(zone, sequential, options.time_scale, Path(tmp),
                                                        options.cloud_only)
                times.append(seconds)
                last = (commands, total)
            mode = "sequential" if sequential else "concurrent"
            results[mode] = (min(times), *last)
        base = results["sequential"][0]
        for mode, (seconds, commands, total) in results.items():
            print(f"{zone:<9} {mode:<11} {seconds:7.2f} {total:9d}  {seconds / base:5.2f}")
        commands = results["concurrent"][1]
        print("  calls: " + ", ".join(f"{name} {n}" for name, n in sorted(commands.items(), key=lambda x: -x[1])))


if __name__ == "__main__":
    main()
