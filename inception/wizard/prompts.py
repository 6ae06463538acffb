"""Terminal questions: menus answered by number or by name, plain answers with a default. A bad answer is
never fatal: the reason is shown and the question asked again."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.markup import escape
from rich.prompt import Prompt

from inception.cloud.report import console, table

Check = Callable[[str], "str | None"]


def _say_problem(problem: str) -> None:
    console.print(f"[red]{escape(problem)}[/]", highlight=False)


def match_name(answer: str, names: Sequence[str]) -> int | None | str:
    """Index of the name `answer` means: exact (any case), else the only name starting with it. A str is the
    reason it means none or several."""
    lowered = [name.lower() for name in names]
    text = answer.strip().lower()
    if text in lowered:
        return lowered.index(text)
    starts = [i for i, name in enumerate(lowered) if name.startswith(text)]
    if len(starts) == 1:
        return starts[0]
    if starts:
        return f"{answer!r} could be {', '.join(names[i] for i in starts)}: type more of the name"
    return None


def choose(title: str, items: list[dict[str, Any]], columns: list[tuple[str, Callable[[dict], Any]]],
           default: int = 0) -> dict[str, Any]:
    """A numbered table of `items` (the first column is the name); the answer is a number or a name, Enter
    takes the row marked with *."""
    rows = [[f"{i + 1}{'*' if i == default else ''}", *(get(item) for _, get in columns)] for i, item in enumerate(items)]
    console.print(table(title, ["#", *(name for name, _ in columns)], rows))
    names = [str(columns[0][1](item)) for item in items]
    while True:
        answer = (Prompt.ask("Number or name", default=str(default + 1), console=console) or "").strip()
        if answer.isdigit():
            if 1 <= int(answer) <= len(items):
                return items[int(answer) - 1]
            _say_problem(f"there is no number {answer} here: pick 1 to {len(items)}, or type a name")
            continue
        found = match_name(answer, names)
        if isinstance(found, int):
            return items[found]
        _say_problem(found or f"no {title.lower()} entry is called {answer!r}: pick 1 to {len(items)}, or one of "
                               f"{', '.join(names)}")


def ask(question: str, default: str | None = None, *, secret: bool = False,
        check: Check = lambda value: None) -> str:
    """A free answer; `check` returns the reason it is wrong (then it is asked again)."""
    while True:
        value = (Prompt.ask(question, default=default, password=secret, console=console) or "").strip()
        problem = "an answer is needed" if not value else check(value)
        if problem is None:
            return value
        _say_problem(problem)


def pick(question: str, options: list[str], default: str) -> str:
    """One of `options`, in any case, or a prefix only one option starts with."""
    while True:
        text = escape(f"{question} [{'/'.join(options)}]")
        answer = (Prompt.ask(text, default=default, console=console) or "").strip()
        found = match_name(answer, options)
        if isinstance(found, int):
            return options[found]
        _say_problem(found or f"{answer!r} is not one of {', '.join(options)}")
