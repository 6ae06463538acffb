"""bzip2 stemcell decoding (create_stemcell, every mode): the CPI's reader against `bzip2 -dc`, in the same run.

bosh-linux-stemcell-builder's CloudStack stage writes `image` as `bzip2 -c root.vhd` (a dynamic VHD). This bench
builds such an image: a raw disk (default 1 GiB) holding real file contents (the first --data-mib of a tar of
/usr/lib and /usr/share, compressible like a root filesystem) in 4 places, converted to a dynamic VHD by qemu-img and
compressed by `bzip2 -9` (setup, not timed). Then it decodes the image to nowhere, --repeat rounds, each contender
once per round (interleaved, so load from other processes falls on all of them alike); best wall time and best CPU
time (user + system, of every thread; CPU time is what a busy machine cannot inflate) per contender:

- baseline: `bzip2 -dc image > /dev/null` (libbz2, one core: what a shell script would do);
- `cpi.stemcell` with the stdlib `bz2` (libbz2 too, the fallback when indexed_bzip2 is missing);
- `cpi.stemcell` with `indexed_bzip2` on one thread, then on every core (what the CPI uses).

The CPI's passes read through `open_inner_image` (the reader the url and upload modes stream from), so they include
the VHD length prediction and the end-of-data check; each digests what it read, and the digests must equal the VHD's.

Run: .venv/bin/python bench/stemcell_bzip2.py [--size-mib 1024] [--data-mib 192] [--repeat 3] [--dir /var/tmp]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cpi.stemcell import archive_sha256, compression, open_inner_image  # noqa: E402

MiB = 1 << 20


def build_image(directory: Path, size_mib: int, data_mib: int) -> tuple[Path, str]:
    """The builder's layout (bzip2 of a dynamic VHD) and the VHD's sha256."""
    raw, vhd, image = directory / "root.img", directory / "root.vhd", directory / "image"
    tar = subprocess.Popen(["tar", "cf", "-", "/usr/lib", "/usr/share"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    assert tar.stdout is not None
    with open(raw, "wb") as out:
        out.truncate(size_mib * MiB)
        piece = data_mib * MiB // 4
        for i in range(4):
            out.seek(i * (size_mib * MiB // 4))
            out.write(tar.stdout.read(piece))
        out.seek(510)
        out.write(b"\x55\xaa")
    tar.kill()
    tar.wait()
    subprocess.run(["qemu-img", "convert", "-O", "vpc", "-o", "subformat=dynamic", str(raw), str(vhd)], check=True)
    raw.unlink()
    with open(image, "wb") as out:
        subprocess.run(["bzip2", "-9", "-c", str(vhd)], stdout=out, check=True)
    digest = archive_sha256(str(vhd))  # the sha256 of a file
    vhd.unlink()
    return image, digest


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_bzip2(image: Path, expected: str) -> tuple[float, float]:
    """(wall, CPU) seconds of `bzip2 -dc image > /dev/null`."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(["bzip2", "-dc", str(image)], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start, _children_cpu() - cpu


def run_reader(image: Path, expected: str) -> tuple[float, float]:
    """(wall, CPU) seconds of reading the VHD through the CPI's reader (and digesting it)."""
    cpu, start = time.process_time(), time.perf_counter()
    digest = hashlib.sha256()
    buf = bytearray(4 * MiB)
    with open_inner_image(str(image)) as reader:
        while n := reader.readinto(buf):
            digest.update(memoryview(buf)[:n])
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    assert digest.hexdigest() == expected, "the reader's bytes differ from the VHD"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--data-mib", type=int, default=192)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=None, help="where to build the image (default: the temp dir)")
    args = parser.parse_args()
    for tool in ("bzip2", "qemu-img", "tar"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed (Debian/Ubuntu: apt-get install bzip2 qemu-utils tar)")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        started = time.perf_counter()
        image, expected = build_image(Path(tmp), args.size_mib, args.data_mib)
        print(f"image: bzip2 of a dynamic VHD, {image.stat().st_size / MiB:.1f} MiB compressed, "
              f"{args.size_mib} MiB disk with {args.data_mib} MiB of /usr file contents "
              f"(built in {time.perf_counter() - started:.0f} s); {os.cpu_count()} CPUs, best of {args.repeat} rounds")
        contenders = [("bzip2 -dc > /dev/null (baseline)", run_bzip2, None, None),
                      ("cpi.stemcell, stdlib bz2", run_reader, None, None)]
        if compression._ibz2 is not None:
            contenders += [("cpi.stemcell, indexed_bzip2, 1 thread", run_reader, compression._ibz2, 1),
                           ("cpi.stemcell, indexed_bzip2, every core", run_reader, compression._ibz2, None)]
        else:
            print("indexed_bzip2 is not installed: only the stdlib bz2 is measured")
        best: dict[str, tuple[float, float]] = {}
        for _ in range(args.repeat):
            for label, run, module, threads in contenders:
                compression._ibz2, compression.BZIP2_THREADS = module, threads
                wall, cpu = run(image, expected)
                old = best.get(label, (wall, cpu))
                best[label] = (min(old[0], wall), min(old[1], cpu))
        base_wall, base_cpu = best[contenders[0][0]]
        print(f"{'':44} {'wall':>8} {'vs bzip2':>9} {'CPU':>8} {'vs bzip2':>9}")
        for label, *_ in contenders:
            wall, cpu = best[label]
            print(f"{label:44} {wall:7.2f}s {base_wall / wall:8.2f}x {cpu:7.2f}s {base_cpu / cpu:8.2f}x")

if __name__ == "__main__":
    main()
