"""CONTRACT §8 rules and product decisions D1-D5, through ingest → queues → consumers (moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest

from devstack.provision import Provisioned
from tests.builders import payloads as b
from tests.integration.harness import Onboarding

CUSTOMER = "5491166660001"
OTHER = "5491177770002"
T0 = 1751400000


@pytest.fixture
def ob(aws: Provisioned) -> Iterator[Onboarding]:
    onboarding = Onboarding(aws)
    onboarding.connect()
    yield onboarding


def at(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


# ---------------------------------------------------------------- §8.1 uniqueness per (connection, wamid)
def test_rule_8_1_replays_duplicate_chunks_and_live_overlap_never_duplicate(ob: Onboarding) -> None:
    history = b.chunk(1, 1, 50, b.thread(CUSTOMER, b.text("wamid.A", CUSTOMER, T0), b.text("wamid.B", b.BIZ, T0 + 5)))
    ob.deliver(history, history)
    ob.deliver(b.live("wamid.B", CUSTOMER, T0 + 5))  # overlap with history
    ob.deliver(history)
    assert sorted(ob.messages()) == ["wamid.A", "wamid.B"]
    state = ob.state()["historySync"]
    assert state["messagesImported"] == 2 and state["threadsImported"] == 1


# ---------------------------------------------------------------- §8.2 / D1 no tickets, no windows from history
def test_rule_8_2_and_d1_history_contacts_and_echoes_never_create_tickets(ob: Onboarding) -> None:
    ob.deliver(
        b.contacts(("add", CUSTOMER, "Maria Silva")),
        b.chunk(0, 1, 100, b.thread(CUSTOMER, b.text("wamid.H1", CUSTOMER, T0))),
        b.echo("wamid.E1", CUSTOMER, T0 + 100),
        b.echo("wamid.E2", OTHER, T0 + 200),
    )
    assert ob.tickets() == []
    assert len(ob.leads()) == 2
    assert ob.state()["historySync"]["status"] == "completed"


# ---------------------------------------------------------------- §8.3 / D2 tickets from live traffic only
def test_rule_8_3_and_d2_history_lead_gets_a_ticket_without_window(ob: Onboarding) -> None:
    ob.deliver(b.chunk(1, 1, 100, b.thread(CUSTOMER, b.text("wamid.H1", CUSTOMER, T0))))
    ob.deliver(b.live("wamid.L1", CUSTOMER, T0 + 86400))
    [ticket] = ob.tickets()
    assert ticket["originated_from"] == "history_lead" and "message_window_expires_at" not in ticket
    assert ticket["source"] == "incoming_message" and ticket["status"] == "open"
    assert ob.state()["historyLeadsWithNewMessages"] == 1
    # a second live message on the open ticket: none created, null window stays null
    ob.deliver(b.live("wamid.L2", CUSTOMER, T0 + 90000))
    [ticket] = ob.tickets()
    assert "message_window_expires_at" not in ticket


def test_rule_8_3_contact_synced_lead_with_history_is_a_history_lead(ob: Onboarding) -> None:
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria")))
    ob.deliver(b.chunk(1, 1, 100, b.thread(CUSTOMER, b.text("wamid.H", CUSTOMER, T0))))
    [lead] = ob.leads()
    assert lead["source"] == "state_sync" and lead["has_history"] is True
    ob.deliver(b.live("wamid.L", CUSTOMER, T0 + 10))
    assert ob.tickets()[0]["originated_from"] == "history_lead"


def test_rule_8_3_new_contact_gets_a_24h_window(ob: Onboarding) -> None:
    ob.deliver(b.live("wamid.N1", OTHER, T0))
    [ticket] = ob.tickets()
    assert ticket["originated_from"] == "new_contact"
    assert ticket["message_window_expires_at"] == at(T0 + 86400)
    [lead] = ob.leads()
    assert lead["source"] == "live_message" and lead["push_name"] == "Cliente"


def test_rule_8_3_existing_lead_without_history_gets_existing_and_window_moves_forward(ob: Onboarding) -> None:
    ob.deliver(b.contacts(("add", OTHER, "Joana")))
    ob.deliver(b.live("wamid.X1", OTHER, T0))
    [ticket] = ob.tickets()
    assert ticket["originated_from"] == "existing" and ticket["message_window_expires_at"] == at(T0 + 86400)
    ob.deliver(b.live("wamid.X2", OTHER, T0 + 3600))
    [ticket] = ob.tickets()
    assert ticket["message_window_expires_at"] == at(T0 + 3600 + 86400)
    ob.deliver(b.live("wamid.X0", OTHER, T0 - 3600))  # an older message arriving late never moves it back
    assert ob.tickets()[0]["message_window_expires_at"] == at(T0 + 3600 + 86400)


def test_rule_8_3_redelivered_live_message_creates_no_second_ticket(ob: Onboarding) -> None:
    message = b.live("wamid.R1", OTHER, T0)
    ob.deliver(message, message, message)
    assert len(ob.tickets()) == 1


# ---------------------------------------------------------------- §8.4 direction
def test_rule_8_4_direction_from_business_number_and_missing_from(ob: Onboarding) -> None:
    ob.deliver(
        b.chunk(
            1,
            1,
            40,
            b.thread(
                CUSTOMER,
                b.text("wamid.IN", CUSTOMER, T0),
                b.text("wamid.OUT", "+54 9 11 5555-0100", T0 + 1),  # formatting differences still match
                b.text("wamid.NOFROM", None, T0 + 2, from_user_id="AR.1"),
            ),
        )
    )
    messages = ob.messages()
    assert messages["wamid.IN"]["direction"] == "INBOUND"
    assert messages["wamid.OUT"]["direction"] == "OUTBOUND"
    assert messages["wamid.NOFROM"]["direction"] == "INBOUND"
    assert messages["wamid.IN"]["source"] == "history" and messages["wamid.IN"]["history_status"] == "READ"
    assert messages["wamid.IN"]["timestamp"] == at(T0)


# ---------------------------------------------------------------- §8.5 sync status
def test_rule_8_5_status_progress_never_goes_back_and_late_chunks_are_imported(ob: Onboarding) -> None:
    assert ob.state()["historySync"]["status"] == "pending_consent"
    ob.deliver(b.chunk(1, 2, 60, b.thread(CUSTOMER, b.text("wamid.C2", CUSTOMER, T0))))
    assert ob.state()["historySync"]["status"] == "syncing"
    ob.deliver(b.chunk(2, 1, 100, b.thread(OTHER, b.text("wamid.C3", OTHER, T0))))
    ob.deliver(b.chunk(1, 1, 30, b.thread(CUSTOMER, b.text("wamid.C1", CUSTOMER, T0 - 10))))  # late
    state = ob.state()["historySync"]
    assert (state["status"], state["progress"], state["phase"], state["chunkOrder"]) == ("completed", 100, 2, 1)
    assert state["messagesImported"] == 3 and state["completedAt"] is not None
    assert state["startedAt"] is not None and state["durationSeconds"] is not None


def test_rule_8_5_completion_in_phase_0(ob: Onboarding) -> None:
    ob.deliver(b.chunk(0, 1, 100, b.thread(CUSTOMER, b.text("wamid.P0", CUSTOMER, T0))))
    assert ob.state()["historySync"]["status"] == "completed"


def test_rule_8_5_declined_and_other_errors(ob: Onboarding, aws: Provisioned) -> None:
    ob.deliver(b.declined())
    state = ob.state()["historySync"]
    assert state["status"] == "declined" and state["error"]["code"] == "2593109"
    assert state["statusLabel"] == "Recusado pelo negócio"
    other = Onboarding(aws)
    other.api_key = ob.api_key
    other.connect(phone_number_id="111222333")
    other.deliver(b.envelope("history", {"history": [{"errors": [{"code": 131000, "message": "boom"}]}]}, "111222333"))
    state = other.state()["historySync"]
    assert state["status"] == "failed" and state["error"] == {"code": "131000", "message": "boom"}


def test_rule_8_5_bare_declined_payload(ob: Onboarding) -> None:
    value = b.declined()["entry"][0]["changes"][0]["value"]
    ob.deliver(value)
    assert ob.state()["historySync"]["status"] == "declined"


def test_rule_8_5_chunk_that_keeps_failing_shows_failed(ob: Onboarding) -> None:
    """A change dead-lettered from the history queue marks its chunk and the sync failed."""

    queue = ob.aws.queues["HistoryDeadLetterQueue"]
    ob.post(b.chunk(1, 7, 70, b.thread(CUSTOMER, b.text("wamid.F", CUSTOMER, T0))))
    sqs = boto3.client("sqs")
    [routed] = sqs.receive_message(QueueUrl=ob.aws.queues["HistoryQueue"])["Messages"]
    sqs.delete_message(QueueUrl=ob.aws.queues["HistoryQueue"], ReceiptHandle=routed["ReceiptHandle"])
    sqs.send_message(QueueUrl=queue, MessageBody=routed["Body"])  # what the redrive does after 5 failures
    ob.pump()
    state = ob.state()["historySync"]
    assert state["status"] == "failed" and state["error"]["code"] == "chunk_failed"
    log_id = json.loads(routed["Body"])["log_id"]
    assert {e["id"]: e["status"] for e in ob.log_entries() if e["kind"] == "webhook"}[log_id] == "failed"


# ---------------------------------------------------------------- §8.6 contacts
def test_rule_8_6_add_updates_and_remove_soft_deletes(ob: Onboarding) -> None:
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria Silva")))
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria S. Souza")))
    [lead] = ob.leads()
    assert lead["push_name"] == "Maria S. Souza" and lead["source"] == "state_sync" and lead["is_active"] is True
    assert lead["phone_number"] == "+5491166660001" and "last_synced_at" in lead
    ob.deliver(b.contacts(("remove", CUSTOMER, None)))
    [lead] = ob.leads()
    assert lead["is_active"] is False and "deleted_at" in lead
    assert ob.state()["historySync"]["contactsImported"] == 1


# ---------------------------------------------------------------- §8.7 echoes
def test_rule_8_7_echoes_unknown_known_and_revoke(ob: Onboarding) -> None:
    ob.deliver(b.echo("wamid.E1", CUSTOMER, T0))
    message = ob.messages()["wamid.E1"]
    assert (message["direction"], message["source"], message["status"]) == ("OUTBOUND", "app_echo", "sent")
    assert "meta_confirmed_at" in message
    ob.deliver(b.chunk(1, 1, 50, b.thread(CUSTOMER, b.text("wamid.K", b.BIZ, T0 - 50, status="PENDING"))))
    ob.deliver(b.echo("wamid.K", CUSTOMER, T0 - 50))
    known = ob.messages()["wamid.K"]
    assert (known["source"], known["status"]) == ("app_echo", "sent") and "meta_confirmed_at" in known
    ob.deliver(b.revoke("wamid.RV", "wamid.E1", CUSTOMER, T0 + 10))
    assert ob.messages()["wamid.E1"]["deleted"] is True
    assert ob.tickets() == []


def test_rule_8_7_revoke_before_the_original_leaves_it_deleted(ob: Onboarding) -> None:
    ob.deliver(b.revoke("wamid.RV2", "wamid.LATE", CUSTOMER, T0 + 10), b.echo("wamid.LATE", CUSTOMER, T0))
    assert ob.messages()["wamid.LATE"]["deleted"] is True


# ---------------------------------------------------------------- §8.8 media follow-ups
@pytest.mark.parametrize("outbound", [False, True])
def test_rule_8_8_media_followup_fills_the_placeholder(ob: Onboarding, outbound: bool) -> None:
    sender = b.BIZ if outbound else CUSTOMER
    ob.deliver(b.chunk(1, 1, 50, b.thread(CUSTOMER, b.placeholder("wamid.M", sender, T0))))
    assert ob.state()["historySync"]["mediaPending"] == 1
    followup = b.media_followup("wamid.M", CUSTOMER, T0, outbound=outbound)
    ob.deliver(followup, followup)
    [message] = ob.messages().values()
    assert message["type"] == "image" and json.loads(message["media"])["id"] == "media-wamid.M"
    state = ob.state()["historySync"]
    assert state["mediaPending"] == 0 and state["messagesImported"] == 1


def test_rule_8_8_followup_before_its_chunk_still_one_message(ob: Onboarding) -> None:
    ob.deliver(b.media_followup("wamid.M2", CUSTOMER, T0))
    ob.deliver(b.chunk(1, 1, 50, b.thread(CUSTOMER, b.placeholder("wamid.M2", CUSTOMER, T0))))
    [message] = ob.messages().values()
    assert message["type"] == "image"
    state = ob.state()["historySync"]
    assert (state["messagesImported"], state["mediaPending"]) == (1, 0)


# ---------------------------------------------------------------- §8.9 statuses
def test_rule_8_9_statuses_only_move_forward_and_failed_records_the_error(ob: Onboarding) -> None:
    ob.deliver(b.echo("wamid.S", CUSTOMER, T0))
    ob.deliver(b.status("wamid.S", "read", T0 + 20), b.status("wamid.S", "delivered", T0 + 10))
    assert ob.messages()["wamid.S"]["status"] == "read"
    ob.deliver(b.echo("wamid.F", CUSTOMER, T0))
    ob.deliver(b.status("wamid.F", "failed", T0 + 5, error_code=131049))
    failed = ob.messages()["wamid.F"]
    assert failed["status"] == "failed" and "not delivered" in failed["error"]


# ---------------------------------------------------------------- D3 source on lead, message, ticket
def test_d3_source_on_lead_message_and_ticket(ob: Onboarding) -> None:
    ob.deliver(
        b.chunk(1, 1, 100, b.thread(CUSTOMER, b.text("wamid.D3H", CUSTOMER, T0))), b.live("wamid.D3L", CUSTOMER, T0 + 5)
    )
    messages = ob.messages()
    assert (messages["wamid.D3H"]["source"], messages["wamid.D3L"]["source"]) == ("history", "live")
    assert ob.leads()[0]["source"] == "history_sync"
    assert (ob.tickets()[0]["source"], ob.tickets()[0]["originated_from"]) == ("incoming_message", "history_lead")


# ---------------------------------------------------------------- D4 processing order, D5 idempotency
def test_d4_expected_order_contacts_history_live(ob: Onboarding) -> None:
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria")))
    ob.deliver(b.chunk(0, 1, 100, b.thread(CUSTOMER, b.text("wamid.O1", CUSTOMER, T0))))
    ob.deliver(b.live("wamid.O2", CUSTOMER, T0 + 1_050))  # after the contact change (T0 + 1,000): its name stays
    [lead] = ob.leads()
    assert lead["source"] == "state_sync" and lead["has_history"] is True and lead["push_name"] == "Cliente"
    assert ob.tickets()[0]["originated_from"] == "history_lead"


def test_d5_idempotency_on_wamid_across_every_path(ob: Onboarding) -> None:
    docs = [
        b.chunk(1, 1, 100, b.thread(CUSTOMER, b.text("wamid.I", CUSTOMER, T0))),
        b.live("wamid.I", CUSTOMER, T0),
        b.echo("wamid.J", CUSTOMER, T0),
        b.echo("wamid.J", CUSTOMER, T0),
    ]
    ob.deliver(*docs, *docs)
    assert sorted(ob.messages()) == ["wamid.I", "wamid.J"]


# ---------------------------------------------------------------- identity
def test_brazilian_ninth_digit_and_bsuid_meet_on_one_lead(ob: Onboarding) -> None:
    ob.deliver(b.contacts(("add", "5511966660001", "Ana")))
    # the 8-digit wa_id form of the same mobile
    ob.deliver(b.chunk(1, 1, 50, b.thread("551166660001", b.text("wamid.BR", "551166660001", T0))))
    # live traffic shows phone and user id together: still the same lead, now with its user id
    ob.deliver(
        b.envelope(
            "messages",
            {
                "contacts": [{"wa_id": "551166660001", "user_id": "BR.77"}],
                "messages": [
                    {
                        "from": "551166660001",
                        "from_user_id": "BR.77",
                        "id": "wamid.U2",
                        "timestamp": str(T0 + 2),
                        "type": "text",
                        "text": {"body": "x"},
                    }
                ],
            },
        )
    )
    # later the phone is hidden (username user): the user id alone finds that lead
    ob.deliver(
        b.chunk(1, 2, 60, b.thread(None, b.text("wamid.U1", None, T0 + 1, from_user_id="BR.77"), user_id="BR.77"))
    )
    [lead] = ob.leads()
    assert (lead["phone_number"], lead["user_id"], lead["source"]) == ("+5511966660001", "BR.77", "state_sync")
    assert len(ob.items("CONV#")) == 1 and len(ob.messages()) == 3


def test_user_id_only_thread_gets_a_lead_without_phone(ob: Onboarding) -> None:
    ob.deliver(b.chunk(2, 1, 90, b.thread(None, b.text("wamid.UID", None, T0, from_user_id="BR.55"), user_id="BR.55")))
    [lead] = ob.leads()
    assert lead["user_id"] == "BR.55" and "phone_number" not in lead and lead["source"] == "history_sync"


# ---------------------------------------------------------------- failure handling
def test_invalid_change_is_rejected_not_retried(ob: Onboarding) -> None:
    ob.deliver(b.envelope("history", {"history": [{"metadata": {"phase": "x", "chunk_order": 1, "progress": 500}}]}))
    statuses = [e["status"] for e in ob.log_entries() if e.get("field") == "history"]
    assert statuses == ["rejected"]


def test_every_inbound_type_is_stored(ob: Onboarding) -> None:
    ob.deliver(
        b.live_raw("wamid.LOC", OTHER, T0, "location", {"latitude": -23.5, "longitude": -46.6}),
        b.live_raw("wamid.NEW", OTHER, T0 + 1, "future_type", {"anything": True}),
    )
    messages = ob.messages()
    assert messages["wamid.LOC"]["type"] == "location" and "latitude" in messages["wamid.LOC"]["content"]
    assert messages["wamid.NEW"]["type"] == "future_type"


def test_account_update_disconnects_and_reconnects(ob: Onboarding) -> None:
    ob.deliver(b.account_update("PARTNER_REMOVED"))
    assert ob.state()["connectionStatus"] == "disconnected"
    ob.deliver(b.account_update("ACCOUNT_RECONNECTED"))
    assert ob.state()["connectionStatus"] == "active"


def test_every_change_ends_processed_in_the_log(ob: Onboarding) -> None:
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria")), b.live("wamid.P", CUSTOMER, T0))
    assert {e["status"] for e in ob.log_entries() if e["kind"] == "webhook"} == {"processed"}


# ---------------------------------------------------------------- unmatched changes
def test_unmatched_changes_are_applied_when_the_connection_is_created(aws: Provisioned) -> None:
    ob = Onboarding(aws)
    assert ob.post(b.contacts(("add", CUSTOMER, "Maria"))) == 200
    assert ob.post(b.chunk(0, 1, 100, b.thread(CUSTOMER, b.text("wamid.EARLY", CUSTOMER, T0)))) == 200
    ob.pump()
    assert sorted(e["status"] for e in ob.log_entries() if e["kind"] == "webhook") == ["unmatched", "unmatched"]
    connection = ob.connect()
    ob.pump()
    assert list(ob.messages()) == ["wamid.EARLY"]
    state = ob.state()["historySync"]
    assert (state["status"], state["contactsImported"]) == ("completed", 1)
    entries = [e for e in ob.log_entries() if e["kind"] == "webhook"]
    assert {(e["status"], e["connection_id"]) for e in entries} == {("processed", connection["id"])}
    assert all("gsi2pk" not in e for e in entries)


# ---------------------------------------------------------------- every reference shape through the pipeline
def test_every_reference_payload_shape_is_processed(ob: Onboarding) -> None:
    from tests.builders.samples import SAMPLES

    for name in sorted(SAMPLES):
        ob.deliver(SAMPLES[name])
    entries = [e for e in ob.log_entries() if e["kind"] == "webhook"]
    assert len(entries) == len(SAMPLES)
    assert {e["status"] for e in entries} == {"processed"}, [(e["event"], e.get("error")) for e in entries]
    messages = ob.messages()
    assert messages["wamid.LOWER1"]["history_status"] == "READ" and messages["wamid.LOWER1"]["status"] == "read"
    assert messages["wamid.LOWER2"]["direction"] == "OUTBOUND"
    assert messages["wamid.UNSUP1"]["type"] == "unsupported" and "not supported" in messages["wamid.UNSUP1"]["error"]
    audit = {e["event"] for e in ob.log_entries() if e["kind"] == "audit"}
    assert {
        "sync_started",
        "sync_completed",
        "sync_declined",
        "messages_error",
        "account_update PARTNER_REMOVED",
    } <= audit


# ---------------------------------------------------------------- §8.8 a follow-up before its placeholder
@pytest.mark.parametrize("followup_first", [False, True], ids=["placeholder first", "follow-up first"])
def test_rule_8_8_a_followup_and_its_placeholder_end_the_same_in_either_order(
    ob: Onboarding, followup_first: bool
) -> None:
    # Given a placeholder (delivered, in its history context) and its media follow-up, in this order
    chunk = b.chunk(1, 1, 50, b.thread(CUSTOMER, b.placeholder("wamid.M9", CUSTOMER, T0)))
    followup = b.media_followup("wamid.M9", CUSTOMER, T0)
    ob.deliver(*((followup, chunk) if followup_first else (chunk, followup)))
    # Then one image message with the placeholder's history status, counted once as a filled placeholder
    message = ob.messages()["wamid.M9"]
    assert (message["type"], message["history_status"], message["status"]) == ("image", "DELIVERED", "delivered")
    state = ob.state()
    assert (state["historySync"]["messagesImported"], state["historySync"]["mediaPending"]) == (1, 0)
    accounts = boto3.resource("dynamodb").Table(ob.aws.tables["AccountsTable"])
    item = accounts.get_item(Key={"pk": f"CONN#{ob.connection['id']}", "sk": "CONN"})["Item"]
    assert (int(item["media_placeholders"]), int(item["media_received"])) == (1, 1)


@pytest.mark.parametrize("contact_first", [True, False])
def test_rule_8_6_a_leads_name_is_the_latest_events_whatever_the_order(aws: Provisioned, contact_first: bool) -> None:
    """The App's contact name and a live message's profile name: the later event's name stays (moto)."""
    for n, (contact_at, live_at, expected) in enumerate(((T0, T0 + 60, "Maria Perfil"), (T0 + 60, T0, "Maria do App"))):
        ob = Onboarding(aws)
        ob.connect(phone_number_id=f"55500{n}{int(contact_first)}")
        named = b.contacts(("add", CUSTOMER, "Maria do App"))
        named["entry"][0]["changes"][0]["value"]["state_sync"][0]["metadata"]["timestamp"] = str(contact_at)
        live = b.live(f"wamid.N{n}", CUSTOMER, live_at, name="Maria Perfil")
        documents = [named, live] if contact_first else [live, named]
        for document in documents:
            ob.deliver(b.for_number(document, f"55500{n}{int(contact_first)}", b.WABA))
        [lead] = ob.api("GET", f"/leads?phoneNumber=%2B{CUSTOMER}")[1]["leads"]
        assert lead["pushName"] == expected, (contact_at, live_at, contact_first)
