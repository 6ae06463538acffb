"""Async job wait overhead: our adaptive polling vs cs's fixed 2-second polling.

A scripted CloudStack endpoint (real HTTP on 127.0.0.1) runs jobs that finish exactly N seconds
after they start. For each N we time start-to-result with CloudStackClient.run (default
PollSchedule: 0.1 s, x1.5, capped at 5 s) and with cs.CloudStack(fetch_result=True) (its default
poll_interval of 2 s), and print the overhead = observed wait - true job duration.

Run: .venv/bin/python bench/client_job_wait.py [--durations 0.1,0.5,1,3] [--repeat 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cs import CloudStack  # noqa: E402

from cpi.cloudstack.client import CloudStackClient  # noqa: E402
from tests.client.client_scripted_server import API_KEY, SECRET_KEY, ScriptedCloudStack, TimedJobs  # noqa: E402


def measure(duration: float, repeat: int) -> tuple[list[float], list[float], int, int]:
    """Overheads (ours, cs) over ``repeat`` jobs of ``duration`` s, and the polls each made."""
    jobs = TimedJobs(duration)
    ours, theirs = [], []
    with ScriptedCloudStack() as server:
        server.script("createTags", jobs.start("createTags"))
        server.script("queryAsyncJobResult", jobs.query)
        client = CloudStackClient(server.endpoint, API_KEY, SECRET_KEY)
        baseline = CloudStack(server.endpoint, API_KEY, SECRET_KEY, method="post", fetch_result=True)
        for _ in range(repeat):
            started = time.monotonic()
            client.run("createTags", resourceids="z", resourcetype="Zone")
            ours.append(time.monotonic() - started - duration)
        polls_ours = len(server.calls("queryAsyncJobResult"))
        for _ in range(repeat):
            started = time.monotonic()
            baseline.createTags(resourceids="z", resourcetype="Zone")
            theirs.append(time.monotonic() - started - duration)
        polls_cs = len(server.calls("queryAsyncJobResult")) - polls_ours
    return ours, theirs, polls_ours // repeat, polls_cs // repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", default="0.1,0.5,1,3", help="job durations in seconds, comma separated")
    parser.add_argument("--repeat", type=int, default=2, help="jobs per duration and client")
    args = parser.parse_args()
    durations = [float(d) for d in args.durations.split(",")]
    print(f"{'job (s)':>8} {'ours overhead (s)':>18} {'polls':>6} {'cs overhead (s)':>16} {'polls':>6} {'cs/ours':>8}")
    totals = [0.0, 0.0]
    for duration in durations:
        ours, theirs, polls_ours, polls_cs = measure(duration, args.repeat)
        mean_ours, mean_cs = statistics.mean(ours), statistics.mean(theirs)
        totals[0] += mean_ours
        totals[1] += mean_cs
        print(
            f"{duration:>8.2f} {mean_ours:>18.3f} {polls_ours:>6} {mean_cs:>16.3f} {polls_cs:>6} "
            f"{mean_cs / mean_ours:>7.1f}x"
        )
    print(f"{'total':>8} {totals[0]:>18.3f} {'':>6} {totals[1]:>16.3f} {'':>6} {totals[1] / totals[0]:>7.1f}x")


if __name__ == "__main__":
    main()
