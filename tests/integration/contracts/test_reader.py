"""Port contract: The read port: ordering, filters, disjoint pages, cursors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.contracts.support import (
    T0,
    Inbox,
    Ports,
    at,
    connect,
    inbox,
    log_entry,
    message,
    open_ticket,
    phone,
    put,
    unique_number,
)
from whatrack.domain.connections import Connection
from whatrack.domain.errors import InvalidInputError
from whatrack.domain.ids import new_id
from whatrack.domain.inbox import (
    TICKET_WINDOW,
    Lead,
    LeadSource,
)
from whatrack.domain.log import LogKind, LogStatus
from whatrack.domain.paging import Page


# =========================================================================== reader
def _leads_of(ports: Ports, organization_id: str, count: int, *, tie: bool = False) -> list[Lead]:
    """``count`` new leads of the organization, created one second apart (all at once if ``tie``)."""
    return [
        ports.leads.resolve(organization_id, phone(unique_number()), LeadSource.LIVE_MESSAGE, at(0 if tie else i)).lead
        for i in range(count)
    ]


Fetch = Callable[[int, str | None], Page[Any]]


def _all_pages(fetch: Fetch, limit: int) -> list[list[Any]]:
    """Every page of a list, following ``nextCursor`` until it is ``None``."""
    pages: list[list[Any]] = []
    cursor: str | None = None
    while True:
        page = fetch(limit, cursor)
        pages.append(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 20, "paging does not end"


def _ids(pages: list[list[Any]]) -> list[list[str]]:
    return [[item.id for item in page] for page in pages]


def test_leads_are_listed_newest_first_then_by_id(ports: Ports) -> None:
    # Given leads created one second apart, and three created at the same time as the oldest
    organization_id = new_id()
    spaced = _leads_of(ports, organization_id, 3)
    tied = [spaced[0], *_leads_of(ports, organization_id, 2, tie=True)]
    # When the organization's leads are listed
    listed = ports.reader.leads(organization_id, limit=50, cursor=None)
    # Then the newest come first and leads created at the same time by id, descending
    expected = [spaced[2].id, spaced[1].id, *sorted((lead.id for lead in tied), reverse=True)]
    assert [lead.id for lead in listed.items] == expected
    assert listed.next_cursor is None


def test_lead_pages_are_disjoint_and_the_last_has_no_cursor(ports: Ports) -> None:
    # Given five leads
    organization_id = new_id()
    newest_first = [lead.id for lead in reversed(_leads_of(ports, organization_id, 5))]
    # When they are read two at a time
    pages = _all_pages(lambda limit, cursor: ports.reader.leads(organization_id, limit=limit, cursor=cursor), 2)
    # Then the pages cover every lead once, in order, and the last one has no cursor
    assert _ids(pages) == [newest_first[0:2], newest_first[2:4], newest_first[4:5]]


def test_leads_filtered_by_source_are_paged_through_the_whole_list(ports: Ports) -> None:
    # Given leads of two sources, newest first: H L H H L H (a page can fill in the middle of a read)
    organization_id = new_id()
    history, live = LeadSource.HISTORY_SYNC, LeadSource.LIVE_MESSAGE
    made = [
        ports.leads.resolve(organization_id, phone(unique_number()), source, at(i)).lead
        for i, source in enumerate([history, live, history, history, live, history])
    ]
    expected = [lead.id for lead in reversed(made) if lead.source is history]

    # When the history leads are read two at a time
    def fetch(limit: int, cursor: str | None) -> Page[Lead]:
        return ports.reader.leads(organization_id, limit=limit, cursor=cursor, source=history)

    pages = _ids(_all_pages(fetch, 2))
    # Then every history lead is listed once, in order, two per page
    assert pages == [expected[0:2], expected[2:4]]


def test_leads_of_a_connection_are_those_with_a_conversation_there(ports: Ports) -> None:
    # Given two leads with a conversation on a connection and one only on another connection
    box = inbox(ports)
    second = ports.leads.resolve(box.organization_id, phone(unique_number()), LeadSource.LIVE_MESSAGE, at(1)).lead
    ports.conversations.ensure(box.organization_id, second.id, box.connection.id, T0, None)
    elsewhere = ports.leads.resolve(box.organization_id, phone(unique_number()), LeadSource.LIVE_MESSAGE, at(2)).lead
    ports.conversations.ensure(box.organization_id, elsewhere.id, connect(ports, box.organization_id).id, T0, None)
    # When the connection's leads are listed
    listed = ports.reader.leads(box.organization_id, limit=50, cursor=None, connection_id=box.connection.id)
    # Then they are the two, newest lead first
    assert [lead.id for lead in listed.items] == sorted([box.lead.lead.id, second.id], reverse=True)


def test_leads_of_a_connection_include_its_synced_contacts_once(ports: Ports) -> None:
    # Given a lead with a conversation, a contact synced from the App (no conversation, later removed)
    # and a lead that is both
    box = inbox(ports)
    contact = ports.leads.resolve(box.organization_id, phone(unique_number()), LeadSource.STATE_SYNC, at(1)).lead
    ports.sync.count_contact(box.connection.id, contact.id)
    ports.leads.update(contact.id, synced_at=at(2), active=False)
    ports.sync.count_contact(box.connection.id, box.lead.lead.id)
    # When the connection's leads are listed whole, then one by one
    listed = ports.reader.leads(box.organization_id, limit=50, cursor=None, connection_id=box.connection.id)
    pages = _all_pages(
        lambda limit, cursor: ports.reader.leads(
            box.organization_id, limit=limit, cursor=cursor, connection_id=box.connection.id
        ),
        1,
    )
    # Then both appear once, newest first, the removed contact inactive, and the pages are disjoint
    newest_first = sorted([box.lead.lead.id, contact.id], reverse=True)
    assert [lead.id for lead in listed.items] == newest_first
    assert [lead.is_active for lead in listed.items if lead.id == contact.id] == [False]
    assert _ids(pages) == [[newest_first[0]], [newest_first[1]]]
    by_phone = ports.reader.leads(
        box.organization_id, limit=50, cursor=None, connection_id=box.connection.id, phone_number=contact.phone_number
    )
    assert [lead.id for lead in by_phone.items] == [contact.id]


def test_leads_of_a_connection_are_filtered_after_paging(ports: Ports) -> None:
    # Given a connection with three leads (ids grow with time): two live ones, then a history one
    box = inbox(ports)
    later = []
    for source in (LeadSource.LIVE_MESSAGE, LeadSource.HISTORY_SYNC):
        time.sleep(0.002)  # lead ids are time-ordered to the millisecond
        lead = ports.leads.resolve(box.organization_id, phone(unique_number()), source, T0).lead
        ports.conversations.ensure(box.organization_id, lead.id, box.connection.id, T0, None)
        later.append(lead)

    # When the connection's history leads are read two at a time
    def fetch(limit: int, cursor: str | None) -> Page[Lead]:
        return ports.reader.leads(
            box.organization_id,
            limit=limit,
            cursor=cursor,
            connection_id=box.connection.id,
            source=LeadSource.HISTORY_SYNC,
        )

    pages = _all_pages(fetch, 2)
    # Then the filter applies to each page of conversations: the history lead comes on the first
    # page and the second page, read because a cursor was given, holds none
    assert _ids(pages) == [[later[1].id], []]


def test_a_lead_is_found_by_its_phone_number_in_any_notation(ports: Ports) -> None:
    # Given a lead with a Brazilian mobile
    organization_id = new_id()
    number = unique_number()
    lead = ports.leads.resolve(organization_id, phone(number), LeadSource.STATE_SYNC, T0).lead
    # When it is searched by a formatted number, and by the old eight-digit form in another organization
    formatted = f"+{number[:2]} ({number[2:4]}) {number[4:9]}-{number[9:]}"
    found = ports.reader.leads(organization_id, limit=10, cursor=None, phone_number=formatted)
    elsewhere = ports.reader.leads(new_id(), limit=10, cursor=None, phone_number=number[:4] + number[5:])
    # Then it is found in its organization only, on one page
    assert ([lead_.id for lead_ in found.items], found.next_cursor) == ([lead.id], None)
    assert elsewhere.items == []


def test_a_lead_found_by_phone_number_still_obeys_the_source_filter(ports: Ports) -> None:
    # Given a lead from contact sync
    organization_id = new_id()
    number = unique_number()
    ports.leads.resolve(organization_id, phone(number), LeadSource.STATE_SYNC, T0)
    # When its number is searched among history leads
    found = ports.reader.leads(
        organization_id, limit=10, cursor=None, phone_number=number, source=LeadSource.HISTORY_SYNC
    )
    # Then nothing is found
    assert (found.items, found.next_cursor) == ([], None)


def test_latest_messages_come_from_the_newest_end_oldest_first_within_each_page(ports: Ports) -> None:
    # Given messages inserted out of order, two at the same time
    box = inbox(ports)
    for wamid, seconds in [("wamid.C", 30), ("wamid.A2", 10), ("wamid.D", 40), ("wamid.A1", 10), ("wamid.B", 20)]:
        put(ports, box, message(wamid, seconds))

    # When they are read two at a time from the newest end, each cursor reaching further back
    pages = _all_pages(
        lambda limit, cursor: ports.reader.messages(box.conversation_id, limit=limit, cursor=cursor, latest=True), 2
    )
    # Then the first page holds the newest two, each page is oldest first, and the last ends at the start
    assert _ids(pages) == [["wamid.C", "wamid.D"], ["wamid.A2", "wamid.B"], ["wamid.A1"]]


def test_messages_are_listed_oldest_first_then_by_wamid_in_disjoint_pages(ports: Ports) -> None:
    # Given messages inserted out of order, two at the same time
    box = inbox(ports)
    for wamid, seconds in [("wamid.C", 30), ("wamid.A2", 10), ("wamid.D", 40), ("wamid.A1", 10), ("wamid.B", 20)]:
        put(ports, box, message(wamid, seconds))

    # When they are read two at a time
    pages = _all_pages(lambda limit, cursor: ports.reader.messages(box.conversation_id, limit=limit, cursor=cursor), 2)
    # Then they come oldest first (same time by wamid), each once, and paging ends
    assert _ids(pages) == [["wamid.A1", "wamid.A2"], ["wamid.B", "wamid.C"], ["wamid.D"]]
    assert [m.id for m in ports.reader.all_messages(box.conversation_id)] == [
        "wamid.A1",
        "wamid.A2",
        "wamid.B",
        "wamid.C",
        "wamid.D",
    ]


def _three_inboxes(ports: Ports) -> tuple[Inbox, Inbox, Inbox]:
    """Three leads of one organization with a conversation each: two on one connection, one on another."""
    first = inbox(ports)
    organization_id = first.organization_id

    def another(connection: Connection) -> Inbox:
        lead = ports.leads.resolve(organization_id, phone(unique_number()), LeadSource.LIVE_MESSAGE, T0)
        return Inbox(
            connection, lead, ports.conversations.ensure(organization_id, lead.lead.id, connection.id, T0, None)
        )

    return first, another(first.connection), another(connect(ports, organization_id))


def test_tickets_are_listed_newest_first_by_organization_connection_and_status(ports: Ports) -> None:
    # Given three tickets of one organization on two connections, one closed
    first, second, third = _three_inboxes(ports)
    organization_id, other_connection = first.organization_id, third.connection
    oldest, middle, newest = (open_ticket(ports, b, f"wamid.{i}", i * 10) for i, b in enumerate([first, second, third]))
    assert oldest is not None and middle is not None and newest is not None
    ports.tickets.close(middle, second.conversation_id, T0)

    def ids(connection_id: str | None = None, status: str | None = None) -> list[str]:
        page = ports.reader.tickets(organization_id, limit=1, cursor=None, connection_id=connection_id, status=status)
        found = [t.id for t in page.items]
        while page.next_cursor is not None:
            page = ports.reader.tickets(
                organization_id, limit=1, cursor=page.next_cursor, connection_id=connection_id, status=status
            )
            found += [t.id for t in page.items]
        return found

    # When they are listed (one per page) for the organization, by connection and by status
    # Then each list is newest first and holds exactly the matching tickets
    assert ids() == [newest, middle, oldest]
    assert ids(connection_id=first.connection.id) == [middle, oldest]
    assert ids(status="open") == [newest, oldest]
    assert ids(connection_id=first.connection.id, status="closed") == [middle]
    assert ids(connection_id=other_connection.id, status="closed") == []


def test_logs_list_webhook_and_audit_entries_together_newest_first(ports: Ports) -> None:
    # Given webhook and audit entries of a connection at interleaved times, and another connection's
    connection = connect(ports)
    webhook_old, webhook_new = log_entry(connection, LogStatus.ROUTED, 10), log_entry(connection, LogStatus.ROUTED, 30)
    ports.webhook_log.record([webhook_new, webhook_old, log_entry(connect(ports), LogStatus.ROUTED, 40)])
    ports.audit.record(connection.id, "sync_started", at(20), key="sync_started")
    ports.audit.record(connection.id, "sync_completed", at(40), key="sync_completed")

    # When its log is read three at a time
    pages = _all_pages(lambda limit, cursor: ports.reader.logs(connection.id, limit=limit, cursor=cursor), 3)
    # Then both kinds come together, newest first, each once, and the short last page ends the list
    shown = [[(r.kind, r.event if r.kind is LogKind.AUDIT else r.id) for r in page] for page in pages]
    assert shown == [
        [(LogKind.AUDIT, "sync_completed"), (LogKind.WEBHOOK, webhook_new.id), (LogKind.AUDIT, "sync_started")],
        [(LogKind.WEBHOOK, webhook_old.id)],
    ]


@pytest.mark.parametrize("foreign", ["other_organization", "other_list", "not_a_cursor"])
def test_a_cursor_is_accepted_only_by_the_list_it_came_from(ports: Ports, foreign: str) -> None:
    # Given a cursor of one organization's leads
    box = inbox(ports)
    _leads_of(ports, box.organization_id, 2)
    cursor = ports.reader.leads(box.organization_id, limit=1, cursor=None).next_cursor
    assert cursor is not None
    # When it is given to another organization's leads, to a conversation's messages, or garbled
    with pytest.raises(InvalidInputError) as refused:
        if foreign == "other_organization":
            ports.reader.leads(new_id(), limit=1, cursor=cursor)
        elif foreign == "other_list":
            ports.reader.messages(box.conversation_id, limit=1, cursor=cursor)
        else:
            ports.reader.leads(box.organization_id, limit=1, cursor="%%not-base64%%")
    # Then it is refused as an invalid cursor
    assert refused.value.code == "invalid_cursor"


def test_unknown_ids_read_as_none(ports: Ports) -> None:
    # Given nothing stored under fresh ids
    missing = new_id()
    # When they are read
    # Then each read finds nothing
    assert ports.connections.get(missing) is None
    assert ports.reader.lead(missing) is None
    assert ports.reader.conversation(missing) is None
    assert ports.reader.ticket(missing) is None
    assert ports.reader.conversations_of(missing) == []
    assert ports.reader.chunks(missing) == []
    assert ports.tickets.open_ticket_id(missing) is None


# --------------------------------------------------------------------------- latest activity first
def _every_page(fetch: Fetch, limit: int) -> list[str]:
    """The ids of every page, checking that no id is listed twice."""
    ids = [i for page in _ids(_all_pages(fetch, limit)) for i in page]
    assert len(ids) == len(set(ids)), f"listed twice: {ids}"
    return ids


def test_leads_by_activity_come_latest_message_first_then_the_never_messaged_newest_first(ports: Ports) -> None:
    # Given leads created in the order a..e; a wrote last, b first, e in between; c and d never wrote
    organization_id = new_id()
    a, b, c, d, e = _leads_of(ports, organization_id, 5)
    for lead, seconds in [(a, 500), (b, 100), (e, 300)]:
        ports.leads.update(lead.id, message_at=at(seconds))
    expected = [a.id, e.id, b.id, d.id, c.id]
    # When they are listed by activity, on pages of every size (the boundary falls inside a page or on one)
    for limit in (1, 2, 3, 5, 50):
        ids = _every_page(
            lambda n, cursor: ports.reader.leads(organization_id, limit=n, cursor=cursor, by_activity=True), limit
        )
        # Then the latest message comes first, then the leads never messaged, newest first
        assert ids == expected, limit
    # And a later message moves its lead to the top
    ports.leads.update(b.id, message_at=at(900))
    assert ports.reader.leads(organization_id, limit=2, cursor=None, by_activity=True).items[0].id == b.id


def test_leads_of_a_connection_by_activity_follow_their_conversation_there_then_its_quiet_contacts(
    ports: Ports,
) -> None:
    # Given a connection with three conversations (messages at 10, 40, 20 s), a synced contact who also
    # wrote (at 30 s), a synced contact who never wrote, and another connection's lead of the organization
    box = inbox(ports)
    organization_id, connection_id = box.organization_id, box.connection.id
    leads = _leads_of(ports, organization_id, 5)
    for lead, seconds in zip(leads[:3], (10, 40, 20), strict=True):
        ports.conversations.ensure(organization_id, lead.id, connection_id, T0, at(seconds))
    talker, quiet = leads[3], leads[4]
    ports.sync.count_contact(connection_id, talker.id)
    ports.sync.count_contact(connection_id, quiet.id)
    ports.conversations.ensure(organization_id, talker.id, connection_id, T0, at(30))
    elsewhere = connect(ports, organization_id)
    stranger = _leads_of(ports, organization_id, 1)[0]
    ports.conversations.ensure(organization_id, stranger.id, elsewhere.id, T0, at(99))
    # When the connection's leads are listed by activity, on pages of every size
    spoken = [leads[1].id, talker.id, leads[2].id, leads[0].id]
    for limit in (1, 2, 4, 50):
        ids = _every_page(
            lambda n, cursor: ports.reader.leads(
                organization_id, limit=n, cursor=cursor, connection_id=connection_id, by_activity=True
            ),
            limit,
        )
        # Then by their conversation's latest message there, then the never messaged (the synced contact
        # and the box's lead, whose conversation is empty; newest lead id first, and these two may share
        # their id's millisecond); each once, none of elsewhere
        assert ids[:4] == spoken and set(ids[4:]) == {quiet.id, box.lead.lead.id} and len(ids) == 6, limit


def test_tickets_by_activity_come_latest_message_first_by_organization_connection_and_status(ports: Ports) -> None:
    # Given three tickets opened in order on two connections; the first then gets the latest message
    # (a live one), the second an agent's reply after the third opened; the second is closed
    first, second, third = _three_inboxes(ports)
    organization_id, other = first.organization_id, third.connection
    one, two, three = (open_ticket(ports, b, f"wamid.act.{i}", i * 10) for i, b in enumerate([first, second, third]))
    assert one is not None and two is not None and three is not None
    ports.tickets.touch(one, at(60), at(60) + TICKET_WINDOW)
    ports.tickets.moved(two, at(30))
    ports.tickets.moved(two, at(25))  # an older move changes nothing
    ports.tickets.close(two, second.conversation_id, at(40))

    def ids(connection_id: str | None = None, status: str | None = None, limit: int = 1) -> list[str]:
        return _every_page(
            lambda n, cursor: ports.reader.tickets(
                organization_id, limit=n, cursor=cursor, connection_id=connection_id, status=status, by_activity=True
            ),
            limit,
        )

    # When they are listed by activity
    # Then the latest message first, whatever their creation order, in each filter
    assert ids() == ids(limit=50) == [one, two, three]
    assert ids(connection_id=first.connection.id) == [one, two]
    assert ids(status="open") == [one, three]
    assert ids(connection_id=other.id, status="closed") == []
    listed = ports.reader.tickets(organization_id, limit=5, cursor=None, connection_id=None, status=None)
    assert {t.id: t.last_message_at for t in listed.items}[two] == at(30)


def test_an_activity_cursor_belongs_to_its_own_list(ports: Ports) -> None:
    # Given a page of an organization's leads by activity
    organization_id = new_id()
    a, _ = _leads_of(ports, organization_id, 2)
    ports.leads.update(a.id, message_at=at(5))
    page = ports.reader.leads(organization_id, limit=1, cursor=None, by_activity=True)
    assert page.next_cursor is not None
    # When its cursor is given to another organization's activity list, or to the same list by creation
    # Then it is refused as a cursor of another list (never a 5xx, never a silent restart)
    with pytest.raises(InvalidInputError):
        ports.reader.leads(new_id(), limit=1, cursor=page.next_cursor, by_activity=True)
    with pytest.raises(InvalidInputError):
        ports.reader.leads(organization_id, limit=1, cursor=page.next_cursor)
    plain = ports.reader.leads(organization_id, limit=1, cursor=None)
    assert plain.next_cursor is not None
    with pytest.raises(InvalidInputError):
        ports.reader.leads(organization_id, limit=1, cursor=plain.next_cursor, by_activity=True)
