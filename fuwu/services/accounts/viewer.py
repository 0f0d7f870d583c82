"""Who is asking: a signed-in viewer and their membership of one organisation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Viewer:
    """Who is making a request: a signed-in person, by web session or API token."""

    user_id: uuid.UUID
    email: str
    display_name: str
    locale: str
    timezone: str
    via: str  # "session" or "token"
    session_id: uuid.UUID | None = None
    current_organisation: uuid.UUID | None = None


@dataclass(frozen=True)
class Member:
    """A viewer's membership of one organisation, as the guards see it."""

    membership_id: uuid.UUID
    organisation_id: uuid.UUID
    kind: str
    role: str
    name: str
    # Suspended by a platform admin: it cannot bid (providers) or publish (merchants).
    suspended: bool = False

    def has_role(self, *allowed: str) -> bool:
        return self.role in allowed
