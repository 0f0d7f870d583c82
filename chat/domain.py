"""The chat domain: live chat between buyers and agents, and between the parties of a
contract; its channel layer starts and stops with each web process."""

from __future__ import annotations

from pathlib import Path

from chat import api, jobs, layer, limits, socket
from chat.services.conversations import user_group
from fuwu.services.notifications import NotificationHooks
from fuwu.settings import get_settings
from fuwu.wiring import Domain


async def start() -> None:
    settings = get_settings()
    await layer.start(settings.redis_url)
    await limits.start(settings.redis_url)


async def stop() -> None:
    await layer.stop()
    await limits.stop()


async def push_notification(user_id, payload: dict) -> None:
    """A stored notification, pushed live to the user's open sockets (after commit)."""
    await layer.publish(user_group(user_id), payload)


DOMAIN = Domain(
    name="chat",
    route_handlers=[*api.ROUTES, socket.chat_socket],
    jobs=jobs.JOBS,
    hooks=[NotificationHooks(pushers=[push_notification])],
    on_startup=[start],
    on_shutdown=[stop],
    templates=Path(__file__).parent / "templates",
)
