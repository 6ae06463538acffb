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
            err.print(f"[red]CloudStack error:[/] {exc}\n[dim]Nothing is lost: everything created so far is "
                      "recorded; run the command again to continue.[/]")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("[yellow]interrupted.[/] Nothing is lost: everything created so far is recorded; run the "
                      "command again to continue.")
            raise typer.Exit(130) from None
    return wrapper  # type: ignore[return-value]
