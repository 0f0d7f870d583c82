"""Signed, expiring visitor tokens: how a shop's widget lets a buyer (who has no
account) chat. The token binds the shop and the buyer's visitor id (kept by the
widget in the browser); it is signed with the app's secret key (HMAC-SHA256), so any
process verifies it without a look-up."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid

from fuwu.settings import get_settings

TOKEN_SECONDS = 12 * 3600
_PREFIX = "fv1"


def _sign(payload: str) -> str:
    secret = get_settings().secret_key.encode()
    digest = hmac.new(secret, b"fuwu-visitor\x00" + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(shop_id: uuid.UUID, visitor: str, seconds: int = TOKEN_SECONDS) -> tuple[str, int]:
    """A token for this visitor of this shop, and when it expires (epoch seconds)."""
    expires = int(time.time()) + seconds
    payload = f"{_PREFIX}.{shop_id}.{visitor}.{expires}"
    return f"{payload}.{_sign(payload)}", expires


def verify(token: str) -> tuple[uuid.UUID, str] | None:
    """The (shop, visitor) of a valid, unexpired token; None otherwise."""
    try:
        prefix, shop, visitor, expires, signature = token.split(".")
        payload = f"{prefix}.{shop}.{visitor}.{expires}"
        if prefix != _PREFIX or not hmac.compare_digest(signature, _sign(payload)) or int(expires) < time.time():
            return None
        return uuid.UUID(shop), visitor
    except (ValueError, AttributeError):
        return None


def valid_visitor_id(visitor: str) -> bool:
    return isinstance(visitor, str) and 8 <= len(visitor) <= 64 and all(c.isalnum() or c in "-_" for c in visitor)
