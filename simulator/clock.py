"""Timestamps the way CloudStack prints them: 2026-11-26T16:00:00+0000."""
from __future__ import annotations

from datetime import datetime, timezone


def now_str() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S%z")
