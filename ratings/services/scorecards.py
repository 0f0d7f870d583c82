"""Scorecards and tiers (DESIGN.md section 6).

Each provider gets four dimensions, 0-100, over a rolling window split into equal
periods, the newest weighing most (weights P, P-1, ..., 1 for P periods):

* operating capability: the share of SLA measurements met (sla's measurements, the
  latest version of each window), the share of milestones delivered on time, and
  the volume served (distinct merchants with a signed contract running in the
  window, against a target), weighted by `operating_parts` over the parts that have
  data;
* brand capability: the admins' latest unexpired grade (0 without one);
* service evaluation: a Bayesian average of merchants' overall ratings (published,
  not hidden) with the platform's mean over the window as prior, worth
  `prior_weight` ratings, on 1..5 taken to 0..100; blended (`chat_share`) with the
  Wilson lower bound (95 %) of the share of positive (4-5) buyer chat ratings;
* growth: signed contracts started, and distinct merchants among them, in the
  window against the window before: 50 + 50 x (now - before) / max(before, 1),
  kept to 0..100, the mean of the two.

The composite is the settings' weighted mean; each dimension's contribution is
rounded to 0.01 and the composite is their sum, so the explanation adds up to it.

Tiers: the highest tier whose band the composite reaches and whose gates (completed
contracts, distinct merchants of them) the provider meets; none is unrated.
Promotion at the evaluation that clears a band (6 stars waits for two admins);
demotion only after two consecutive evaluations below the band's minimum less the
margin, "at risk" in between.
"""

from __future__ import annotations

import datetime
import math
import uuid
from dataclasses import dataclass

from piccolo.query.functions.aggregate import Count, Sum

from chat.services.satisfaction import buyer_ratings
from fuwu import roles
from fuwu.clock import now
from fuwu.db import atomic, dump_json, executemany, fetch, is_postgres, load_json
from fuwu.i18n import N_
from fuwu.tables import Organisation
from ratings import sql, states
from ratings.settings import ScorecardSettings, get_settings
from ratings.tables import BrandGrade, Evaluation, Rating, Standing, TierApproval
from sla import states as sla_states
from sla.services.evaluation import attainment, json_moment
from sla.tables import Contract
from tenders.hooks import InvitationStanding

NEUTRAL_MEAN = 3.0  # the prior when the platform has no ratings yet: the scale's middle
Z = 1.96  # Wilson's bound at 95 %
BATCH = 1000


def evaluation_moment(moment: datetime.datetime, settings: ScorecardSettings | None = None) -> datetime.datetime:
    """The evaluation a moment belongs to: the start of its evaluation period (UTC,
    periods counted from Monday 1970-01-05), the same in every process."""
    settings = settings or get_settings()
    origin = datetime.datetime(1970, 1, 5, tzinfo=datetime.timezone.utc)
    length = datetime.timedelta(days=settings.evaluation_days)
    return origin + ((moment - origin) // length) * length


def periods(as_of: datetime.datetime,
            settings: ScorecardSettings) -> list[tuple[datetime.datetime, datetime.datetime, int]]:
    """The window's periods, newest first: (start, end, weight)."""
    length = datetime.timedelta(days=settings.window_days) / settings.periods
    return [(as_of - (k + 1) * length, as_of - k * length, settings.periods - k) for k in range(settings.periods)]


def wilson_lower_bound(positive: int, total: int, z: float = Z) -> float:
    """The lower bound of the share of positives, 0..1 (0 without any)."""
    if total <= 0:
        return 0.0
    share = positive / total
    centre = share + z * z / (2 * total)
    spread = z * math.sqrt((share * (1 - share) + z * z / (4 * total)) / total)
    return (centre - spread) / (1 + z * z / total)


def bayesian_mean(weighted_sum: float, weighted_count: float, prior_mean: float, prior_weight: float) -> float:
    return (prior_weight * prior_mean + weighted_sum) / (prior_weight + weighted_count)


def growth_score(current: int, before: int) -> float:
    return max(0.0, min(100.0, 50 + 50 * (current - before) / max(before, 1)))


def _r(value: float) -> float:
    return round(value + 0.0, 2)


def _real_contract():
    return Contract.merchant_signed_at.is_not_null() & Contract.provider_signed_at.is_not_null()


def _counted_rating(as_of: datetime.datetime):
    """Ratings that count as of the moment: not hidden, and published by then (both
    sides wrote, or 14 days passed)."""
    return (Rating.status != states.HIDDEN) & (
        ((Rating.status == states.PUBLISHED) & (Rating.published_at <= as_of)) | (Rating.publish_after <= as_of))


# --- figures ---------------------------------------------------------------------------


async def _operating(ids: list[uuid.UUID], as_of: datetime.datetime, settings: ScorecardSettings) -> dict:
    figures = {pid: {"measured": 0.0, "met": 0.0, "due": 0.0, "on_time": 0.0} for pid in ids}
    spans = periods(as_of, settings)
    # Every period of the window in one pass (sla's two statements for the batch).
    for pid, by_period in (await attainment(ids, [(start, end) for start, end, _ in spans])).items():
        for (_, _, weight), counts in zip(spans, by_period):
            for name in ("measured", "met", "due", "on_time"):
                figures[pid][name] += weight * counts[name]
    window_start = as_of - datetime.timedelta(days=settings.window_days)
    served = {row["provider"]: row["count"] for row in await Contract.select(
        Contract.provider, Count(distinct=[Contract.merchant])).where(
        Contract.provider.is_in(ids) & _real_contract() & (Contract.starts_at < as_of)
        & (Contract.ends_at > window_start)).group_by(Contract.provider)}
    found = {}
    part_weights = settings.operating_parts
    for pid in ids:
        f = figures[pid]
        parts = []
        attained = f["met"] / f["measured"] if f["measured"] else None
        on_time = f["on_time"] / f["due"] if f["due"] else None
        volume = min(1.0, served.get(pid, 0) / settings.volume_target)
        for share, weight in ((attained, part_weights[0]), (on_time, part_weights[1]), (volume, part_weights[2])):
            if share is not None:
                parts.append((share, weight))
        score = 100 * sum(s * w for s, w in parts) / sum(w for _, w in parts)
        found[pid] = (_r(score), {
            "sla_attainment": None if attained is None else _r(100 * attained),
            "sla_windows_weighted": _r(f["measured"]), "sla_windows_met_weighted": _r(f["met"]),
            "milestones_on_time": None if on_time is None else _r(100 * on_time),
            "milestones_due_weighted": _r(f["due"]), "merchants_served": served.get(pid, 0),
            "volume": _r(100 * volume)})
    return found


async def _brand(ids: list[uuid.UUID], as_of: datetime.datetime) -> dict:
    found: dict = {}
    for row in await BrandGrade.select(BrandGrade.id, BrandGrade.provider, BrandGrade.score, BrandGrade.expires_at,
                                       BrandGrade.graded_at).where(
            BrandGrade.provider.is_in(ids) & (BrandGrade.graded_at <= as_of)
            & (BrandGrade.expires_at > as_of)).order_by(BrandGrade.graded_at, ascending=False):
        found.setdefault(row["provider"], (float(row["score"]), {"grade": str(row["id"]), "score": row["score"],
                                                                 "expires_at": row["expires_at"].isoformat()}))
    return {pid: found.get(pid, (0.0, {"grade": None, "score": None, "expires_at": None})) for pid in ids}


async def platform_mean(as_of: datetime.datetime, settings: ScorecardSettings) -> tuple[float, int]:
    """The mean overall rating of every provider's counted ratings in the window."""
    since = as_of - datetime.timedelta(days=settings.window_days)
    row = await Rating.select(Count(), Sum(Rating.overall)).where(
        (Rating.created_at >= since) & (Rating.created_at < as_of) & _counted_rating(as_of)).first()
    count = row["count"] if row else 0
    return (row["sum"] / count if count else NEUTRAL_MEAN), count


async def _service(ids: list[uuid.UUID], as_of: datetime.datetime, settings: ScorecardSettings,
                   prior: float) -> dict:
    weighted = {pid: [0.0, 0.0, 0] for pid in ids}  # weighted sum, weighted count, ratings
    spans = periods(as_of, settings)
    statement = sql.RATINGS_BY_PERIOD_POSTGRES if is_postgres() else sql.RATINGS_BY_PERIOD_SQLITE
    ordered = sorted(ids, key=str)
    for row in await fetch(statement, dump_json([str(pid) for pid in ordered]),
                           dump_json([[k, json_moment(start), json_moment(end)] for k, (start, end, _) in
                                      enumerate(spans)]), as_of, ordered[0], ordered[-1]):
        provider = row["provider"] if isinstance(row["provider"], uuid.UUID) else uuid.UUID(str(row["provider"]))
        entry, weight = weighted[provider], spans[int(row["k"])][2]
        entry[0] += weight * float(row["total"])
        entry[1] += weight * int(row["n"])
        entry[2] += int(row["n"])
    chats = await buyer_ratings(ids, as_of - datetime.timedelta(days=settings.window_days), as_of)
    found = {}
    for pid in ids:
        total, count, ratings = weighted[pid]
        mean = bayesian_mean(total, count, prior, settings.prior_weight)
        merchant_score = 100 * (mean - 1) / 4
        positive, rated = chats.get(pid, (0, 0))
        lower = wilson_lower_bound(positive, rated)
        score = merchant_score if not rated else (1 - settings.chat_share) * merchant_score \
            + settings.chat_share * 100 * lower
        found[pid] = (_r(score), {"ratings": ratings, "bayesian_mean": _r(mean), "platform_mean": _r(prior),
                                  "prior_weight": settings.prior_weight, "merchant_score": _r(merchant_score),
                                  "chat_positive": positive, "chat_rated": rated, "chat_wilson": _r(100 * lower)})
    return found


async def _growth(ids: list[uuid.UUID], as_of: datetime.datetime, settings: ScorecardSettings) -> dict:
    window = datetime.timedelta(days=settings.window_days)
    counts = {}
    for name, start, end in (("now", as_of - window, as_of), ("before", as_of - 2 * window, as_of - window)):
        for row in await Contract.select(Contract.provider, Count(), Count(distinct=[Contract.merchant],
                                                                           alias="merchants")).where(
                Contract.provider.is_in(ids) & _real_contract() & (Contract.starts_at >= start)
                & (Contract.starts_at < end)).group_by(Contract.provider):
            counts[(row["provider"], name)] = (row["count"], row["merchants"])
    found = {}
    for pid in ids:
        contracts_now, merchants_now = counts.get((pid, "now"), (0, 0))
        contracts_before, merchants_before = counts.get((pid, "before"), (0, 0))
        score = (growth_score(contracts_now, contracts_before) + growth_score(merchants_now, merchants_before)) / 2
        found[pid] = (_r(score), {"contracts": contracts_now, "contracts_before": contracts_before,
                                  "merchants": merchants_now, "merchants_before": merchants_before})
    return found


async def _gates(ids: list[uuid.UUID], as_of: datetime.datetime) -> dict:
    found = {pid: (0, 0) for pid in ids}
    for row in await Contract.select(Contract.provider, Count(), Count(distinct=[Contract.merchant],
                                                                       alias="merchants")).where(
            Contract.provider.is_in(ids) & (Contract.status == sla_states.COMPLETED)
            & (Contract.ends_at <= as_of)).group_by(Contract.provider):
        found[row["provider"]] = (row["count"], row["merchants"])
    return found


@dataclass
class Scorecard:
    provider_id: uuid.UUID
    as_of: datetime.datetime
    scores: dict  # dimension -> 0..100
    composite: float
    completed_contracts: int
    distinct_merchants: int
    explanation: dict

    def gates_met(self, settings: ScorecardSettings) -> dict[int, bool]:
        return {tier: self.completed_contracts >= need[0] and self.distinct_merchants >= need[1]
                for tier, need in settings.gates.items()}


async def compute(provider_ids: list[uuid.UUID], as_of: datetime.datetime,
                  settings: ScorecardSettings | None = None, prior: float | None = None) -> dict[uuid.UUID, Scorecard]:
    """The scorecards of a batch of providers as of a moment, from a few aggregate
    statements whose number grows with neither the batch nor the window's periods.
    `prior`: the platform's mean rating as of the moment, when the caller has it."""
    settings = settings or get_settings()
    ids = list(dict.fromkeys(provider_ids))
    if not ids:
        return {}
    if prior is None:
        prior, _ = await platform_mean(as_of, settings)
    dimensions = {
        states.OPERATING: await _operating(ids, as_of, settings),
        states.BRAND: await _brand(ids, as_of),
        states.SERVICE: await _service(ids, as_of, settings, prior),
        states.GROWTH: await _growth(ids, as_of, settings),
    }
    gates = await _gates(ids, as_of)
    total_weight = sum(settings.weights.values())
    found = {}
    for pid in ids:
        explanation, scores, composite = {}, {}, 0.0
        for dimension in states.DIMENSIONS:
            score, figures = dimensions[dimension][pid]
            weight = settings.weights[dimension]
            contribution = _r(score * weight / total_weight)
            composite += contribution
            scores[dimension] = score
            explanation[dimension] = {"score": score, "weight": weight, "contribution": contribution,
                                      "figures": figures}
        completed, merchants = gates[pid]
        explanation["gates"] = {"completed_contracts": completed, "distinct_merchants": merchants}
        found[pid] = Scorecard(pid, as_of, scores, _r(composite), completed, merchants, explanation)
    return found


# --- tiers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    tier: int
    at_risk: bool
    below_count: int
    pending_tier: int | None  # a 6-star promotion earned, waiting for two admins


def eligible_tier(composite: float, gates_met: dict[int, bool], settings: ScorecardSettings,
                  highest: int = 6) -> int:
    """The highest tier up to `highest` whose band the composite reaches and whose
    gates are met; 0 (unrated) if none."""
    for tier in sorted(states.TIERS, reverse=True):
        if tier <= highest and composite >= settings.band(tier)[0] and gates_met.get(tier, False):
            return tier
    return states.UNRATED


def next_standing(tier: int, below_count: int, composite: float, gates_met: dict[int, bool],
                  settings: ScorecardSettings) -> Move:
    """Where one evaluation leaves a provider holding `tier`: promoted at once when the
    composite clears a higher band (to 6 stars only with two admins: it becomes
    pending); demoted only at the second evaluation in a row below its band's
    minimum less the margin (or short of its gates), at risk in between and while
    it stays under the band within the margin."""
    eligible = eligible_tier(composite, gates_met, settings)
    if eligible > tier:
        if eligible == 6:
            return Move(max(tier, eligible_tier(composite, gates_met, settings, highest=5)), False, 0, 6)
        return Move(eligible, False, 0, None)
    if eligible == tier:
        return Move(tier, False, 0, None)
    floor = settings.band(tier)[0] - settings.margin
    if composite < floor or not gates_met.get(tier, False):
        if below_count + 1 >= 2:
            return Move(eligible, False, 0, None)
        return Move(tier, True, below_count + 1, None)
    return Move(tier, True, 0, None)


async def evaluate_batch(provider_ids: list[uuid.UUID], as_of: datetime.datetime,
                         settings: ScorecardSettings | None = None, prior: float | None = None) -> int:
    """Evaluates a batch of providers as of a moment: computes their scorecards, then
    in one transaction holds the batch's standing rows (made once; locked on
    PostgreSQL, SQLite's write lock otherwise), and for each provider whose standing
    is not yet evaluated at this moment stores its evaluation and moves its standing,
    a few statements for the whole batch. Running it again, or in another process
    at the same time (which waits for the lock, then finds them done), stores and
    changes nothing more. Tier changes are audited and told to the provider."""
    settings = settings or get_settings()
    cards = await compute(provider_ids, as_of, settings, prior=prior)
    if not cards:
        return 0
    moment = now()
    ids = sorted(cards, key=str)  # one order for every process: locks taken alike never deadlock
    async with atomic():
        await executemany(sql.ENSURE_STANDING, [(uuid.uuid4(), pid, moment) for pid in ids])
        query = Standing.select().where(Standing.provider.is_in(ids)).order_by(Standing.provider)
        if is_postgres():
            query = query.lock_rows("UPDATE")
        standings = {row["provider"]: row for row in await query}
        evaluations, moves, changes = [], [], []
        for pid in ids:
            card, standing = cards[pid], standings[pid]
            if standing["evaluated_as_of"] is not None and standing["evaluated_as_of"] >= as_of:
                continue  # evaluated at this moment (or a later one) already
            move = next_standing(standing["tier"], standing["below_count"], card.composite,
                                 card.gates_met(settings), settings)
            evaluations.append((uuid.uuid4(), pid, as_of, f"{pid}:{int(as_of.timestamp() * 1_000_000)}",
                                card.scores[states.OPERATING], card.scores[states.BRAND],
                                card.scores[states.SERVICE], card.scores[states.GROWTH], card.composite,
                                standing["tier"], move.tier, move.at_risk, dump_json(card.explanation), moment))
            pending = move.pending_tier
            moves.append((pid, move.tier, move.at_risk, move.below_count, card.composite, pending,
                          (standing["pending_requested_at"] or moment) if pending else None, as_of, moment))
            if move.tier != standing["tier"] or (pending and not standing["pending_tier"]) \
                    or move.at_risk != standing["at_risk"]:
                changes.append((pid, standing, move, card))
        await executemany(sql.STORE_EVALUATION, evaluations)
        await executemany(sql.MOVE_STANDING, moves)
        await _tiers_changed(changes)
    return len(evaluations)


async def _tiers_changed(changes: list[tuple]) -> None:
    """Audits each change of a batch and tells each provider's owners and managers
    (its new tier, or that it is at risk), and the admins of 6-star promotions that
    wait for them: a few statements for the whole batch."""
    from fuwu.services import audit, notifications
    from fuwu.tables import Membership
    from ratings.services.reviews import admin_user_ids

    if not changes:
        return
    await audit.record_many([dict(
        actor=None, organisation=pid, object_type="provider", object_id=pid, action="tier_changed",
        before={"tier": standing["tier"], "at_risk": standing["at_risk"]},
        after={"tier": move.tier, "at_risk": move.at_risk, "pending_tier": move.pending_tier,
               "composite": card.composite}) for pid, standing, move, card in changes])
    people: dict = {}
    for row in await Membership.select(Membership.organisation, Membership.user).where(
            Membership.organisation.is_in([pid for pid, *_ in changes])
            & Membership.role.is_in([roles.OWNER, roles.MANAGER])):
        people.setdefault(row["organisation"], []).append(row["user"])
    notes = []
    for pid, standing, move, card in changes:
        if move.tier != standing["tier"]:
            notes.append(dict(user_ids=people.get(pid, []), kind="tier_changed", title=N_("Your tier is now {tier}"),
                              params={"tier": states.TIER_LABELS.label(str(move.tier))}, link="/scorecard",
                              organisation=pid))
        elif move.at_risk:
            notes.append(dict(user_ids=people.get(pid, []), kind="tier_at_risk",
                              title=N_("Your tier is at risk: the next evaluation below its band lowers it"),
                              link="/scorecard", organisation=pid))
    if any(move.pending_tier and not standing["pending_tier"] for _, standing, move, _ in changes):
        admins = await admin_user_ids()
        notes.extend(dict(user_ids=admins, kind="tier_promotion_pending",
                          title=N_("A provider earned 6 stars: two admins approve it"), link="/admin/tiers")
                     for _, standing, move, _ in changes if move.pending_tier and not standing["pending_tier"])
    await notifications.notify_many(notes)


async def evaluate_due(as_of: datetime.datetime | None = None, batch: int = BATCH,
                       settings: ScorecardSettings | None = None) -> dict:
    """The job: every provider organisation evaluated as of the current evaluation
    moment, in batches by id. Idempotent: a provider evaluated at this moment is
    skipped, so a second run (or a second process) changes nothing. The platform's
    mean rating (every batch's prior) is computed once a run: it depends only on the
    moment."""
    settings = settings or get_settings()
    as_of = as_of or evaluation_moment(now(), settings)
    last, stored, seen, prior = None, 0, 0, None
    while True:
        query = Organisation.select(Organisation.id).where(Organisation.kind == roles.PROVIDER)
        if last is not None:
            query = query.where(Organisation.id > last)
        ids = [row["id"] for row in await query.order_by(Organisation.id).limit(batch)]
        if not ids:
            break
        pending = {row["provider"] for row in await Standing.select(Standing.provider).where(
            Standing.provider.is_in(ids) & Standing.evaluated_as_of.is_not_null()
            & (Standing.evaluated_as_of >= as_of))}
        todo = [pid for pid in ids if pid not in pending]
        if todo:
            if prior is None:
                prior, _ = await platform_mean(as_of, settings)
            stored += await evaluate_batch(todo, as_of, settings, prior=prior)
        seen += len(ids)
        last = ids[-1]
    return {"as_of": as_of.isoformat(), "providers": seen, "evaluated": stored}


# --- reading ---------------------------------------------------------------------------


async def provider_tiers(provider_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The tier each provider holds now (the tenders domain's recommendations hook):
    an approved, unexpired override, else its evaluated tier; providers missing are
    unrated. Two statements for the whole batch."""
    ids = list(dict.fromkeys(provider_ids))
    if not ids:
        return {}
    tiers = {row["provider"]: row["tier"] for row in await Standing.select(Standing.provider, Standing.tier).where(
        Standing.provider.is_in(ids) & (Standing.tier > 0))}
    moment = now()
    for row in await TierApproval.select(TierApproval.provider, TierApproval.tier).where(
            TierApproval.provider.is_in(ids) & (TierApproval.kind == states.OVERRIDE)
            & (TierApproval.status == states.APPROVED) & (TierApproval.expires_at > moment)).order_by(
            TierApproval.decided_at):
        tiers[row["provider"]] = row["tier"]  # the latest approved override wins
    return {pid: tier for pid, tier in tiers.items() if tier}


async def invitation_standings(provider_ids: list[uuid.UUID]) -> dict:
    """Whether merchants may invite each provider (the tenders domain's hook): the
    lowest standing (unrated) may not; the one above it (3 stars) may, with a warning.
    One entry per provider asked; the same two statements as `provider_tiers`."""
    tiers = await provider_tiers(provider_ids)
    found = {}
    for pid in provider_ids:
        tier = tiers.get(pid, states.UNRATED)
        if tier == states.NOT_INVITABLE:
            found[pid] = InvitationStanding(False, reason=states.NOT_INVITABLE_REASON)
        else:
            found[pid] = InvitationStanding(True, warning=states.WARNING if tier == states.WARNED else None)
    return found


async def scorecard(provider_id: uuid.UUID, history: int = 26) -> dict:
    """A provider's standing, its latest evaluation with the explanation, and the
    history of its composite and tier (newest evaluations, bounded)."""
    standing = await Standing.select().where(Standing.provider == provider_id).first()
    rows = await Evaluation.select(Evaluation.as_of, Evaluation.operating, Evaluation.brand, Evaluation.service,
                                   Evaluation.growth, Evaluation.composite, Evaluation.tier_before,
                                   Evaluation.tier_after, Evaluation.at_risk, Evaluation.explanation).where(
        Evaluation.provider == provider_id).order_by(Evaluation.as_of, ascending=False).limit(history)
    for row in rows:
        row["explanation"] = load_json(row["explanation"])
    tier = (await provider_tiers([provider_id])).get(provider_id, 0)
    return {"provider_id": provider_id, "tier": tier, "standing": standing, "latest": rows[0] if rows else None,
            "history": list(reversed(rows))}
