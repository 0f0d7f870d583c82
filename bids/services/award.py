"""The award: the merchant picks one bid; the contract hook runs in the same
transaction."""

from __future__ import annotations

import uuid

from fuwu import roles
from fuwu.i18n import N_
from fuwu.db import atomic, is_unique_violation
from fuwu.errors import Conflict, InvalidInput, not_found
from fuwu.services import audit, notifications
from fuwu.services.accounts import Member, Viewer, member_user_ids
from bids import states
from bids.hooks import hooks
from bids.services import tender_hooks
from bids.errors import BidError
from bids.services.evaluation import RUNNERS, _evaluating, _require_merchant, _tell_provider
from bids.tables import Award, Bid, EvaluationRound, RoundEntry
from tenders import states as tender_states
from tenders.services import lifecycle


async def award_bid(viewer: Viewer, member: Member, tender_id: uuid.UUID, bid_id: uuid.UUID, reason: str) -> dict:
    """Awards one bid of the final closed round (or of the latest closed round).

    Checks: the tender is being evaluated and its latest round is closed; the bid took
    part in it; choosing other than the top score needs a written reason (kept in the
    audit log). Two award requests at once cannot both win: the award row is unique
    per tender and the tender's status changes conditionally. Every other bidder is
    told the result with their final standing, including those dropped at a shortlist
    and those set aside unconfirmed; the award hooks (contract) run in this transaction.
    """
    _require_merchant(member, RUNNERS, N_("award"))
    reason = reason.strip()
    try:
        async with atomic():
            tender = await _evaluating(member, tender_id)
            latest = await EvaluationRound.select(EvaluationRound.id, EvaluationRound.number, EvaluationRound.status).where(
                EvaluationRound.tender == tender_id).order_by(EvaluationRound.number, ascending=False).first()
            if latest is None or latest["status"] != states.ROUND_CLOSED:
                raise Conflict(BidError.ROUND, "Close the current evaluation round before awarding.")
            entries = await RoundEntry.select(RoundEntry.bid, RoundEntry.rank, RoundEntry.score).where(
                RoundEntry.round == latest["id"]).order_by(RoundEntry.rank)
            chosen = next((e for e in entries if e["bid"] == bid_id), None)
            if chosen is None:
                raise not_found("Bid")
            # Ties are ranked by submission time, but a bid tied for the top score is
            # not "other than the highest".
            if (chosen["score"] or 0) < (entries[0]["score"] or 0) - 1e-9 and len(reason) < 10:
                raise InvalidInput(BidError.AWARD_REASON,
                                   "This bid is not the top score: write the reason for choosing it (at least 10 characters).")
            award = Award(tender=tender_id, bid=bid_id, reason=reason, awarded_by=viewer.user_id)
            await award.save()
            await lifecycle.transition(tender_id, tender_states.AWARDED, viewer.user_id, reason=reason)
            await Bid.update({Bid.result: states.AWARDED}).where(Bid.id == bid_id)
            await Bid.update({Bid.result: states.NOT_AWARDED}).where(
                (Bid.tender == tender_id) & (Bid.id != bid_id) & (Bid.result == "") & Bid.status.is_in(list(states.LIVE)))
            await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="tender",
                               object_id=tender_id, action="awarded",
                               after={"bid": str(bid_id), "rank": chosen["rank"], "score": chosen["score"],
                                      "top_score": entries[0]["score"], "reason": reason})
            await _tell_provider(bid_id, tender, kind="bid_awarded", title=N_("You won: {title}"),
                                 body=N_("Your bid was awarded. The contract follows."), params={})
            await _tell_the_others(tender, bid_id)
            people = await member_user_ids(member.organisation_id, roles.OWNER, roles.OPERATOR, roles.EVALUATOR)
            await notifications.notify(people, kind="tender_awarded", title=N_("Awarded: {title}"),
                                       params={"title": tender["title"]}, link=f"/tenders/{tender_id}",
                                       organisation=member.organisation_id)
            for hook in hooks().on_award:
                await hook(tender_id, bid_id, viewer.user_id)
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict(BidError.ALREADY_AWARDED, "This tender was already awarded.") from None
        raise
    return await read_award(tender_id)


async def awarded_terms(bid_id: uuid.UUID) -> dict:
    """The terms of a bid for the contract its award opens: provider, price, pricing
    model and unit, currency, SLA commitment, team and validity."""
    row = await Bid.select(Bid.id, Bid.provider.as_alias("provider_id"), Bid.price_amount, Bid.pricing_model,
                           Bid.price_unit, Bid.currency, Bid.sla_commitment, Bid.team, Bid.valid_until).where(
        Bid.id == bid_id).output(load_json=True).first()
    if row is None:
        raise not_found("Bid")
    return row


async def _tell_the_others(tender: dict, winner: uuid.UUID) -> None:
    """Every other bid that counted at the deadline hears of the award with its final
    standing: its rank in the last round it took part in, the round it was dropped
    after, or that it was not evaluated (still unconfirmed at the deadline)."""
    tender_id = tender["id"]
    standing: dict[uuid.UUID, dict] = {}
    sizes: dict[int, int] = {}
    for entry in await RoundEntry.select(RoundEntry.bid, RoundEntry.rank, RoundEntry.score,
                                         RoundEntry.round.number.as_alias("number")).where(
            RoundEntry.round.tender == tender_id).order_by(RoundEntry.round.number):
        sizes[entry["number"]] = sizes.get(entry["number"], 0) + 1
        standing[entry["bid"]] = entry  # the later round wins
    final = max(sizes, default=0)
    others = await Bid.select(Bid.id, Bid.result).where(
        (Bid.tender == tender_id) & (Bid.id != winner) & Bid.status.is_in(list(states.LIVE))).order_by(
        Bid.first_submitted_at)
    for bid in others:
        entry = standing.get(bid["id"])
        if entry is None:
            body, params = N_("The tender was awarded to another provider. Your bid was not evaluated: it still "
                              "needed confirmation at the bid deadline."), {}
        elif entry["number"] == final:
            body = N_("Final rank {rank} of {of}, score {score} of 100.")
            params = {"rank": entry["rank"], "of": sizes[final], "score": f"{entry['score'] or 0:.2f}"}
        else:
            body = N_("The tender was awarded to another provider. Your bid left after round {round}: "
                      "rank {rank} of {of}, score {score} of 100.")
            params = {"round": entry["number"], "rank": entry["rank"], "of": sizes[entry["number"]],
                      "score": f"{entry['score'] or 0:.2f}"}
        await _tell_provider(bid["id"], tender, kind="bid_not_awarded", title=N_("Not awarded: {title}"), body=body,
                             params=params)


async def read_award(tender_id: uuid.UUID) -> dict:
    row = await Award.select(Award.tender.as_alias("tender_id"), Award.bid.as_alias("bid_id"),
                             Award.bid.provider.as_alias("provider_id"),
                             Award.bid.provider.name.as_alias("provider_name"), Award.reason, Award.at).where(
        Award.tender == tender_id).first()
    if row is None:
        raise not_found("Award")
    return row


async def declare_unsuccessful(viewer: Viewer, member: Member, tender_id: uuid.UUID, reason: str) -> dict:
    """No bid qualified: the evaluation ends without award. Bidders are told. Audited."""
    _require_merchant(member, RUNNERS, N_("end the evaluation"))
    async with atomic():
        tender = await lifecycle.get_own_tender(member, tender_id, what=N_("end the evaluation"))
        if tender["status"] not in (tender_states.BIDDING_CLOSED, tender_states.EVALUATING):
            raise Conflict(BidError.NOT_EVALUATING, "Only a tender in evaluation can end without award.")
        await lifecycle.transition(tender_id, tender_states.UNSUCCESSFUL, viewer.user_id, reason=reason.strip())
        for org_id in await tender_hooks.bidder_org_ids(tender_id):
            people = await member_user_ids(org_id, roles.OWNER, roles.MANAGER)
            await notifications.notify(people, kind="tender_unsuccessful", title=N_("Tender ended without award: {title}"),
                                       body=N_("Reason: {reason}"), params={"title": tender["title"], "reason": reason},
                                       link=f"/tenders/{tender_id}", organisation=org_id)
    return await lifecycle.get_own_tender(member, tender_id, allowed_roles=lifecycle.MERCHANT_READERS)
