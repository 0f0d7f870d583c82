"""Evaluation after the deadline: rounds (proposal review, presentation, site
inspection), scores, shortlists, presentation slots, site findings, comparison.

Scoring: price criteria are scored automatically, weight × lowest price / bid price,
the lowest taken among bids of the same pricing model and unit; other criteria are
scored 0–10 by each evaluator, averaged, and give weight × mean / 10. A bid's round
score is the sum (0–100).
"""

from __future__ import annotations

import datetime
import uuid

from fuwu import roles
from fuwu.clock import now
from fuwu.i18n import N_, Moment, Term
from fuwu.db import atomic, fetch
from fuwu.errors import Conflict, Forbidden, InvalidInput, not_found
from fuwu.pagination import Page, paginate
from fuwu.services import audit, notifications
from fuwu.services.accounts import Member, Viewer, member_user_ids
from bids import sql, states
from bids.errors import BidError
from bids.hooks import hooks
from bids.services.submission import BID_COLUMNS
from bids.tables import Bid, EvaluationRound, PresentationSlot, RoundEntry, Score, SiteFinding
from tenders import states as tender_states
from tenders.schemas import criterion_id
from tenders.services import lifecycle

EVALUATORS = (roles.OWNER, roles.OPERATOR, roles.EVALUATOR)
RUNNERS = (roles.OWNER, roles.OPERATOR)


def _require_merchant(member: Member, allowed: tuple[str, ...], what: str) -> None:
    """`what` is a phrase marked with N_ ("score bids"), translated in the refusal."""
    if member.kind != roles.MERCHANT:
        raise not_found("Tender")
    if member.role not in allowed:
        raise Forbidden("role_not_allowed", "Your role ({role}) cannot {what}.",
                        params={"role": Term(member.role), "what": Term(what)})


async def require_unsealed(member: Member, tender_id: uuid.UUID) -> dict:
    """The merchant's tender once its bids are unsealed. Before the deadline the answer
    is the same whatever the bids: sealed until the deadline."""
    _require_merchant(member, EVALUATORS, N_("read bids"))
    row = await lifecycle.get_tender(member, tender_id)
    if row["status"] not in tender_states.UNSEALED:
        if row["bid_deadline"] is None:
            raise Conflict(BidError.SEALED, "Bids are sealed until the bid deadline.")
        if lifecycle.in_grace(row):
            # Past the deadline, bids received before it may still be committing.
            raise Conflict(BidError.SEALED, "Bidding closed at {deadline}; bids received in time are being stored "
                           "and are unsealed at {time}.",
                           params={"deadline": Moment(row["bid_deadline"]), "time": Moment(lifecycle.sealed_until(row))})
        raise Conflict(BidError.SEALED, "Bids are sealed until the bid deadline ({deadline}).",
                       params={"deadline": Moment(row["bid_deadline"])})
    return row


async def list_bids(member: Member, tender_id: uuid.UUID) -> list[dict]:
    """Every bid that was live at the deadline, for the merchant's evaluators."""
    await require_unsealed(member, tender_id)
    return await Bid.select(*BID_COLUMNS).where(
        (Bid.tender == tender_id) & Bid.status.is_in(list(states.LIVE))
    ).order_by(Bid.first_submitted_at).output(load_json=True)


async def bids_page(member: Member, tender_id: uuid.UUID, cursor: str | None, limit: int) -> Page:
    """`list_bids` a page at a time, in the order the bids first came in."""
    await require_unsealed(member, tender_id)
    query = Bid.select(*BID_COLUMNS).where((Bid.tender == tender_id) & Bid.status.is_in(list(states.LIVE))).output(
        load_json=True)
    return await paginate(query, Bid.first_submitted_at, Bid.id, cursor, limit, oldest_first=True)


async def get_bid(member: Member, tender_id: uuid.UUID, bid_id: uuid.UUID) -> dict:
    from bids.services.submission import read_bid

    await require_unsealed(member, tender_id)
    bid = await Bid.select(Bid.id, Bid.status).where((Bid.id == bid_id) & (Bid.tender == tender_id)).first()
    if bid is None or bid["status"] not in states.LIVE:
        raise not_found("Bid")
    return await read_bid(bid_id)


async def rounds(member: Member, tender_id: uuid.UUID) -> list[dict]:
    await require_unsealed(member, tender_id)
    return await _rounds_with_entries(tender_id)


async def rounds_page(member: Member, tender_id: uuid.UUID, cursor: str | None, limit: int) -> Page:
    """The rounds a page at a time, first round first, each with its entries."""
    await require_unsealed(member, tender_id)
    query = EvaluationRound.select(
        EvaluationRound.id, EvaluationRound.number, EvaluationRound.kind, EvaluationRound.criteria,
        EvaluationRound.status, EvaluationRound.opened_at, EvaluationRound.closed_at, EvaluationRound.shortlisted_at,
    ).where(EvaluationRound.tender == tender_id).output(load_json=True)
    page = await paginate(query, EvaluationRound.opened_at, EvaluationRound.id, cursor, limit, oldest_first=True)
    for item in with_criterion_ids(page.items):
        item["entries"] = await _entries(item["id"])
    return page


async def _entries(round_id: uuid.UUID) -> list[dict]:
    return await RoundEntry.select(
        RoundEntry.bid.as_alias("bid_id"), RoundEntry.bid.provider.name.as_alias("provider_name"),
        RoundEntry.score, RoundEntry.rank, RoundEntry.details, RoundEntry.shortlisted,
    ).where(RoundEntry.round == round_id).order_by(RoundEntry.rank).output(load_json=True)


async def _rounds_with_entries(tender_id: uuid.UUID) -> list[dict]:
    result = await EvaluationRound.select(
        EvaluationRound.id, EvaluationRound.number, EvaluationRound.kind, EvaluationRound.criteria,
        EvaluationRound.status, EvaluationRound.opened_at, EvaluationRound.closed_at, EvaluationRound.shortlisted_at,
    ).where(EvaluationRound.tender == tender_id).order_by(EvaluationRound.number).output(load_json=True)
    for item in with_criterion_ids(result):
        item["entries"] = await _entries(item["id"])
    return result


async def _round(tender_id: uuid.UUID, number: int) -> dict:
    row = await EvaluationRound.select().where(
        (EvaluationRound.tender == tender_id) & (EvaluationRound.number == number)).output(load_json=True).first()
    if row is None:
        raise not_found("Round")
    return row


async def _open_round(tender: dict, number: int, bid_ids: list[uuid.UUID]) -> uuid.UUID:
    spec = tender["rounds"][number - 1]
    evaluation_round = EvaluationRound(tender=tender["id"], number=number, kind=spec["kind"],
                                       criteria=spec["criteria"], pair=f"{tender['id']}:{number}")
    await evaluation_round.save()
    if bid_ids:
        await RoundEntry.insert(*[RoundEntry(round=evaluation_round.id, bid=b, pair=f"{evaluation_round.id}:{b}")
                                  for b in bid_ids])
    return evaluation_round.id


async def start_evaluation(viewer: Viewer, member: Member, tender_id: uuid.UUID) -> list[dict]:
    """Opens the first round with every bid that counted at the deadline; bids still
    needing confirmation are set aside. The tender becomes evaluating. Audited."""
    _require_merchant(member, RUNNERS, N_("run the evaluation"))
    async with atomic():
        tender = await require_unsealed(member, tender_id)
        if tender["status"] != tender_states.BIDDING_CLOSED:
            raise Conflict(BidError.NOT_EVALUATING, "Evaluation starts once, after bidding closes.")
        await lifecycle.transition(tender_id, tender_states.EVALUATING, viewer.user_id)
        valid = [r["id"] for r in await Bid.select(Bid.id).where(
            (Bid.tender == tender_id) & (Bid.status == states.SUBMITTED)).order_by(Bid.first_submitted_at)]
        await Bid.update({Bid.result: states.NOT_CONFIRMED}).where(
            (Bid.tender == tender_id) & (Bid.status == states.NEEDS_CONFIRMATION))
        await _open_round(tender, 1, valid)
    return await _rounds_with_entries(tender_id)


async def _evaluating(member: Member, tender_id: uuid.UUID) -> dict:
    tender = await require_unsealed(member, tender_id)
    if tender["status"] != tender_states.EVALUATING:
        raise Conflict(BidError.NOT_EVALUATING, "The tender is {status}, not being evaluated.",
                       params={"status": Term(tender["status"])})
    return tender


async def submit_scores(viewer: Viewer, member: Member, tender_id: uuid.UUID, number: int, bid_id: uuid.UUID,
                        scores: list) -> dict:
    """An evaluator scores one bid on the round's non-price criteria (0–10), while the
    round is open; scoring again replaces their earlier score."""
    _require_merchant(member, EVALUATORS, N_("score bids"))
    async with atomic():
        evaluation_round = await _round_to_score(member, tender_id, number)
        ids = await _record_scores(viewer, member, tender_id, evaluation_round, bid_id, scores)
    return {"round": number, "bid_id": bid_id, "scored": len(scores), "criterion_ids": ids}


async def submit_round_scores(viewer: Viewer, member: Member, tender_id: uuid.UUID, number: int,
                              sheets: list) -> dict:
    """An evaluator scores many bids of an open round at once (`sheets`: each a bid_id
    with its scores, as `submit_scores` takes them), in one transaction: every score is
    checked as `submit_scores` checks it, and one refusal stores none. Each bid's
    scores are audited as when scored alone."""
    _require_merchant(member, EVALUATORS, N_("score bids"))
    async with atomic():
        evaluation_round = await _round_to_score(member, tender_id, number)
        for sheet in sheets:
            await _record_scores(viewer, member, tender_id, evaluation_round, sheet.bid_id, sheet.scores)
    return {"round": number, "bids": len(sheets), "scored": sum(len(sheet.scores) for sheet in sheets)}


async def _round_to_score(member: Member, tender_id: uuid.UUID, number: int) -> dict:
    await _evaluating(member, tender_id)
    evaluation_round = await _round(tender_id, number)
    if evaluation_round["status"] != states.ROUND_OPEN:
        raise Conflict(BidError.ROUND, "This round is closed; its scores are final.")
    return evaluation_round


async def _record_scores(viewer: Viewer, member: Member, tender_id: uuid.UUID, evaluation_round: dict,
                         bid_id: uuid.UUID, scores: list) -> list[str]:
    """In the caller's transaction: checks and stores one evaluator's scores of one bid
    of an open round, replacing their earlier ones; audited. Returns the ids of the
    criteria scored."""
    number = evaluation_round["number"]
    if not await RoundEntry.exists().where((RoundEntry.round == evaluation_round["id"]) & (RoundEntry.bid == bid_id)):
        raise not_found("Bid")
    criteria = evaluation_round["criteria"]
    positions = [_criterion_position(criteria, number, item) for item in scores]
    for position in positions:
        if criteria[position].get("price"):
            raise InvalidInput(BidError.ROUND, "The price criterion is scored automatically.")
    for item, position in zip(scores, positions):
        key = f"{evaluation_round['id']}:{bid_id}:{position}:{viewer.user_id}"
        await Score.delete().where(Score.key == key)
        await Score.insert(Score(round=evaluation_round["id"], bid=bid_id, criterion=position,
                                 evaluator=viewer.user_id, value=float(item.value), comment=item.comment, key=key))
    await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="tender",
                       object_id=tender_id, action="bid_scored",
                       after={"round": number, "bid": str(bid_id),
                              "scores": {str(p): s.value for s, p in zip(scores, positions)}})
    return [criterion_id(criteria[p], p) for p in positions]


def _criterion_position(criteria: list[dict], number: int, item) -> int:
    """Where in the round the scored criterion is: named by its id (or, as before ids,
    by its position). Scores are stored by position; the round's criteria never change."""
    ids = [criterion_id(c, i) for i, c in enumerate(criteria)]
    wanted = getattr(item, "criterion_id", None)
    if wanted is not None:
        if wanted not in ids:
            raise InvalidInput(BidError.ROUND, "Round {number} has no criterion {criterion}. Its criteria: {ids}.",
                               params={"number": number, "criterion": wanted, "ids": ", ".join(ids)})
        return ids.index(wanted)
    if item.criterion is None:
        raise InvalidInput(BidError.ROUND, "Name each scored criterion by its criterion_id.")
    if item.criterion >= len(criteria):
        raise InvalidInput(BidError.ROUND, "Round {number} has {count} criteria (0 to {last}).",
                           params={"number": number, "count": len(criteria), "last": len(criteria) - 1})
    return item.criterion


def with_criterion_ids(rounds: list[dict]) -> list[dict]:
    """Each round's criteria with their ids (filled in by position for rounds opened
    before criteria had ids)."""
    for item in rounds:
        item["criteria"] = [{**c, "id": criterion_id(c, i)} for i, c in enumerate(item["criteria"])]
    return rounds


def compute_round_scores(criteria: list[dict], bids: list[dict], means: dict) -> dict:
    """Pure scoring: {bid_id: (total, details)}. `means` maps (bid_id, criterion) to the
    evaluators' mean 0–10."""
    lowest: dict[tuple[str, str], int] = {}
    for bid in bids:
        group = (bid["pricing_model"], bid["price_unit"])
        lowest[group] = min(lowest.get(group, bid["price_amount"]), bid["price_amount"])
    result = {}
    for bid in bids:
        details, total = {}, 0.0
        for index, criterion in enumerate(criteria):
            if criterion.get("price"):
                floor = lowest[(bid["pricing_model"], bid["price_unit"])]
                points = criterion["weight"] * floor / bid["price_amount"]
                details[str(index)] = {"points": round(points, 4), "price": True}
            else:
                mean = means.get((bid["id"], index))
                points = criterion["weight"] * (mean or 0) / 10
                details[str(index)] = {"points": round(points, 4), "mean": None if mean is None else round(mean, 4)}
            total += points
        result[bid["id"]] = (round(total, 4), details)
    return result


async def close_round(viewer: Viewer, member: Member, tender_id: uuid.UUID, number: int) -> dict:
    """Closes a round: every bid must have a score on every non-price criterion.
    Computes and stores scores and ranks (ties share the better rank order by
    earlier submission). Audited."""
    _require_merchant(member, RUNNERS, N_("close rounds"))
    async with atomic():
        await _evaluating(member, tender_id)
        evaluation_round = await _round(tender_id, number)
        if evaluation_round["status"] != states.ROUND_OPEN:
            raise Conflict(BidError.ROUND, "This round is already closed.")
        entries = await RoundEntry.select(RoundEntry.id, RoundEntry.bid).where(RoundEntry.round == evaluation_round["id"])
        bid_ids = [e["bid"] for e in entries]
        bids = await Bid.select(Bid.id, Bid.price_amount, Bid.pricing_model, Bid.price_unit,
                                Bid.first_submitted_at).where(Bid.id.is_in(bid_ids)) if bid_ids else []
        # Means per bid and criterion, computed by the database.
        rows = await fetch(sql.MEAN_SCORES, evaluation_round["id"])
        means = {(_uuid(r["bid"]), r["criterion"]): float(r["mean"]) for r in rows}
        criteria = evaluation_round["criteria"]
        missing = [str(b["id"]) for b in bids for i, c in enumerate(criteria)
                   if not c.get("price") and (b["id"], i) not in means]
        if missing:
            raise Conflict(BidError.UNSCORED, "Score every bid on every criterion before closing the round.",
                           bids=sorted(set(missing)))
        scored = compute_round_scores(criteria, bids, means)
        order = sorted(bids, key=lambda b: (-scored[b["id"]][0], b["first_submitted_at"]))
        for rank, bid in enumerate(order, start=1):
            total, details = scored[bid["id"]]
            await RoundEntry.update({RoundEntry.score: total, RoundEntry.rank: rank, RoundEntry.details: details}).where(
                (RoundEntry.round == evaluation_round["id"]) & (RoundEntry.bid == bid["id"]))
            await Bid.update({Bid.rank: rank}).where(Bid.id == bid["id"])
        await EvaluationRound.update({EvaluationRound.status: states.ROUND_CLOSED, EvaluationRound.closed_at: now()}).where(
            EvaluationRound.id == evaluation_round["id"])
        await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="tender",
                           object_id=tender_id, action="round_closed",
                           after={"round": number, "ranking": [str(b["id"]) for b in order]})
    return (await _rounds_with_entries(tender_id))[number - 1]


def _uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


async def shortlist(viewer: Viewer, member: Member, tender_id: uuid.UUID, number: int, top: int | None,
                    bid_ids: list[uuid.UUID] | None) -> list[dict]:
    """After a closed round, keeps the top K (or the bids chosen by hand) for the next
    round, which opens with them. The others are told their rank and scores. Audited."""
    _require_merchant(member, RUNNERS, N_("shortlist"))
    if (top is None) == (bid_ids is None):
        raise InvalidInput(BidError.SHORTLIST, "Send either top (a number) or bid_ids (a list), not both.")
    async with atomic():
        tender = await _evaluating(member, tender_id)
        evaluation_round = await _round(tender_id, number)
        if evaluation_round["status"] != states.ROUND_CLOSED or evaluation_round["shortlisted_at"] is not None:
            raise Conflict(BidError.SHORTLIST, "Shortlist once, after the round is closed.")
        if number >= len(tender["rounds"]):
            raise Conflict(BidError.SHORTLIST, "This is the last round: award a bid instead.")
        entries = await RoundEntry.select(RoundEntry.bid, RoundEntry.rank, RoundEntry.score, RoundEntry.details).where(
            RoundEntry.round == evaluation_round["id"]).order_by(RoundEntry.rank).output(load_json=True)
        if top is not None:
            kept = [e["bid"] for e in entries[:top]]
        else:
            known = {e["bid"] for e in entries}
            if not set(bid_ids) <= known:
                raise InvalidInput(BidError.SHORTLIST, "Shortlist only bids of this round.")
            kept = [e["bid"] for e in entries if e["bid"] in set(bid_ids)]
        if not kept:
            raise InvalidInput(BidError.SHORTLIST, "Shortlist at least one bid.")
        for entry in entries:
            chosen = entry["bid"] in kept
            await RoundEntry.update({RoundEntry.shortlisted: chosen}).where(
                (RoundEntry.round == evaluation_round["id"]) & (RoundEntry.bid == entry["bid"]))
            if not chosen:
                await Bid.update({Bid.result: states.ELIMINATED}).where(Bid.id == entry["bid"])
                await _tell_provider(entry["bid"], tender, kind="bid_not_shortlisted",
                                     title=N_("Not shortlisted: {title}"),
                                     body=N_("Round {round}: rank {rank} of {of}, score {score} of 100."),
                                     params={"round": number, "rank": entry["rank"], "of": len(entries),
                                             "score": f"{entry['score']:.2f}"})
            else:
                await _tell_provider(entry["bid"], tender, kind="bid_shortlisted", title=N_("Shortlisted: {title}"),
                                     body=N_("Round {round}: rank {rank} of {of}. You go on to the next round."),
                                     params={"round": number, "rank": entry["rank"], "of": len(entries)})
        await EvaluationRound.update({EvaluationRound.shortlisted_at: now()}).where(
            EvaluationRound.id == evaluation_round["id"])
        await _open_round(tender, number + 1, kept)
        await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="tender",
                           object_id=tender_id, action="shortlisted",
                           after={"round": number, "shortlist": [str(b) for b in kept]})
    return await _rounds_with_entries(tender_id)


async def _tell_provider(bid_id: uuid.UUID, tender: dict, *, kind: str, title: str, body: str, params: dict) -> None:
    bid = await Bid.select(Bid.provider).where(Bid.id == bid_id).first()
    people = await member_user_ids(bid["provider"], roles.OWNER, roles.MANAGER)
    await notifications.notify(people, kind=kind, title=title, body=body, params={"title": tender["title"], **params},
                               link=f"/tenders/{tender['id']}", organisation=bid["provider"])


async def _round_of_kind(member: Member, tender_id: uuid.UUID, number: int, kind: str) -> dict:
    await _evaluating(member, tender_id)
    evaluation_round = await _round(tender_id, number)
    if evaluation_round["kind"] != kind:
        raise Conflict(BidError.ROUND, "Round {number} is a {kind} round.",
                       params={"number": number, "kind": Term(evaluation_round["kind"])})
    if evaluation_round["status"] != states.ROUND_OPEN:
        raise Conflict(BidError.ROUND, "This round is closed.")
    return evaluation_round


async def schedule_slot(viewer: Viewer, member: Member, tender_id: uuid.UUID, number: int, bid_id: uuid.UUID,
                        starts_at: datetime.datetime, ends_at: datetime.datetime, place: str) -> dict:
    """Schedules (or moves) a shortlisted provider's pitch slot in a presentation
    round; the provider is notified and confirms it."""
    _require_merchant(member, RUNNERS, N_("schedule presentations"))
    if starts_at.tzinfo is None or ends_at.tzinfo is None or not starts_at < ends_at:
        raise InvalidInput(BidError.SLOT, "A slot needs a start before its end, both with a time zone.")
    async with atomic():
        tender = await require_unsealed(member, tender_id)
        evaluation_round = await _round_of_kind(member, tender_id, number, "presentation")
        if not await RoundEntry.exists().where((RoundEntry.round == evaluation_round["id"]) & (RoundEntry.bid == bid_id)):
            raise not_found("Bid")
        clash = await PresentationSlot.exists().where(
            (PresentationSlot.round == evaluation_round["id"]) & (PresentationSlot.bid != bid_id)
            & (PresentationSlot.starts_at < ends_at) & (PresentationSlot.ends_at > starts_at))
        if clash:
            raise Conflict(BidError.SLOT, "This slot overlaps another provider's slot; choose another time.")
        pair = f"{evaluation_round['id']}:{bid_id}"
        await PresentationSlot.delete().where(PresentationSlot.pair == pair)
        slot = PresentationSlot(round=evaluation_round["id"], bid=bid_id, pair=pair, starts_at=starts_at,
                                ends_at=ends_at, place=place.strip())
        await slot.save()
        await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="tender",
                           object_id=tender_id, action="presentation_scheduled",
                           after={"bid": str(bid_id), "starts_at": starts_at.isoformat(), "place": place})
        await _tell_provider(bid_id, tender, kind="presentation_scheduled", title=N_("Presentation scheduled: {title}"),
                             body=N_("{starts_at} at {place}. Confirm the slot on the tender page."),
                             params={"starts_at": starts_at.isoformat(timespec="minutes"), "place": place})
    return await _slot(slot.id)


async def _slot(slot_id: uuid.UUID) -> dict:
    return await PresentationSlot.select(PresentationSlot.id, PresentationSlot.bid.as_alias("bid_id"),
                                         PresentationSlot.starts_at, PresentationSlot.ends_at, PresentationSlot.place,
                                         PresentationSlot.confirmed_at).where(PresentationSlot.id == slot_id).first()


async def my_slots(member: Member, tender_id: uuid.UUID) -> list[dict]:
    """The provider's own presentation slots on a tender."""
    if member.kind != roles.PROVIDER:
        raise not_found("Tender")
    await lifecycle.get_tender(member, tender_id)
    return await PresentationSlot.select(
        PresentationSlot.id, PresentationSlot.bid.as_alias("bid_id"), PresentationSlot.starts_at,
        PresentationSlot.ends_at, PresentationSlot.place, PresentationSlot.confirmed_at,
    ).where((PresentationSlot.bid.tender == tender_id) & (PresentationSlot.bid.provider == member.organisation_id))


async def confirm_slot(viewer: Viewer, member: Member, tender_id: uuid.UUID, slot_id: uuid.UUID) -> dict:
    """The provider confirms its presentation slot; the merchant's team is notified."""
    if member.kind != roles.PROVIDER:
        raise not_found("Tender")
    if member.role not in (roles.OWNER, roles.MANAGER):
        raise Forbidden("role_not_allowed", "Only the provider's owner or a manager can confirm presentations.")
    async with atomic():
        tender = await lifecycle.get_tender(member, tender_id)
        slot = await PresentationSlot.select(PresentationSlot.id, PresentationSlot.bid.provider.as_alias("provider"),
                                             PresentationSlot.bid.tender.as_alias("tender"),
                                             PresentationSlot.round.status.as_alias("round_status")).where(
            PresentationSlot.id == slot_id).first()
        if slot is None or slot["provider"] != member.organisation_id or slot["tender"] != tender_id:
            raise not_found("Slot")
        if tender["status"] != tender_states.EVALUATING or slot["round_status"] != states.ROUND_OPEN:
            raise Conflict(BidError.SLOT, "This presentation round is over; the slot can no longer be confirmed.")
        await PresentationSlot.update({PresentationSlot.confirmed_at: now()}).where(PresentationSlot.id == slot_id)
        await audit.record(actor=viewer.user_id, organisation=tender["merchant_id"], object_type="tender",
                           object_id=tender_id, action="presentation_confirmed", after={"slot": str(slot_id)})
        people = await member_user_ids(tender["merchant_id"], *RUNNERS)
        await notifications.notify(people, kind="presentation_confirmed", title=N_("A presentation slot was confirmed: {title}"),
                                   params={"title": tender["title"]}, link=f"/tenders/{tender_id}/evaluation",
                                   organisation=tender["merchant_id"])
    return await _slot(slot_id)


async def record_finding(viewer: Viewer, member: Member, tender_id: uuid.UUID, number: int, bid_id: uuid.UUID,
                         visited_at: datetime.datetime, finding: str) -> dict:
    """Records the written finding of a site inspection of a shortlisted provider."""
    _require_merchant(member, EVALUATORS, N_("record site findings"))
    if visited_at.tzinfo is None:
        raise InvalidInput(BidError.SLOT, "visited_at needs a time zone.")
    async with atomic():
        evaluation_round = await _round_of_kind(member, tender_id, number, "site_inspection")
        if not await RoundEntry.exists().where((RoundEntry.round == evaluation_round["id"]) & (RoundEntry.bid == bid_id)):
            raise not_found("Bid")
        pair = f"{evaluation_round['id']}:{bid_id}"
        await SiteFinding.delete().where(SiteFinding.pair == pair)
        row = SiteFinding(round=evaluation_round["id"], bid=bid_id, pair=pair, visited_at=visited_at,
                          finding=finding.strip(), recorded_by=viewer.user_id)
        await row.save()
        await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="tender",
                           object_id=tender_id, action="site_finding_recorded", after={"bid": str(bid_id)})
    return {"id": row.id, "bid_id": bid_id, "visited_at": visited_at, "finding": row.finding}


async def comparison(member: Member, tender_id: uuid.UUID) -> dict:
    """Every evaluated bid side by side: terms, per-round scores, slots and findings."""
    tender = await require_unsealed(member, tender_id)
    bids = await list_bids(member, tender_id)
    all_rounds = await _rounds_with_entries(tender_id)
    by_bid: dict = {b["id"]: {"bid": b, "rounds": {}, "slots": [], "findings": []} for b in bids}
    for evaluation_round in all_rounds:
        for entry in evaluation_round["entries"]:
            if entry["bid_id"] in by_bid:
                by_bid[entry["bid_id"]]["rounds"][evaluation_round["number"]] = entry
    round_ids = [r["id"] for r in all_rounds]
    if round_ids:
        for slot in await PresentationSlot.select(PresentationSlot.id, PresentationSlot.bid,
                                                  PresentationSlot.round.number.as_alias("round"),
                                                  PresentationSlot.starts_at, PresentationSlot.ends_at,
                                                  PresentationSlot.place, PresentationSlot.confirmed_at).where(
                PresentationSlot.round.is_in(round_ids)):
            if slot["bid"] in by_bid:
                by_bid[slot["bid"]]["slots"].append(slot)
        for finding in await SiteFinding.select(SiteFinding.bid, SiteFinding.visited_at, SiteFinding.finding).where(
                SiteFinding.round.is_in(round_ids)):
            if finding["bid"] in by_bid:
                by_bid[finding["bid"]]["findings"].append(finding)
    await _with_track_records(list(by_bid.values()))
    return {"tender": tender, "rounds": all_rounds, "bids": list(by_bid.values())}


async def _with_track_records(items: list[dict]) -> None:
    """Promise against delivery: beside each SLA commitment of each bid, what its
    provider measurably delivered for the same metric and statistic on its contracts
    (None: no measured history), looked up for every bid at once."""
    track_records = hooks().track_records
    metrics = sorted({s.get("metric") for item in items for s in item["bid"].get("sla_commitment") or []} - {None})
    providers = [item["bid"]["provider_id"] for item in items]
    records = await track_records(providers, metrics) if track_records is not None and metrics else {}
    for item in items:
        bid = item["bid"]
        item["promises"] = [
            {**s, "delivered": records.get((bid["provider_id"], s.get("metric"), s.get("statistic")))}
            for s in bid.get("sla_commitment") or []]


async def my_round_scores(viewer: Viewer, round_id: uuid.UUID) -> dict:
    """The evaluator's own scores and comments in one round, by (bid id, criterion)."""
    rows = await Score.select(Score.bid, Score.criterion, Score.value, Score.comment).where(
        (Score.round == round_id) & (Score.evaluator == viewer.user_id))
    return {(r["bid"], r["criterion"]): {"value": r["value"], "comment": r["comment"]} for r in rows}


async def my_scores(viewer: Viewer, tender_id: uuid.UUID) -> dict:
    rows = await Score.select(Score.round.number.as_alias("round"), Score.bid, Score.criterion, Score.value).where(
        (Score.round.tender == tender_id) & (Score.evaluator == viewer.user_id))
    return {(r["round"], r["bid"], r["criterion"]): r["value"] for r in rows}


# --- who is in a tender's evaluation (the chat's merchant-provider conversations) ---------

STILL_IN = ("", states.AWARDED)  # a bid's result while it is in the running (or once it won)


async def providers_in_evaluation(tender_id: uuid.UUID) -> list[dict]:
    """The providers whose bid is in an evaluation round of the tender and was not
    dropped: every bid of the first round until a shortlist, then the shortlisted ones
    (and the awarded bid). Empty before evaluation starts, so nothing about sealed bids
    shows. `[{provider_id, provider_name}]` by name."""
    rows = await RoundEntry.select(
        RoundEntry.bid.provider.as_alias("provider_id"), RoundEntry.bid.provider.name.as_alias("provider_name"),
        RoundEntry.bid.result.as_alias("result"),
    ).where((RoundEntry.bid.tender == tender_id) & RoundEntry.bid.status.is_in(list(states.LIVE)))
    found = {row["provider_id"]: row["provider_name"] for row in rows if row["result"] in STILL_IN}
    return [{"provider_id": key, "provider_name": name} for key, name in sorted(found.items(), key=lambda i: i[1])]


async def in_evaluation(tender_id: uuid.UUID, provider_id: uuid.UUID) -> bool:
    """Whether the provider is among `providers_in_evaluation` of the tender."""
    rows = await RoundEntry.select(RoundEntry.bid.result.as_alias("result")).where(
        (RoundEntry.bid.tender == tender_id) & (RoundEntry.bid.provider == provider_id)
        & RoundEntry.bid.status.is_in(list(states.LIVE)))
    return any(row["result"] in STILL_IN for row in rows)
