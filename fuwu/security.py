"""Password hashing (argon2) and opaque tokens stored only as their SHA-256, the
CSRF token of a web session, and the address a request comes from."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import secrets
import weakref

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fuwu.settings import get_settings

_hasher = PasswordHasher()
# Verifying against this when the account does not exist keeps log-in time the same
# for known and unknown e-mails.
_DUMMY_HASH = _hasher.hash("fuwu-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# One semaphore per event loop (a semaphore belongs to the loop that first waits on it).
_hashing_slots: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    size = max(1, get_settings().password_hashing_threads)
    held = _hashing_slots.get(loop)
    if held is None or held[0] != size:
        held = _hashing_slots[loop] = (size, asyncio.Semaphore(size))
    return held[1]


async def hash_password_off_loop(password: str) -> str:
    """`hash_password` in a worker thread, at most `password_hashing_threads` at
    once: an argon2 hash takes tens of milliseconds of CPU, which on the event loop
    stalled every other request (30 concurrent log-ins held /healthz for 2.6 s)."""
    async with _slots():
        return await asyncio.to_thread(hash_password, password)


async def verify_password_off_loop(password_hash: str | None, password: str) -> bool:
    """`verify_password` in a worker thread, bounded like `hash_password_off_loop`."""
    async with _slots():
        return await asyncio.to_thread(verify_password, password_hash, password)


def new_token(prefix: str) -> tuple[str, str]:
    """A fresh token and the hash under which it is stored."""
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_csrf_token(secret: str, session_token: str) -> str:
    """The CSRF token of a web session: an HMAC of the session cookie under the app's
    secret, so that only pages served to that session carry it and no token made for
    another browser or session passes for it."""
    digest = hmac.new(secret.encode(), b"fuwu-csrf\x00" + session_token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: list[str]) -> str:
    """The address a request comes from. `X-Forwarded-For` is believed only when the
    peer is one of the proxies named in FUWU_TRUSTED_PROXIES, and then only as far as
    it was written by trusted proxies: read from the right, the first address that is
    not a trusted proxy is the client (what a client puts further left is its own
    claim, free to forge)."""
    peer = peer or "unknown"
    trusted = _networks(get_settings().trusted_proxies)
    if not trusted:
        return peer

    def is_trusted(text: str) -> bool:
        address = _address(text)
        return address is not None and any(address in network for network in trusted)

    if not is_trusted(peer):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            return hop if _address(hop) is not None else peer
    return hops[0] if hops else peer
