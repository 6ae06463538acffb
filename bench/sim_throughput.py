"""Simulator throughput: signed API calls per second from 32 concurrent clients, against one client alone.

Run: .venv/bin/python bench/sim_throughput.py [--seconds 10] [--clients 32]
Each client is a real `cs.CloudStack` (HMAC-signed POSTs over its own keep-alive connection) calling a mix of
list commands and async tag jobs (create + poll), as the CPI and the inception tool do.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cs import CloudStack  # noqa: E402

from simulator.process import RunningSimulator  # noqa: E402


def run(sim: RunningSimulator, clients: int, seconds: float) -> tuple[int, list[float]]:
    prefix = f"bench{clients}"
    zone_id = sim.cs().listZones(name="Sim-Basic")["zone"][0]["id"]
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        client = CloudStack(endpoint=sim.endpoint, key=sim.api_key, secret=sim.secret_key, method="post")
        mine: list[float] = []
        i = 0
        try:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                step = i % 4
                if step == 0:
                    client.listZones()
                elif step == 1:
                    client.listServiceOfferings()
                elif step == 2:
                    job = client.createTags(resourceids=zone_id, resourcetype="Zone",
                                            tags=[{"key": f"{prefix}-{n}-{i}", "value": "x"}])
                    client.queryAsyncJobResult(jobid=job["jobid"])
                else:
                    client.listTags(key=f"{prefix}-{n}-{i - 1}")
                mine.append(time.perf_counter() - t0)
                i += 1
        except BaseException as exc:  # reported after the run
            failures.append(exc)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"{len(failures)} client(s) failed: {failures[0]!r}")
    # step 2 makes two HTTP calls
    calls = sum(2 if (k % 4) == 2 else 1 for k in range(len(latencies)))
    return calls, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sim = RunningSimulator(Path(tmp)).start()
        try:
            base_calls, base_lat = run(sim, 1, args.seconds / 2)
            calls, lat = run(sim, args.clients, args.seconds)
        finally:
            sim.stop()
    base_rate = base_calls / (args.seconds / 2)
    rate = calls / args.seconds
    print(f"{'clients':>8} {'calls/s':>10} {'p50 ms':>8} {'p95 ms':>8}")
    for n, r, lats in ((1, base_rate, base_lat), (args.clients, rate, lat)):
        q = statistics.quantiles(lats, n=20)
        print(f"{n:>8} {r:>10.0f} {statistics.median(lats) * 1000:>8.1f} {q[18] * 1000:>8.1f}")
    print(f"ratio {args.clients} clients / 1 client: {rate / base_rate:.2f}x; goal >= 200 calls/s: "
          f"{'met' if rate >= 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
