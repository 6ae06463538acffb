"""`inception release build`: the CPI's BOSH release tarball, ready for `bosh create-env` and `bosh upload-release`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def build(
    output: Path = typer.Option(Path("."), "--output", help="Directory the release tarball is written to."),
    version: Optional[str] = typer.Option(
        None, help="Release version (default: the project version, plus +dev.<commit> unless HEAD is tagged)."
    ),
    wheel_cache: Optional[Path] = typer.Option(
        None, help="Where downloaded wheels are kept between builds (default: ~/.cache/cloudstack-inception/wheels)."
    ),
    offline: bool = typer.Option(False, help="Use only the wheel cache; never contact the package index."),
    sha2: bool = typer.Option(False, help="Record sha256 digests in release.MF instead of sha1."),
) -> None:
    """Build bosh-cloudstack-cpi-<version>.tgz: job cloudstack_cpi and its package of vendored wheels."""
    from cpi.release import ReleaseBuildError, build_release
    from cpi.release.archive import file_digest

    try:
        with console.status("Building the CPI release (downloading wheels on the first run)...") as status:
            built = build_release(
                output, version=version, wheel_cache=wheel_cache, offline=offline, sha2=sha2,
                log=lambda line: status.update(line),
            )
    except ReleaseBuildError as exc:
        err_console.print(f"[red]release build failed:[/] {exc}")
        raise typer.Exit(1) from None
    path = built.path.resolve()
    console.print(f"[green]✓[/] {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    console.print(f"  name: {built.manifest['name']}  version: {built.version.version}  commit: {built.version.commit_hash}"
                  + ("  (uncommitted changes)" if built.version.uncommitted_changes else ""))
    console.print(f"  sha1: {file_digest(path, 'sha1')}")
    console.print(f"  use it in a manifest: releases: [{{name: {built.manifest['name']}, url: file://{path}, "
                  f"sha1: {file_digest(path, 'sha1')}}}]")


def register(app: typer.Typer) -> None:
    release_app = typer.Typer(help="The CloudStack CPI's BOSH release.", no_args_is_help=True)
    release_app.command("build")(build)
    app.add_typer(release_app, name="release")
