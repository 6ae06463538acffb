"""Console output shared by the environment commands: progress lines, tables, and errors turned into clear
messages and exit codes (never a traceback)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.table import Table

# Every command module imports this one at start-up: what the errors below need is imported when they are handled.
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])

MARKS = {"create": "[green]+[/]", "created": "[green]✓[/]", "reuse": "[dim]=[/]", "reused": "[dim]=[/]",
         "adopt": "[cyan]~[/]", "adopted": "[cyan]✓[/]", "use": "[dim]=[/]", "used": "[dim]=[/]",
         "replace": "[yellow]±[/]", "replaced": "[yellow]✓[/]", "delete": "[red]-[/]", "deleted": "[red]✓[/]",
         "gone": "[dim]·[/]", "kept": "[dim]=[/]", "refuse": "[red]✗[/]", "failed": "[red]✗[/]"}


def line(action: str, label: str, detail: str = "", seconds: float | None = None) -> None:
    took = f" [dim]{seconds:.2f}s[/]" if seconds is not None else ""
    extra = f"  [dim]{detail}[/]" if detail else ""
    console.print(f"{MARKS.get(action, ' ')} {action:<8} {label}{took}{extra}")


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    from rich.table import Table

    out = Table(title=title, title_justify="left")
    for column in columns:
        out.add_column(column)
    for row in rows:
        out.add_row(*("" if v is None else str(v) for v in row))
    return out


AUTH_ERRORS = (401, 432)    # CloudStack: unable to verify the credentials / signature; not allowed


def _advice(exc: Exception) -> str:
    """What to check when the error says where the fault is (the endpoint, the keys), as a second line."""
    from cpi.cloudstack.errors import CloudStackConnectionError

    if isinstance(exc, CloudStackConnectionError):
        return ("\n[dim]Check cloudstack.endpoint (or CLOUDSTACK_ENDPOINT, cloudstack.ini) and that the management "
                "server is reachable from here.[/]")
    if getattr(exc, "errorcode", None) in AUTH_ERRORS:
        return ("\n[dim]Check the API key and secret key (cloudstack.api_key/secret_key, CLOUDSTACK_KEY/"
                "CLOUDSTACK_SECRET or cloudstack.ini): CloudStack did not accept them.[/]")
    return ""


def _resumable() -> str:
    """Only when this run recorded, failed or forgot resources is there anything to continue."""
    from inception.state import resources_changed

    if not resources_changed():
        return ""
    return ("\n[dim]Nothing is lost: everything created so far is recorded; run the command again to "
            "continue.[/]")


def handle_errors(func: F) -> F:
    """Turn the errors a user can fix into a message and an exit code."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from cpi.cloudstack.errors import CloudStackError
        from inception.cloud.runner import StepRefused
        from inception.cloud.session import SessionError
        from inception.config.loader import ConfigError
        from inception.manifests.gopatch import OpsError
        from inception.manifests.interpolate import VariablesError
        from inception.manifests.validate import ManifestError
        from inception.remote.errors import RemoteError
        from inception.state import StateError, StateLocked

        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            err.print(f"[red]config error:[/] {exc}")
            raise typer.Exit(2) from None
        except StateLocked as exc:
            err.print(f"[red]locked:[/] {exc}")
            raise typer.Exit(3) from None
        except (StateError, SessionError) as exc:
            err.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from None
        except StepRefused as exc:
            err.print(f"[red]refused:[/] {exc}")
            raise typer.Exit(1) from None
        except (OpsError, VariablesError, ManifestError) as exc:
            err.print(f"[red]manifest error:[/] {exc}")
            raise typer.Exit(2) from None
        except RemoteError as exc:
            err.print(f"[red]on the inception VM:[/] {exc}\n[dim]Run the command again once fixed: finished steps "
                      "are not repeated.[/]")
            raise typer.Exit(1) from None
        except CloudStackError as exc:
            err.print(f"[red]CloudStack error:[/] {exc}{_advice(exc)}{_resumable()}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print(f"[yellow]interrupted.[/]{_resumable() or ' Nothing was changed.'}")
            raise typer.Exit(130) from None
    return wrapper  # type: ignore[return-value]
