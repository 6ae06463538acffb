"""Stemcell copy throughput (create_stemcell mode B): our one-pass writer against `tar -xzOf image root.img | dd`.

A mostly-empty raw disk (default 1 GiB with 30 MiB of incompressible data in 6 places) is packed like a stemcell
`image` (gzip level 6, as `tar czf` does). Each run writes it onto a target file of the same size pre-filled with
non-zero garbage (flushed first, so it is really "old data"), then checks the target reads back byte-identical to the
raw disk (sha256). Two timings per contender: `cached` (data handed to the kernel) and `durable` (plus fsync, what
the CPI needs before detaching the volume; dd gets `conv=fsync`).

Run: .venv/bin/python bench/stemcell_copy.py [--size-mib 1024] [--data-mib 30] [--repeat 1] [--dir /var/tmp]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cpi.stemcell import write_image  # noqa: E402
from cpi.stemcell.sample import MiB, SampleDisk, spread_extents, write_image_tarball  # noqa: E402

_GARBAGE = (bytes(range(1, 256)) * 4200)[:MiB]


def prefill(path: Path, size: int) -> None:
    with open(path, "wb") as handle:
        for _ in range(size // MiB):
            handle.write(_GARBAGE)
        handle.flush()
        os.fsync(handle.fileno())


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(8 * MiB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_ours(image: Path, target: Path, durable: bool) -> float:
    start = time.perf_counter()
    write_image(str(image), str(target), sync=durable)
    return time.perf_counter() - start


def run_dd(image: Path, target: Path, durable: bool) -> float:
    fsync = " conv=fsync" if durable else ""
    start = time.perf_counter()
    subprocess.run(
        f"tar -xzOf '{image}' root.img | dd of='{target}' bs=1M{fsync} status=none", shell=True, check=True
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--data-mib", type=int, default=30)
    parser.add_argument("--pieces", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--dir", default=None, help="where to put the image and the targets (needs 2x size free)")
    args = parser.parse_args()
    size = args.size_mib * MiB

    with tempfile.TemporaryDirectory(prefix="stemcell-bench-", dir=args.dir) as tmp:
        work = Path(tmp)
        image, target = work / "image", work / "target"
        disk = SampleDisk(size, spread_extents(size, args.data_mib * MiB, args.pieces), seed=1)
        start = time.perf_counter()
        write_image_tarball(str(image), [("root.img", disk, size)])
        expected = disk.sha256()
        print(f"image: {args.size_mib} MiB raw disk, {args.data_mib} MiB of data in {args.pieces} extents, "
              f"{image.stat().st_size / MiB:.1f} MiB gzipped (built in {time.perf_counter() - start:.1f} s)")

        results: dict[tuple[str, bool], list[float]] = {}
        for _ in range(args.repeat):
            for durable in (False, True):
                for name, runner in (("tar|dd", run_dd), ("ours", run_ours)):
                    prefill(target, size)
                    seconds = runner(image, target, durable)
                    if sha256(target) != expected:
                        print(f"FAIL: {name} left a target that differs from the raw image", file=sys.stderr)
                        return 1
                    results.setdefault((name, durable), []).append(seconds)

        print(f"{'mode':<9}{'tar | dd bs=1M':>16}{'ours':>10}{'speed-up':>10}")
        for durable in (False, True):
            baseline = min(results[("tar|dd", durable)])
            ours = min(results[("ours", durable)])
            label = "durable" if durable else "cached"
            print(f"{label:<9}{baseline:>14.2f} s{ours:>8.2f} s{baseline / ours:>9.1f}x")
        print("both targets read back byte-identical to the raw image (sha256)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
