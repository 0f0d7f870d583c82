"""The scorecard's and tiers' settings, read once from the environment, validated
when read (a deployment with bands that leave a gap does not start)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

from fuwu.errors import InvalidInput
from fuwu.i18n import N_
from ratings import states
from ratings.errors import RatingsError

# (tier, lowest composite, highest composite): [low, high), the top band includes 100.
DEFAULT_BANDS = ((3, 0.0, 55.0), (4, 55.0, 70.0), (5, 70.0, 85.0), (6, 85.0, 100.0))
# tier -> (completed contracts, distinct merchants of them) needed to hold it.
DEFAULT_GATES = {3: (1, 1), 4: (2, 2), 5: (5, 3), 6: (10, 5)}
DEFAULT_WEIGHTS = {states.OPERATING: 40.0, states.BRAND: 15.0, states.SERVICE: 30.0, states.GROWTH: 15.0}


@dataclass(frozen=True)
class ScorecardSettings:
    window_days: int = 180  # the rolling window
    periods: int = 6  # of equal length; the newest weighs `periods`, the oldest 1
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    # Operating capability's parts: SLA attainment, milestones on time, volume served.
    operating_parts: tuple = (0.5, 0.3, 0.2)
    volume_target: int = 10  # distinct merchants served in the window for a full volume score
    prior_weight: float = 10.0  # how many platform-mean ratings the Bayesian average starts from
    chat_share: float = 0.3  # of service evaluation, from buyers' chat ratings (when there are any)
    bands: tuple = DEFAULT_BANDS
    gates: dict = field(default_factory=lambda: dict(DEFAULT_GATES))
    margin: float = 5.0  # demotion only below the band's minimum less this, twice in a row
    evaluation_days: int = 7  # evaluations are as of the start of each such period (UTC, from a Monday)

    def __post_init__(self) -> None:
        validate_bands(self.bands)
        if set(self.weights) != set(states.DIMENSIONS) or sum(self.weights.values()) <= 0 \
                or min(self.weights.values()) < 0:
            raise InvalidInput(RatingsError.BANDS, N_("Give each of the four dimensions a weight of 0 or more."))

    def band(self, tier: int) -> tuple[float, float]:
        for band_tier, low, high in self.bands:
            if band_tier == tier:
                return low, high
        raise KeyError(tier)


def validate_bands(bands) -> None:
    """The bands of tiers 3, 4, 5 and 6, from the lowest: they cover 0 to 100 without
    gaps or overlaps, and a higher tier has a higher band."""
    ordered = sorted(bands, key=lambda band: band[1])
    problem = None
    if sorted(band[0] for band in ordered) != sorted(states.TIERS):
        problem = N_("Give exactly one band for each of 3, 4, 5 and 6 stars.")
    elif [band[0] for band in ordered] != sorted(states.TIERS):
        problem = N_("A higher tier needs a higher band.")
    elif ordered[0][1] != 0 or ordered[-1][2] != 100:
        problem = N_("The bands must start at 0 and end at 100.")
    elif any(low >= high for _, low, high in ordered):
        problem = N_("Each band must end above where it starts.")
    elif any(ordered[i][2] != ordered[i + 1][1] for i in range(len(ordered) - 1)):
        problem = N_("Each band must start where the one below ends: no gaps, no overlaps.")
    if problem:
        raise InvalidInput(RatingsError.BANDS, problem)


def _floats(name: str, default: tuple) -> tuple:
    value = os.environ.get(name)
    return tuple(float(part) for part in value.split(",")) if value else default


@lru_cache(maxsize=1)
def get_settings() -> ScorecardSettings:
    """FUWU_TIER_BANDS="0,55,70,85,100" (the bounds of 3, 4, 5 and 6 stars),
    FUWU_SCORECARD_WEIGHTS="40,15,30,15" (operating, brand, service, growth),
    FUWU_RATINGS_PRIOR_WEIGHT, FUWU_TIER_MARGIN, FUWU_SCORECARD_WINDOW_DAYS."""
    bounds = _floats("FUWU_TIER_BANDS", (0, 55, 70, 85, 100))
    weights = _floats("FUWU_SCORECARD_WEIGHTS", tuple(DEFAULT_WEIGHTS.values()))
    return ScorecardSettings(
        window_days=int(os.environ.get("FUWU_SCORECARD_WINDOW_DAYS") or 180),
        weights=dict(zip(DEFAULT_WEIGHTS, weights)),
        prior_weight=float(os.environ.get("FUWU_RATINGS_PRIOR_WEIGHT") or 10),
        bands=tuple((tier, bounds[i], bounds[i + 1]) for i, tier in enumerate((3, 4, 5, 6))),
        margin=float(os.environ.get("FUWU_TIER_MARGIN") or 5),
    )
