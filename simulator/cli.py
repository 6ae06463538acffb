"""`cloudstack-sim`: run the CloudStack management-server simulator."""
from __future__ import annotations

import logging
import signal
import sys
import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Optional

import typer

DISTRIBUTION = "cloudstack-inception"

# Plain (click) help: every option shows the placeholder named here and on/off flags show none, where typer's
# rich help would print a `<bool>` type beside each flag.
app = typer.Typer(help="A local Apache CloudStack management server stand-in, faithful to the real API.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"]})


def _print_version(value: bool) -> None:
    if value:
        try:
            installed = version(DISTRIBUTION)
        except PackageNotFoundError:     # run from a checkout that was never installed
            installed = "unknown (not installed)"
        typer.echo(f"cloudstack-sim {installed}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Optional[bool] = typer.Option(None, "--version", callback=_print_version, is_eager=True,
                                                help="Print the version and exit."),
) -> None:
    """CloudStack simulator."""


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", metavar="ADDRESS", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8080, metavar="PORT", help="Port to listen on; 0 picks a free one."),
    state_dir: Path = typer.Option(Path("sim-state"), metavar="DIR", help="Where resources, keys and blobs are kept; a restart "
                                                           "with the same dir keeps every resource."),
    api_key: Optional[str] = typer.Option(None, metavar="KEY", help="API key to accept (generated and printed when omitted)."),
    secret_key: Optional[str] = typer.Option(None, metavar="SECRET", help="Secret key for that API key."),
    latency: str = typer.Option("instant", metavar="instant|realistic", help="instant (tests) or realistic (deploy ~1 min, downloads minutes)."),
    time_scale: float = typer.Option(1.0, metavar="FACTOR", help="Multiply realistic durations by this factor (0.01 = 100x faster)."),
    fault_rate: float = typer.Option(0.0, metavar="SHARE", help="Share of requests (0..1) that meet an injected fault: HTTP 5xx/530, "
                                               "429, dropped connections, failed jobs, slow answers."),
    seed: Optional[int] = typer.Option(None, metavar="N", help="Random seed making fault injection reproducible."),
    host_vm_device_dir: Optional[Path] = typer.Option(None, metavar="DIR", help="Volumes attached to the host VM appear here as "
                                                                 "files named like the guest's devices (vdb, ...)."),
    seed_file: Optional[Path] = typer.Option(None, metavar="FILE", help="YAML/JSON file describing the zones to create."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every request to stderr."),
) -> None:
    """Serve the CloudStack API at http://HOST:PORT/client/api; prints that endpoint once ready."""
    from .app import Simulator
    from .context import Options
    from .server import SimulatorServer

    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        sim = Simulator(Options(state_dir=state_dir, api_key=api_key, secret_key=secret_key, latency=latency,
                                time_scale=time_scale, fault_rate=fault_rate, seed=seed,
                                host_vm_device_dir=host_vm_device_dir, seed_file=seed_file))
        server = SimulatorServer(sim, host, port)
    except (ValueError, OSError) as err:
        typer.echo(f"cloudstack-sim: {err}", err=True)
        raise typer.Exit(2) from None
    if sim.generated_keys:
        key, secret = next(iter(sim.keys.items()))
        typer.echo(f"api_key: {key}")
        typer.echo(f"secret_key: {secret}")
    typer.echo(server.endpoint)
    sys.stdout.flush()

    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server.serve_forever(poll_interval=0.2)
    sim.shutdown()
    server.server_close()


def main() -> None:
    app()
