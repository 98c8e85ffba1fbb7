"""§8.10 one person, one lead: resolve a counterpart, and merge two leads a message shows to be one.

The survivor is the older lead (:func:`whatrack.domain.inbox.merge_order`). The merge runs in an order
that makes every step safe to repeat and every interruption found again:

1. the newer lead is retired (``merged_into``): from now on an update of it also reaches the survivor,
   and no ticket can be opened on it;
2. on each connection, its conversation is retired (no message can be counted into it any more), the
   survivor's is ensured, the messages move with their counts, and its tickets follow;
3. the survivor absorbs what the retired lead knew (ids, history flag, tickets, contact state);
4. last, the identity guards point at the survivor. Until then a resolve of either id still reaches the
   retired lead and finishes the merge (a failure anywhere is retried with the change that caused it).
"""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools import Logger

from whatrack.domain.errors import TransientError
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.inbox import LeadSource, ResolvedLead, conversation_id_for, merge_order
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
    """The one lead of this person, after merging the two leads its ids reached, if they did."""
    resolved = ports.leads.resolve(organization_id, identity, source, now, correlation_id=correlation_id)
    if resolved.other is None:
        return resolved
    return merge_leads(ports, organization_id, identity, resolved)


def merge_leads(
    ports: InboxPorts, organization_id: str, identity: ContactIdentity, resolved: ResolvedLead
) -> ResolvedLead:
    assert resolved.other is not None
    survivor, merged = merge_order(resolved.lead, resolved.other)
    retired = ports.leads.retire(merged.id, survivor.id)
    if retired is None:
        raise TransientError(f"lead {merged.id} was merged into another lead meanwhile")
    for connection in ports.connections.list_for_organization(organization_id):
        from_id = conversation_id_for(merged.id, connection.id)
        to_id = conversation_id_for(survivor.id, connection.id)
        conversation = ports.conversations.retire(from_id, to_id)
        if conversation is None:
            continue
        ports.conversations.ensure(
            organization_id, survivor.id, connection.id, conversation.created_at, conversation.last_message_at
        )
        moved = ports.messages.move(connection.id, from_id, to_id)
        ports.tickets.reassign(connection.id, from_id, to_id, merged.id, survivor.id)
        logger.info("conversation merged", extra={"from": from_id, "to": to_id, "moved": moved})
    result = ports.leads.absorb(survivor.id, retired)
    old = retired.lead
    known = ContactIdentity(phone=old.phone_number, wa_id=old.wa_id, user_id=old.user_id)
    ports.leads.repoint(organization_id, [identity, known], merged.id, survivor.id)
    ports.metrics.count("LeadsMerged")
    logger.info("leads merged", extra={"lead_id": survivor.id, "merged_lead_id": merged.id})
    return result
