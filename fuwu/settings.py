"""Settings, read once from the environment with safe defaults.

Defaults give a single process on a SQLite file under ``./data`` with the in-process
channel layer; ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _secret_key(data_dir: Path) -> str:
    """The secret from FUWU_SECRET_KEY, else one generated once and kept in the data folder."""
    configured = os.environ.get("FUWU_SECRET_KEY")
    if configured:
        return configured
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Write-then-rename so that two processes starting together agree on one key.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(key)
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None
    redis_url: str | None
    secret_key: str
    # Whether this process runs the scheduled jobs. One process per deployment must;
    # `fuwu serve --workers N` turns it off and expects a `fuwu worker`.
    run_scheduler: bool
    debug: bool
    secure_cookies: bool
    session_days: int
    # Failed log-ins a minute from one address for one account, and from one address
    # for all accounts, before 429 (fuwu.services.accounts.sessions).
    login_attempts_per_minute: int
    login_attempts_per_address_per_minute: int = 30
    # An account that many addresses fail on is slowed down, not locked: each log-in
    # waits longer, up to this many seconds.
    login_slowdown_max_seconds: float = 8.0
    # Sign-ups a hour from one address before 429.
    signups_per_address_per_hour: int = 20
    # Password hashes computed at once, each in a worker thread (argon2 itself uses
    # 4 threads a hash: 1 keeps the event loop a core of its own on 2 cores).
    password_hashing_threads: int = 1
    # Proxies whose X-Forwarded-For is believed (addresses or networks); none by default.
    trusted_proxies: tuple[str, ...] = ()
    # The least bidding time a published tender keeps after an amendment (and needs
    # at publication): DESIGN.md says 3 days.
    min_bidding_seconds: int = 3 * 86400
    # How long a tender stays sealed after its bid deadline so that bids received
    # before the deadline can commit (tenders.services.lifecycle.sealed_until).
    bid_grace_seconds: int = 30
    upload_max_bytes: int = 20 * 1024 * 1024
    # Days a chat transcript's texts are kept (chat.services.retention erases older ones).
    chat_retention_days: int = 365
    default_locale: str = "en"
    default_currency: str = "CNY"
    default_timezone: str = "Asia/Shanghai"
    locales: tuple[str, ...] = field(default=("en", "zh_Hans"))

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "fuwu.sqlite"

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url) and self.database_url.startswith(("postgres://", "postgresql://"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    data_dir = Path(os.environ.get("FUWU_DATA_DIR", "data")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        data_dir=data_dir,
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        secret_key=_secret_key(data_dir),
        run_scheduler=_bool("FUWU_RUN_SCHEDULER", True),
        debug=_bool("FUWU_DEBUG", False),
        secure_cookies=_bool("FUWU_SECURE_COOKIES", False),
        session_days=_int("FUWU_SESSION_DAYS", 14),
        login_attempts_per_minute=_int("FUWU_LOGIN_ATTEMPTS_PER_MINUTE", 10),
        login_attempts_per_address_per_minute=_int("FUWU_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE", 30),
        login_slowdown_max_seconds=float(os.environ.get("FUWU_LOGIN_SLOWDOWN_MAX_SECONDS") or 8),
        signups_per_address_per_hour=_int("FUWU_SIGNUPS_PER_ADDRESS_PER_HOUR", 20),
        password_hashing_threads=_int("FUWU_PASSWORD_HASHING_THREADS", 1),
        trusted_proxies=tuple(p.strip() for p in os.environ.get("FUWU_TRUSTED_PROXIES", "").split(",") if p.strip()),
        min_bidding_seconds=_int("FUWU_MIN_BIDDING_SECONDS", 3 * 86400),
        bid_grace_seconds=_int("FUWU_BID_GRACE_SECONDS", 30),
        upload_max_bytes=_int("FUWU_UPLOAD_MAX_BYTES", 20 * 1024 * 1024),
        chat_retention_days=_int("FUWU_CHAT_RETENTION_DAYS", 365),
    )
