"""Which CloudStack calls may be repeated, and how long to wait between tries and polls."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# First word of the command name (camelCase) for commands that only read.
_READ_ONLY_VERBS = frozenset({"list", "query", "get", "find", "search", "is"})
# Named like readers, but they create records (upload slots) or start a job.
_MUTATING_READERS = ("getUploadParamsFor", "getDiagnosticsData")
_VERB = re.compile(r"[a-z]+")
# ApiRateLimitServiceImpl: "... please retry after 1000 ms." (newer: "after [1000] ms")
_RETRY_AFTER_MS = re.compile(r"retry after \[?(\d+)\]? ?ms", re.IGNORECASE)


def is_read_only(command: str) -> bool:
    """True for commands that change nothing, so repeating them is always safe."""
    match = _VERB.match(command)
    if match is None or match.group() not in _READ_ONLY_VERBS:
        return False
    return not command.startswith(_MUTATING_READERS)


def throttle_hint(errortext: str | None) -> float | None:
    """Seconds CloudStack asks a throttled (429) caller to wait, if it says so."""
    match = _RETRY_AFTER_MS.search(errortext or "")
    return int(match.group(1)) / 1000 if match else None


@dataclass(frozen=True)
class PollSchedule:
    """Adaptive delays between async job polls: short at first, growing to ``maximum``.

    Quick jobs (tag creation, a simulator) are seen done within a fraction of a second, long
    ones (a VM deploy) are polled every ``maximum`` seconds, so the wait overhead stays a small
    fraction of the job's duration without hammering the management server.
    """

    initial: float = 0.1
    factor: float = 1.5
    maximum: float = 5.0

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield min(delay, self.maximum)
            delay *= self.factor
