"""What of a CloudStack call may be logged: the command's own parameters, minus secrets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Added by the transport and signing (apiKey identifies the account; signature and expiry
# belong to the credentials), never useful in a log line.
_TRANSPORT = frozenset({"apikey", "signature", "signatureversion", "expires", "response", "command"})
_SECRET_WORDS = ("password", "secret", "privatekey", "token")
_SIZE_ONLY = frozenset({"userdata"})


def loggable_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of ``params`` safe to log: transport/signing fields dropped, secrets masked,
    user-data (which holds agent credentials) shown as its length only."""
    shown: dict[str, Any] = {}
    for name, value in params.items():
        lowered = name.lower()
        if lowered in _TRANSPORT:
            continue
        if lowered in _SIZE_ONLY:
            shown[name] = f"<{len(str(value))} chars>"
        elif any(word in lowered for word in _SECRET_WORDS):
            shown[name] = "<redacted>"
        else:
            shown[name] = value
    return shown
