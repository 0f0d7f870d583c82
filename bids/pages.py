"""Server-rendered bid and evaluation pages."""

from __future__ import annotations


async def tender_panel(request, viewer, member, tender):
    """The bids panel on the tender page."""
    return None


ROUTES: list = []
