"""Cold start of the CPI: `info` (one process per call, as the director runs it) against `python3 -c pass`.

Prints the median wall time of each over N runs and the ratio. `info` must not import requests/cs/jsonschema, so
it should cost little more than the interpreter's own start; the import cost of the HTTP stack (what every method
that talks to CloudStack pays) is shown for comparison.
Usage: .venv/bin/python bench/cpi_cold_start.py [runs]
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
ENTRY = str(Path(sys.executable).with_name("cloudstack-cpi"))


def median_seconds(command: list[str], stdin: bytes = b"") -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, input=stdin, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    info = json.dumps({"method": "info", "arguments": []}).encode()
    baseline = median_seconds([sys.executable, "-c", "pass"])
    rows = [
        ("python3 -c pass (baseline)", baseline),
        ("python3 -m cpi.main  info", median_seconds([sys.executable, "-m", "cpi.main"], info)),
        ("cloudstack-cpi       info", median_seconds([ENTRY], info)),
        ("python3 -c 'import cpi.cloudstack.client'",
         median_seconds([sys.executable, "-c", "import cpi.cloudstack.client"])),
    ]
    print(f"cold start, median of {RUNS} runs, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    for name, seconds in rows:
        print(f"  {name:<44} {seconds * 1000:7.1f} ms   x{seconds / baseline:4.2f} of baseline")


if __name__ == "__main__":
    main()
