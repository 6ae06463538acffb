"""Terminal questions: numbered menus with the default marked, plain answers with a default."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.prompt import IntPrompt, Prompt

from inception.cloud.report import console, table


def choose(title: str, items: list[dict[str, Any]], columns: list[tuple[str, Callable[[dict], Any]]],
           default: int = 0) -> dict[str, Any]:
    """A numbered table of `items`; returns the one picked (Enter takes the row marked with *)."""
    rows = [[f"{i + 1}{'*' if i == default else ''}", *(get(item) for _, get in columns)] for i, item in enumerate(items)]
    console.print(table(title, ["#", *(name for name, _ in columns)], rows))
    while True:
        picked = IntPrompt.ask("Number", default=default + 1, console=console)
        if 1 <= picked <= len(items):
            return items[picked - 1]
        console.print(f"[red]Pick 1 to {len(items)}[/]")


def ask(question: str, default: str | None = None, *, secret: bool = False,
        check: Callable[[str], str | None] = lambda value: None) -> str:
    """A free answer; `check` returns an error text to ask again."""
    while True:
        value = Prompt.ask(question, default=default, password=secret, console=console)
        value = (value or "").strip()
        problem = "an answer is needed" if not value else check(value)
        if problem is None:
            return value
        console.print(f"[red]{problem}[/]")


def pick(question: str, options: list[str], default: str) -> str:
    return Prompt.ask(question, choices=options, default=default, console=console)

