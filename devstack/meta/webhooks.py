"""Meta's side of the webhook: signed posts to the stack's ``/webhook``, at a time of their own,
retried until acknowledged (Meta retries a non-200 with backoff for days; the simulator a few times).

The simulator posts through :class:`WebhookSender`: the status webhooks that follow each send
(``sent``, ``delivered``, ``read``, or ``failed``), and the webhooks a demo or a test hands it
(:meth:`devstack.meta.MetaSimulator.deliver`).
"""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from whatrack.webhooks.signature import sign

log = logging.getLogger("devstack.meta")


class NowhereToPost(RuntimeError):
    """A webhook to post before the simulator was told where (``deliver_to``)."""


Sink = Callable[[bytes, dict[str, str]], int]
"""Posts one body with its headers; answers the HTTP status."""
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


def compact(document: dict[str, Any]) -> bytes:
    """A body as Meta sends it: compact JSON, non-ASCII escaped."""
    return json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode()


def http_sink(url: str, timeout: float = 30.0) -> Sink:
    def post(raw: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(url, data=raw, method="POST", headers=headers)  # noqa: S310 - 127.0.0.1
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    return post


@dataclass(order=True)
class _Due:
    at: float
    sequence: int
    raw: bytes = field(compare=False)
    attempt: int = field(compare=False, default=0)


@dataclass
class WebhookSender:
    """A thread posting signed bodies when they are due; a refused post is tried again later."""

    app_secret: str
    clock: Callable[[], float] = time.monotonic
    sink: Sink | None = None
    posted: list[tuple[bytes, int]] = field(default_factory=list)
    """Every attempt: the body and the status it got (``0``: no answer)."""
    given_up: list[bytes] = field(default_factory=list)
    _queue: list[_Due] = field(default_factory=list)
    _sequence: int = 0
    _wake: threading.Condition = field(default_factory=threading.Condition)
    _stopped: bool = False
    _thread: threading.Thread | None = None
    _busy: int = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="meta-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def send(self, document: dict[str, Any], delay: float = 0.0) -> bytes:
        """Post ``document`` (signed) after ``delay`` seconds; returns the raw body."""
        raw = compact(document)
        with self._wake:
            self._sequence += 1
            heapq.heappush(self._queue, _Due(self.clock() + delay, self._sequence, raw))
            self._wake.notify_all()
        return raw

    def post_now(self, document: dict[str, Any]) -> int:
        """Post ``document`` at once, in the caller's thread; the status the stack answered."""
        raw = compact(document)
        return self._post(raw)

    @property
    def pending(self) -> int:
        """Bodies not yet acknowledged (waiting for their time, or being posted)."""
        with self._wake:
            return len(self._queue) + self._busy

    def _headers(self, raw: bytes) -> dict[str, str]:
        return {"content-type": "application/json", "x-hub-signature-256": sign(raw, self.app_secret)}

    def _post(self, raw: bytes) -> int:
        if self.sink is None:
            raise NowhereToPost("the simulator has nowhere to post webhooks: call deliver_to() first")
        try:
            status = self.sink(raw, self._headers(raw))
        except Exception as error:  # no answer (refused, reset, garbled): Meta tries again later
            log.warning("webhook post failed: %s: %s", type(error).__name__, error)
            status = 0
        self.posted.append((raw, status))
        return status

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (not self._queue or self._queue[0].at > self.clock()):
                    timeout = self._queue[0].at - self.clock() if self._queue else None
                    self._wake.wait(timeout=timeout)
                if self._stopped:
                    return
                due = heapq.heappop(self._queue)
                self._busy += 1
            status = self._post(due.raw)
            with self._wake:
                self._busy -= 1
                if status == 200:
                    continue
                if due.attempt >= len(RETRY_DELAYS):
                    log.error("webhook given up after %d attempts (last status %s)", due.attempt + 1, status)
                    self.given_up.append(due.raw)
                    continue
                # Meta tries again later, as long as it is not acknowledged
                again = _Due(self.clock() + RETRY_DELAYS[due.attempt], due.sequence, due.raw, due.attempt + 1)
                heapq.heappush(self._queue, again)
