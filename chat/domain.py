"""The chat domain: live chat between buyers and agents, and between the parties of a
contract; its channel layer starts and stops with each web process."""

from __future__ import annotations

from pathlib import Path

from litestar.static_files import create_static_files_router

from chat import api, jobs, layer, limits, pages, socket
from chat.services.conversations import user_group
from fuwu import roles
from fuwu.i18n import N_
from fuwu.services.notifications import NotificationHooks
from fuwu.settings import get_settings
from fuwu.wiring import Domain, NavItem, Panel

HERE = Path(__file__).parent


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
    route_handlers=[*api.ROUTES, socket.chat_socket, *pages.ROUTES,
                    # The widget a shop embeds, and the pages' scripts and styles.
                    create_static_files_router(path="/static/chat", directories=[HERE / "static"])],
    nav=[NavItem(N_("Console"), "/console", ("provider", "merchant"),
                 roles=(roles.AGENT, roles.MANAGER, roles.OWNER, roles.OPERATOR), order=17),
         NavItem(N_("Conversations"), "/conversations", ("provider", "merchant"), order=18)],
    # Merchant-provider conversations, opened from the tender's and the contract's pages.
    panels=[Panel("tender", pages.tender_panel, order=40), Panel("contract", pages.contract_panel)],
    jobs=jobs.JOBS,
    hooks=[NotificationHooks(pushers=[push_notification])],
    on_startup=[start],
    on_shutdown=[stop],
    templates=HERE / "templates",
)
