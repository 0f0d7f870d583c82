"""A provider's scorecard as a page: the provider's own (/scorecard, in pages.py) and
any provider's for everyone (/providers/{id}/scorecard), the same explanation with
the history chart and, for each figure, the records it came from as far as the
reader may open them (ratings.services.sources)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from fuwu import roles
from fuwu.errors import not_found
from fuwu.pages import current_member, render
from fuwu.settings import get_settings as fuwu_settings
from fuwu.tables import Organisation
from ratings import states
from ratings.services import scorecards, sources


def _explained(card: dict) -> list[dict]:
    latest = card["latest"]
    if not latest:
        return []
    return [{"dimension": d, **latest["explanation"][d]} for d in states.DIMENSIONS]


async def scorecard_context(request: Request, provider_id: uuid.UUID) -> dict[str, Any]:
    """What ratings/scorecard.html shows of a provider, for the request's reader."""
    viewer = request.scope.get("user")
    member = await current_member(viewer) if viewer is not None else None
    zone = viewer.timezone if viewer is not None else fuwu_settings().default_timezone
    card = await scorecards.scorecard(provider_id)
    settings = scorecards.get_settings()
    reader = await sources.reader_of(viewer, member, provider_id)
    return {"card": card, "rows": _explained(card), "dimensions": states.DIMENSIONS, "tiers": states.TIER_LABELS,
            "bands": settings.bands, "gates": settings.gates, "margin": settings.margin,
            "sources": await sources.scorecard_sources(provider_id, card["latest"], reader, zone),
            "history_chart": sources.history_chart(card, zone), "own": reader.provider_member}


@get("/providers/{provider_id:uuid}/scorecard", include_in_schema=False)
async def provider_scorecard_page(request: Request, provider_id: FromPath[uuid.UUID]) -> Template:
    """Any provider's scorecard, for everyone: its figures link to what the reader may open."""
    org = await Organisation.select(Organisation.kind, Organisation.name).where(
        Organisation.id == provider_id).first()
    if org is None or org["kind"] != roles.PROVIDER:
        raise not_found("Provider")
    return await render(request, "ratings/scorecard.html", provider_name=org["name"],
                        **await scorecard_context(request, provider_id))


ROUTES = [provider_scorecard_page]
