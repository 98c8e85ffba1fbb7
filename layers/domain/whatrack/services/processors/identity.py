"""§8.10 one person, one lead: resolve a counterpart, and merge two leads a message shows to be one.

The survivor is the older lead (:func:`whatrack.domain.inbox.merge_order`). The merge runs in an order
that makes every step safe to repeat and every interruption found again:

1. one transaction retires the newer lead (``merged_into``) and marks the survivor ``absorbing`` it:
   from now on an update of the retired lead also reaches the survivor, no ticket can be opened on it,
   and a resolve reaching either lead sees the merge in the lead item it reads anyway;
2. on each connection, its conversation is retired (no message can be counted into it any more), the
   survivor's is ensured, the messages move with their counts, and its tickets follow;
3. the survivor absorbs what the retired lead knew (ids, history flag, tickets, contact state);
4. the identity guards point at the survivor;
5. last, the survivor's ``absorbing`` mark is removed (only if it is still this merge's).

A merge cut short is finished by the next resolve of either id (a failure anywhere is also retried with
the change that caused it): an id whose guard still points at the retired lead reaches both leads, and
an id of the survivor reaches a survivor still ``absorbing``; both run the steps again from step 1. A
lead is never retired while absorbing, nor marked while retired, so a lead with an unfinished merge of
its own has that merge finished before it takes part in another.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.errors import TransientError
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.inbox import conversation_id_for, merge_order

if TYPE_CHECKING:
    from whatrack.domain.inbox import LeadSource, ResolvedLead
    from whatrack.services.processors.base import InboxPorts

logger = Logger(child=True)


def resolve_lead(
    ports: InboxPorts,
    organization_id: str,
    identity: ContactIdentity,
    source: LeadSource,
    now: datetime,
    *,
    correlation_id: str | None = None,
) -> ResolvedLead:
    """The one lead of this person, after merging the two leads its ids reached, if they did, and
    after finishing any merge into them that was cut short."""
    resolved = ports.leads.resolve(organization_id, identity, source, now, correlation_id=correlation_id)
    lead, other = resolved.lead, resolved.other
    if other is None:
        if lead.absorbing is None:
            return resolved  # the common path: nothing to merge, nothing left to finish
        return merge_leads(ports, organization_id, identity, lead.id, lead.absorbing)
    survivor, merged = merge_order(lead, other)
    for found in (survivor, merged):
        if found.absorbing is not None and found.absorbing != merged.id:
            # an earlier merge into one of them was cut short: it is finished first
            merge_leads(ports, organization_id, identity, found.id, found.absorbing)
    return merge_leads(ports, organization_id, identity, survivor.id, merged.id)


def merge_leads(
    ports: InboxPorts, organization_id: str, identity: ContactIdentity, survivor_id: str, merged_id: str
) -> ResolvedLead:
    """Merge ``merged_id`` into ``survivor_id``, or finish that merge: every step is safe to repeat, and
    to run twice at once."""
    retired = ports.leads.retire(merged_id, survivor_id)
    if retired is None:
        raise TransientError(f"lead {merged_id} or {survivor_id} is in another merge meanwhile")
    for connection in ports.connections.list_for_organization(organization_id):
        from_id = conversation_id_for(merged_id, connection.id)
        to_id = conversation_id_for(survivor_id, connection.id)
        conversation = ports.conversations.retire(from_id, to_id)
        if conversation is None:
            continue
        ports.conversations.ensure(
            organization_id, survivor_id, connection.id, conversation.created_at, conversation.last_message_at
        )
        moved = ports.messages.move(connection.id, from_id, to_id)
        ports.tickets.reassign(connection.id, from_id, to_id, merged_id, survivor_id)
        logger.info("conversation merged", extra={"from": from_id, "to": to_id, "moved": moved})
    result = ports.leads.absorb(survivor_id, retired)
    old = retired.lead
    known = ContactIdentity(phone=old.phone_number, wa_id=old.wa_id, user_id=old.user_id)
    ports.leads.repoint(organization_id, [identity, known], merged_id, survivor_id)
    ports.leads.end_merge(survivor_id, merged_id)
    ports.metrics.count("LeadsMerged")
    logger.info("leads merged", extra={"lead_id": survivor_id, "merged_lead_id": merged_id})
    return replace(result, lead=replace(result.lead, absorbing=None))
