"""The release builder's one exception type."""
from __future__ import annotations


class ReleaseBuildError(Exception):
    """The release cannot be built; the message says why and what to do."""
