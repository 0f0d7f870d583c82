"""Server-rendered tender pages (merchant and provider)."""

from __future__ import annotations

# Panels that higher domains add to the tender page (bids adds the bid form for
# providers and the evaluation links for merchants): async callables
# (request, viewer, member, tender) -> {"template": "...", **context} or None.
TENDER_PANELS: list = []

ROUTES: list = []
