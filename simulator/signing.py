"""Request authentication exactly as ApiServer.verifyRequest does it.

The signed string is every parameter but `signature`, sorted by name (case-sensitively, as sent), each value
URL-encoded as java.net.URLEncoder does (space as %20), joined with '&' and lower-cased; HMAC-SHA1 with the
secret key, base64. With signatureVersion=3 the `expires` parameter (yyyy-MM-dd'T'HH:mm:ssZ) must lie in the future.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone
from urllib.parse import quote

from .errors import UNAUTHORIZED, UNAUTHORIZED_TEXT, server_error


def java_urlencode(value: str) -> str:
    """URLEncoder.encode(value, "UTF-8").replace("+", "%20"): only A-Z a-z 0-9 . - * _ stay unescaped."""
    return quote(value, safe="*").replace("~", "%7E")


def signature_for(params: list[tuple[str, str]], secret: str) -> str:
    pairs = sorted((k, v) for k, v in params if k.lower() != "signature")
    unsigned = "&".join(f"{k}={java_urlencode(v)}" for k, v in pairs).lower()
    digest = hmac.new(secret.encode(), unsigned.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def parse_expires(value: str) -> datetime | None:
    for fmt in ("%Y-%m-%dT%H:%M:%S%z",):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def verify(params: list[tuple[str, str]], keys: dict[str, str], now: datetime | None = None) -> str:
    """Return the api key of an authentic request, or raise the 401 CloudStack answers."""
    first = {}
    for k, v in params:
        first.setdefault(k.lower(), v)
    api_key, signature = first.get("apikey"), first.get("signature")
    refused = server_error(UNAUTHORIZED, UNAUTHORIZED_TEXT)
    if not api_key or not signature or api_key not in keys:
        raise refused
    if first.get("signatureversion") == "3":
        expires = parse_expires(first.get("expires", ""))
        if expires is None or expires < (now or datetime.now(timezone.utc)):
            raise refused
    # CloudStack takes the first value of a repeated parameter.
    seen: dict[str, str] = {}
    for k, v in params:
        seen.setdefault(k, v)
    expected = signature_for(list(seen.items()), keys[api_key])
    if not hmac.compare_digest(expected, signature):
        raise refused
    return api_key
