"""Redacted forms of command lines for logs and error messages."""
from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
_URL_PASSWORD = re.compile(r"(://[^/\s:@]+:)[^@\s/]+@")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every given secret masked, and any password inside a URL (`scheme://user:pass@`)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
