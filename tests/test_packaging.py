"""A wheel built from the repository carries every data file the code reads at run time (the config schema, the
API specification, the release's templates, the Ubuntu 12.04 ops file), so `pip install .` works like `-e .`, and
nothing that exists only for the tests (the test doubles of tests/testkit) reaches an operator's machine."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("inception", "cpi", "simulator")


def _tracked(*paths: str) -> list[str]:
    out = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--", *paths], capture_output=True, check=True)
    return [name for name in out.stdout.decode().split("\0") if name]


def test_wheel_holds_every_data_file_the_packages_use_and_no_test_helper(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    # Build from the tracked files only (a clean checkout), keeping symlinks as they are in git.
    files = _tracked()
    subprocess.run(["tar", "-C", str(REPO), "-cf", str(tmp_path / "src.tar"), "--", *files], check=True)
    subprocess.run(["tar", "-C", str(source), "-xf", str(tmp_path / "src.tar")], check=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "-w", str(tmp_path / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("cloudstack_inception-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())

    test_only = sorted(name for name in names if name.startswith("tests/") or "/testing/" in name
                       or "testkit" in name or Path(name).name.startswith(("fake_", "test_", "conftest")))
    assert not test_only, f"test helpers shipped in the wheel: {test_only}"
    assert any(name.startswith("simulator/") for name in names) and any(name.startswith("cpi/") for name in names)

    data_files = [name for name in _tracked(*PACKAGES) if not name.endswith(".py") and not (REPO / name).is_symlink()]
    assert data_files, "the packages have data files to check"
    missing = [name for name in data_files if name not in names]
    assert not missing, f"left out of the wheel: {missing}"

    ops = [name for name in _tracked("manifests/ops") if name.endswith(".yml")]
    assert ops
    with zipfile.ZipFile(wheel) as archive:
        for name in ops:
            packaged = f"inception/manifests/ops/{Path(name).name}"
            assert archive.read(packaged) == (REPO / name).read_bytes()
