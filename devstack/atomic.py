"""Each request to the emulated AWS is applied atomically, as AWS applies it.

moto's server answers every request on a thread of its own, and its backends take no lock: a
conditional ``UpdateItem`` checks its condition, then applies its actions one by one, while another
request's write lands in between. Measured through the local stack's endpoint: 12 threads racing
optimistic updates (``SET a0…a29 = :w, n = :new IF n = :old``) had 310 updates accepted where the
final ``n`` said 229 (81 that DynamoDB would have refused), and an item torn between two writes. The
stack could then show states AWS never reaches (a change logged ``routed`` after its consumer had
rejected it). The same class of race exists where the project relies on SQS and S3 behaving exactly:

* **DynamoDB**: every request (a condition and its write, a transaction, a batch, and a read with the
  serialization of its answer) runs under one lock. Per request, as DynamoDB promises; one lock for
  the whole service is enough here (``make bench``: ``docs/performance.md``).
* **SQS**: ``DeleteMessage`` rebuilds the queue's list of messages, so a ``SendMessage`` landing
  meanwhile was dropped (a message lost), and two ``ReceiveMessage`` on one queue (a dead-letter
  consumer and ``make redrive``) could take the same message. Every SQS request runs under one lock;
  a long poll waits *outside* it (woken by the next request), so a waiting consumer never blocks a
  sender.
* **S3**: ``PutObject`` with ``If-None-Match: *`` (the archive's write-once) checks that the key is
  absent, then writes: two concurrent deliveries of one body both won. Every object write (put,
  post: multipart completion, delete) runs under one lock.

:func:`install` is called by :func:`devstack.moto_patches.install` (the local stack, the integration
tier and the benchmarks); ``devstack.moto_patches.unpatched()`` runs moto as it is, races included.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from moto.dynamodb.responses import DynamoHandler
from moto.s3.responses import S3Response
from moto.sqs.models import SQSBackend
from moto.sqs.responses import SQSResponse

DYNAMODB = threading.RLock()
SQS = threading.Condition(threading.RLock())
S3 = threading.RLock()
LONG_POLL_WAKE_SECONDS = 0.25  # a message turning visible again (its visibility timeout over) notifies nobody

ORIGINALS: dict[tuple[type, str], Callable[..., Any]] = {
    (DynamoHandler, "call_action"): DynamoHandler.call_action,
    (SQSResponse, "call_action"): SQSResponse.call_action,
    (SQSBackend, "receive_message"): SQSBackend.receive_message,
    (S3Response, "_key_response_put"): S3Response._key_response_put,
    (S3Response, "_key_response_post"): S3Response._key_response_post,
    (S3Response, "_key_response_delete"): S3Response._key_response_delete,
}
_installing = threading.Lock()


def _under(lock: Any, original: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(original)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(*args, **kwargs)

    return locked


def _sqs_request(original: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(original)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with SQS:
            try:
                return original(*args, **kwargs)
            finally:
                SQS.notify_all()  # a long poll waiting for a message looks again

    return locked


def _receive_message(
    self: SQSBackend,
    queue_name: str,
    count: int,
    wait_seconds_timeout: int,
    visibility_timeout: int,
    message_attribute_names: list[str] | None = None,
) -> Any:
    """moto's receive without its wait: one pass over the queue under the lock, then (long poll) a
    wait that lets the lock go, until a message comes or the wait is over."""
    receive = ORIGINALS[(SQSBackend, "receive_message")]
    ends = time.monotonic() + wait_seconds_timeout
    with SQS:
        while True:
            found = receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            left = ends - time.monotonic()
            if found or left <= 0:
                return found
            SQS.wait(timeout=min(left, LONG_POLL_WAKE_SECONDS))


def _replacements() -> dict[tuple[type, str], Callable[..., Any]]:
    return {
        (DynamoHandler, "call_action"): _under(DYNAMODB, ORIGINALS[(DynamoHandler, "call_action")]),
        (SQSResponse, "call_action"): _sqs_request(ORIGINALS[(SQSResponse, "call_action")]),
        (SQSBackend, "receive_message"): _receive_message,
        **{
            (S3Response, name): _under(S3, ORIGINALS[(S3Response, name)])
            for name in ("_key_response_put", "_key_response_post", "_key_response_delete")
        },
    }


_REPLACEMENTS = _replacements()


def install() -> None:
    with _installing:
        for (owner, name), replacement in _REPLACEMENTS.items():
            setattr(owner, name, replacement)


def uninstall() -> None:
    with _installing:
        for (owner, name), original in ORIGINALS.items():
            setattr(owner, name, original)


def installed() -> bool:
    return all(getattr(owner, name) is replacement for (owner, name), replacement in _REPLACEMENTS.items())
