"""Raw Meta payload samples of every documented shape (``meta-webhooks.md``) and the demo onboarding.

``scripts/make_events.py`` writes them under ``events/``; tests deliver them through every tier.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from tests.builders.fidelity_samples import FIDELITY_SAMPLES

WABA = "401122334455667"
PNID = "209988776655443"
BIZ = "5491155550100"
META = {"display_phone_number": BIZ, "phone_number_id": PNID}
CUSTOMER = "5491166660001"
BSUID = "AR.88120034455667788"
W_IN = "wamid.HBgNNTQ5MTE2NjY2MDAwMRUCABIYFkFBQkJDQ0RERUVGRjAwMTEyMjMzNDQA"
W_MEDIA = "wamid.HBgNNTQ5MTE1NTU1MDEwMBUCABEYEjk5ODhBQUJCQ0NEREVFRkYA"


def envelope(field: str, value: dict[str, Any], **entry: Any) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, **entry, "changes": [{"field": field, "value": value}]}],
    }


def history(*items: dict[str, Any]) -> dict[str, Any]:
    return envelope("history", {"messaging_product": "whatsapp", "metadata": META, "history": list(items)})


DECLINED_VALUE = {
    "messaging_product": "whatsapp",
    "metadata": META,
    "history": [
        {
            "errors": [
                {
                    "code": 2593109,
                    "title": "History sync is turned off by the business from the WhatsApp Business App",
                    "message": "History sync is turned off by the business from the WhatsApp Business App",
                    "error_data": {"details": "History sharing is turned off by the business"},
                }
            ]
        }
    ],
}

SAMPLES: dict[str, Any] = {
    # 1a: a chunk of past chats (upper-case statuses, text + media placeholder)
    "history_chunk": history(
        {
            "metadata": {"phase": 1, "chunk_order": 3, "progress": 40},
            "threads": [
                {
                    "id": CUSTOMER,
                    "context": {"wa_id": CUSTOMER, "user_id": BSUID},
                    "messages": [
                        {
                            "from": CUSTOMER,
                            "from_user_id": BSUID,
                            "id": W_IN,
                            "timestamp": "1751400000",
                            "type": "text",
                            "text": {"body": "Hola, ¿tienen stock del modelo azul? 😀"},
                            "history_context": {"status": "READ"},
                        },
                        {
                            "from": BIZ,
                            "id": W_MEDIA,
                            "timestamp": "1751400120",
                            "type": "media_placeholder",
                            "history_context": {"status": "DELIVERED"},
                        },
                    ],
                }
            ],
        }
    ),
    # Gupshup-style real sample: lower-case statuses, descending order, from_me, completion in phase 0
    "history_chunk_lowercase_complete": history(
        {
            "metadata": {"phase": 0, "chunk_order": 1, "progress": 100},
            "threads": [
                {
                    "id": "5511966660001",
                    "messages": [
                        {
                            "from": BIZ,
                            "id": "wamid.LOWER2",
                            "timestamp": "1751400300",
                            "type": "text",
                            "text": {"body": "Obrigado!"},
                            "history_context": {"status": "delivered", "from_me": True},
                        },
                        {
                            "from": "5511966660001",
                            "id": "wamid.LOWER1",
                            "timestamp": "1751400200",
                            "type": "text",
                            "text": {"body": "Oi, tudo bem?"},
                            "history_context": {"status": "read"},
                        },
                    ],
                }
            ],
        }
    ),
    # 1g: username user, phone hidden: no thread id, no from
    "history_chunk_bsuid_only": history(
        {
            "metadata": {"phase": 2, "chunk_order": 1, "progress": 90},
            "threads": [
                {
                    "context": {"user_id": "BR.77001122334455", "username": "maria.loja"},
                    "messages": [
                        {
                            "from_user_id": "BR.77001122334455",
                            "id": "wamid.BSUID1",
                            "timestamp": "1751300000",
                            "type": "text",
                            "text": {"body": "Bom dia"},
                            "history_context": {"status": "READ"},
                        }
                    ],
                }
            ],
        }
    ),
    # 1f: an empty chunk (progress only)
    "history_chunk_empty": history({"metadata": {"phase": 1, "chunk_order": 4, "progress": 60}, "threads": []}),
    # 1b: media follow-up, customer -> business (messages[])
    "history_media_followup_messages": envelope(
        "history",
        {
            "messaging_product": "whatsapp",
            "metadata": META,
            "contacts": [{"wa_id": CUSTOMER, "user_id": BSUID, "profile": {"name": "Lucía"}}],
            "messages": [
                {
                    "from": CUSTOMER,
                    "id": "wamid.MEDIAIN1",
                    "timestamp": "1751400500",
                    "type": "image",
                    "image": {"mime_type": "image/jpeg", "sha256": "ab12", "id": "771234500998800"},
                }
            ],
        },
    ),
    # 1b: media follow-up, business -> customer (message_echoes[])
    "history_media_followup_echoes": envelope(
        "history",
        {
            "messaging_product": "whatsapp",
            "metadata": META,
            "contacts": [{"wa_id": CUSTOMER, "user_id": BSUID}],
            "message_echoes": [
                {
                    "from": BIZ,
                    "to": CUSTOMER,
                    "to_user_id": BSUID,
                    "id": W_MEDIA,
                    "timestamp": "1751400120",
                    "type": "image",
                    "image": {
                        "mime_type": "image/jpeg",
                        "sha256": "9c1ef0",
                        "id": "771234500998877",
                        "caption": "Catálogo julio",
                    },
                }
            ],
        },
    ),
    # 1c: declined, in the normal envelope ...
    "history_declined": envelope("history", DECLINED_VALUE),
    # ... and as Meta documents it: the bare value, no envelope
    "history_declined_bare": DECLINED_VALUE,
    # 2: contacts add + remove
    "state_sync": envelope(
        "smb_app_state_sync",
        {
            "messaging_product": "whatsapp",
            "metadata": META,
            "state_sync": [
                {
                    "type": "contact",
                    "contact": {
                        "full_name": "Lucía Fernández",
                        "first_name": "Lucía",
                        "phone_number": CUSTOMER,
                        "user_id": BSUID,
                    },
                    "action": "add",
                    "metadata": {"timestamp": "1751401000"},
                },
                {
                    "type": "contact",
                    "contact": {"phone_number": "5491177770002"},
                    "action": "remove",
                    "metadata": {"timestamp": "1751401005"},
                },
            ],
        },
    ),
    # 3: an App echo (text) and a revoke
    "echo_text": envelope(
        "smb_message_echoes",
        {
            "messaging_product": "whatsapp",
            "metadata": META,
            "contacts": [{"wa_id": CUSTOMER, "user_id": BSUID}],
            "message_echoes": [
                {
                    "from": BIZ,
                    "to": CUSTOMER,
                    "to_user_id": BSUID,
                    "id": "wamid.ECHO1",
                    "timestamp": "1751402000",
                    "type": "text",
                    "text": {"body": "Sí, te lo reservo hasta el viernes."},
                }
            ],
        },
    ),
    "echo_revoke": envelope(
        "smb_message_echoes",
        {
            "messaging_product": "whatsapp",
            "metadata": META,
            "message_echoes": [
                {
                    "from": BIZ,
                    "to": CUSTOMER,
                    "id": "wamid.ECHO2",
                    "timestamp": "1751402100",
                    "type": "revoke",
                    "revoke": {"original_message_id": "wamid.ECHO1"},
                }
            ],
        },
    ),
    # 4: live inbound text, an unsupported 131060, a failed status, out-of-band errors
    "messages_text": envelope(
        "messages",
        {
            "messaging_product": "whatsapp",
            "metadata": META,
            "contacts": [{"profile": {"name": "Lucía F."}, "wa_id": CUSTOMER, "user_id": BSUID}],
            "messages": [
                {
                    "from": CUSTOMER,
                    "from_user_id": BSUID,
                    "id": "wamid.LIVE1",
                    "timestamp": "1751403000",
                    "type": "text",
                    "text": {"body": "¿Hacen envíos?"},
                    "context": {"from": BIZ, "id": "wamid.PRIOR"},
                }
            ],
        },
    ),
    "messages_unsupported": envelope(
        "messages",
        {
            "messaging_product": "whatsapp",
            "metadata": META,
            "contacts": [{"profile": {"name": "New"}, "wa_id": "5511977770003"}],
            "messages": [
                {
                    "from": "5511977770003",
                    "id": "wamid.UNSUP1",
                    "timestamp": "1751403100",
                    "type": "unsupported",
                    "errors": [
                        {
                            "code": 131060,
                            "title": "Message type is currently not supported",
                            "message": "Message type is currently not supported",
                            "error_data": {"details": "Message type is currently not supported"},
                        }
                    ],
                }
            ],
        },
    ),
    "messages_status_failed": envelope(
        "messages",
        {
            "messaging_product": "whatsapp",
            "metadata": META,
            "statuses": [
                {
                    "id": "wamid.OUT1",
                    "status": "failed",
                    "timestamp": "1751403600",
                    "recipient_id": CUSTOMER,
                    "recipient_user_id": BSUID,
                    "errors": [
                        {
                            "code": 131049,
                            "title": "This message was not delivered to maintain healthy ecosystem engagement.",
                            "message": "This message was not delivered to maintain healthy ecosystem engagement.",
                            "error_data": {"details": "Message failed to be delivered."},
                        }
                    ],
                }
            ],
        },
    ),
    "messages_errors": envelope(
        "messages",
        {
            "messaging_product": "whatsapp",
            "metadata": META,
            "errors": [{"code": 131000, "title": "Something went wrong", "message": "Something went wrong"}],
        },
    ),
    # 6: account updates
    "account_update_partner_removed": envelope(
        "account_update",
        {
            "phone_number": BIZ,
            "event": "PARTNER_REMOVED",
            "disconnection_info": {"reason": "PRIMARY_INACTIVITY", "initiated_by": "SYSTEM"},
        },
        time=1751404000,
    ),
    "account_update_offboarded": envelope("account_update", {"event": "ACCOUNT_OFFBOARDED"}, time=1751404100),
    "account_update_reconnected": envelope("account_update", {"event": "ACCOUNT_RECONNECTED"}, time=1751404200),
    **FIDELITY_SAMPLES,
}


DEMO_MEDIA = Path(__file__).resolve().parents[2] / "events" / "demo" / "media"
"""The files Meta (the simulator) holds for the demo's media messages (how they were made: its README)."""


def demo_sha256(name: str, *, base64_form: bool = True) -> str:
    """Meta's digest of a demo file, as live webhooks carry it (base64) or history's example (hex)."""
    digest = hashlib.sha256((DEMO_MEDIA / name).read_bytes()).digest()
    return base64.b64encode(digest).decode() if base64_form else digest.hex()


def demo_onboarding() -> list[tuple[str, Any]]:
    """A realistic coexistence onboarding, in the order Meta might deliver it (chunks shuffled)."""
    ana, bruno, carla, novo = "5511966660001", "551177770002", "5511988880003", "5511999990004"
    biz = "5511955550100"
    meta = {"display_phone_number": biz, "phone_number_id": PNID}

    def wrap(field: str, value: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": WABA,
                    "changes": [
                        {"field": field, "value": {"messaging_product": "whatsapp", "metadata": meta, **value}}
                    ],
                }
            ],
        }

    def msg(wamid: str, sender: str, ts: int, body: str, status: str = "READ") -> dict[str, Any]:
        return {
            "from": sender,
            "id": wamid,
            "timestamp": str(ts),
            "type": "text",
            "text": {"body": body},
            "history_context": {"status": status},
        }

    def chunk(phase: int, order: int, progress: int, threads: list[dict[str, Any]]) -> dict[str, Any]:
        return wrap(
            "history",
            {
                "history": [
                    {"metadata": {"phase": phase, "chunk_order": order, "progress": progress}, "threads": threads}
                ]
            },
        )

    day = 86400
    t0 = 1764000000
    contacts = wrap(
        "smb_app_state_sync",
        {
            "state_sync": [
                {
                    "type": "contact",
                    "contact": {"full_name": "Ana Souza", "first_name": "Ana", "phone_number": ana},
                    "action": "add",
                    "metadata": {"timestamp": str(t0)},
                },
                {
                    "type": "contact",
                    "contact": {"full_name": "Bruno Lima", "first_name": "Bruno", "phone_number": "55119" + bruno[4:]},
                    "action": "add",
                    "metadata": {"timestamp": str(t0)},
                },
            ]
        },
    )
    phase0 = chunk(
        0,
        1,
        35,
        [
            {
                "id": ana,
                "context": {"wa_id": ana},
                "messages": [
                    msg("wamid.DEMO.a3", ana, t0 - 3600, "Vocês entregam amanhã?"),
                    msg("wamid.DEMO.a4", biz, t0 - 3500, "Entregamos sim! 🚚", "DELIVERED"),
                ],
            }
        ],
    )
    phase1 = chunk(
        1,
        1,
        70,
        [
            {
                "id": ana,
                "messages": [
                    msg("wamid.DEMO.a1", ana, t0 - 20 * day, "Oi, tudo bem? Qual o preço do modelo azul?"),
                    msg("wamid.DEMO.a2", biz, t0 - 20 * day + 300, "Oi Ana! R$ 129,90."),
                ],
            },
            {
                "id": bruno,
                "messages": [
                    msg("wamid.DEMO.b1", bruno, t0 - 10 * day, "Bom dia, chegou meu pedido."),
                    {
                        "from": biz,
                        "id": "wamid.DEMO.b2",
                        "timestamp": str(t0 - 10 * day + 60),
                        "type": "media_placeholder",
                        "history_context": {"status": "READ"},
                    },
                ],
            },
        ],
    )
    phase2 = chunk(
        2,
        1,
        100,
        [
            {
                "id": carla,
                "messages": [
                    msg("wamid.DEMO.c1", carla, t0 - 120 * day, "Vocês abrem no feriado?"),
                    msg("wamid.DEMO.c2", biz, t0 - 120 * day + 900, "Abrimos das 9h às 14h."),
                ],
            }
        ],
    )
    followup = wrap(
        "history",
        {
            "contacts": [{"wa_id": bruno}],
            "message_echoes": [
                {
                    "from": biz,
                    "to": bruno,
                    "id": "wamid.DEMO.b2",
                    "timestamp": str(t0 - 10 * day + 60),
                    "type": "image",
                    "image": {
                        "mime_type": "image/jpeg",
                        "sha256": demo_sha256("photo.jpg", base64_form=False),  # history's example: hex
                        "id": "880011223344",
                        "caption": "Nota fiscal",
                    },
                }
            ],
        },
    )
    live_ana = wrap(
        "messages",
        {
            "contacts": [{"profile": {"name": "Ana S."}, "wa_id": ana}],
            "messages": [
                {
                    "from": ana,
                    "id": "wamid.DEMO.live1",
                    "timestamp": str(t0 + day),
                    "type": "text",
                    "text": {"body": "Voltei! Ainda tem o azul?"},
                }
            ],
        },
    )
    live_new = wrap(
        "messages",
        {
            "contacts": [{"profile": {"name": "Diego"}, "wa_id": novo}],
            "messages": [
                {
                    "from": novo,
                    "id": "wamid.DEMO.live2",
                    "timestamp": str(t0 + day + 60),
                    "type": "text",
                    "text": {"body": "Olá! Vi o anúncio de vocês."},
                }
            ],
        },
    )
    echo = wrap(
        "smb_message_echoes",
        {
            "contacts": [{"wa_id": ana}],
            "message_echoes": [
                {
                    "from": biz,
                    "to": ana,
                    "id": "wamid.DEMO.echo1",
                    "timestamp": str(t0 + day + 120),
                    "type": "text",
                    "text": {"body": "Tem sim, Ana! Separo um para você?"},
                }
            ],
        },
    )
    voice = wrap(
        "messages",
        {
            "contacts": [{"profile": {"name": "Ana S."}, "wa_id": ana}],
            "messages": [
                {
                    "from": ana,
                    "id": "wamid.DEMO.voice1",
                    "timestamp": str(t0 + day + 180),
                    "type": "audio",
                    "audio": {
                        "mime_type": "audio/ogg; codecs=opus",
                        "sha256": demo_sha256("voice.ogg"),
                        "id": "880011223345",
                        "voice": True,
                    },
                }
            ],
        },
    )
    document = wrap(
        "smb_message_echoes",
        {
            "message_echoes": [
                {
                    "from": biz,
                    "to": ana,
                    "id": "wamid.DEMO.echo2",
                    "timestamp": str(t0 + day + 240),
                    "type": "document",
                    "document": {
                        "mime_type": "application/pdf",
                        "sha256": demo_sha256("orcamento.pdf"),
                        "id": "880011223346",
                        "filename": "orcamento-2031.pdf",
                        "caption": "Seu orçamento, Ana",
                    },
                }
            ],
        },
    )
    sticker = wrap(
        "messages",
        {
            "contacts": [{"profile": {"name": "Diego"}, "wa_id": novo}],
            "messages": [
                {
                    "from": novo,
                    "id": "wamid.DEMO.sticker1",
                    "timestamp": str(t0 + day + 300),
                    "type": "sticker",
                    "sticker": {
                        "mime_type": "image/webp",
                        "sha256": demo_sha256("sticker.webp"),
                        "id": "880011223347",
                        "animated": False,
                    },
                }
            ],
        },
    )
    return [
        ("01_contacts", contacts),
        ("02_history_phase2", phase2),
        ("03_history_phase0", phase0),
        ("04_history_phase1", phase1),
        ("05_history_phase0_again", phase0),
        ("06_media_followup", followup),
        ("07_live_history_lead", live_ana),
        ("08_live_new_contact", live_new),
        ("09_app_echo", echo),
        ("10_live_voice_note", voice),
        ("11_app_echo_document", document),
        ("12_live_sticker", sticker),
    ]
