"""Password hashing (argon2) and opaque tokens stored only as their SHA-256."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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
