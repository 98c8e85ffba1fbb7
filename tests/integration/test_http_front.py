"""The local stack's HTTP front on 127.0.0.1: a client that hangs up is not an error of the stack."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any

import pytest

from devstack.http_front import Route, make_server

HANG_GUARD_SECONDS = 60  # each step takes milliseconds; this only keeps a broken server from hanging


class SlowBigAnswer:
    """A function that answers 8 MB once released: the test releases it after the client hung up."""

    logical_id = "SlowBigAnswer"

    def __init__(self) -> None:
        self.invoked = threading.Event()
        self.released = threading.Event()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.invoked.set()
        self.released.wait(HANG_GUARD_SECONDS)
        return {"statusCode": 200, "body": "x" * 8_000_000}


def test_a_cancelled_request_leaves_no_traceback_and_the_next_is_served(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the front with one slow route (as the dashboard's reads are, seen from a page change)
    function = SlowBigAnswer()
    server = make_server("127.0.0.1", 0, [Route("GET", "/slow", function)], lambda: True)  # type: ignore[arg-type]
    served = threading.Event()
    shutdown_request = server.shutdown_request

    def done(request: Any) -> None:  # the last step of a request's thread, after any error was handled
        shutdown_request(request)
        served.set()

    server.shutdown_request = done  # type: ignore[method-assign]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    try:
        # When a client asks and resets the connection before the answer (the browser's abort)
        client = socket.create_connection((str(host), int(port)))
        client.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        assert function.invoked.wait(HANG_GUARD_SECONDS)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        function.released.set()
        # the answer is written into the reset connection meanwhile: wait until that request is done
        assert served.wait(HANG_GUARD_SECONDS), "the cancelled request was never finished"
        # Then nothing is printed, and the next request is served
        with socket.create_connection((str(host), int(port))) as again:
            again.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert again.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        server.shutdown()
        server.server_close()
    assert "Traceback" not in capsys.readouterr().err


@pytest.fixture
def front() -> Any:
    server = make_server("127.0.0.1", 0, [], lambda: True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[:2]
    server.shutdown()
    server.server_close()


def test_a_client_that_writes_its_whole_oversized_body_first_reads_the_413(front: Any) -> None:
    # Given a client that sends 12 MiB (over the bound) before reading anything (issue 10, defect 11)
    host, port = front
    size = 12 * 1024 * 1024
    with socket.create_connection((str(host), int(port)), timeout=10) as client:
        client.sendall(f"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n".encode())
        client.sendall(b"x" * size)
        # Then it reads the 413, not a connection reset
        answer = b""
        while chunk := client.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413") and b"Request Entity Too Large" in answer


@pytest.mark.parametrize("length", ["-1", "-5000", "+10", "ten", "1e3"])
def test_a_content_length_that_is_not_a_count_is_400_without_reading(front: Any, length: str) -> None:
    host, port = front
    with socket.create_connection((str(host), int(port)), timeout=5) as client:
        client.sendall(f"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{{}}".encode())
        assert client.recv(64).startswith(b"HTTP/1.1 400")
