"""HTTP limits of a real `vestibule serve` process, over raw sockets: a 32 MiB header, 2,000 headers and a
100 KiB request line are refused (431) after a bounded read, without the server's memory growing by the size
of what was sent; ordinary requests with large but sane heads still pass; an AWS body over 1 MiB is 413."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from support import free_port

pytestmark = pytest.mark.own_sqlite  # its servers and commands run on their own SQLite data directory

MIB = 1024 * 1024


@dataclass
class Served:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss(self) -> int:
        """The peak resident memory in bytes (VmHWM) of the server and its worker processes, summed."""
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids += [int(p) for p in children.read_text().split()]
        total = 0
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
        assert total, "no VmHWM in /proc status"
        return total


HEAD_TIMEOUT, BODY_TIMEOUT = 2.0, 3.0  # short, so the slow-client tests take seconds


@pytest.fixture(scope="module", params=[1, 2], ids=["one-process", "two-workers"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`vestibule serve` as an operator starts it (its own SQLite database: the limits are the HTTP server's),
    in one process and with two worker processes."""
    workers: int = request.param
    port = free_port()
    data = tmp_path_factory.mktemp("served")
    log = data / "serve.log"
    env = {**os.environ, "VESTIBULE_DATA_DIR": str(data), "VESTIBULE_MASTER_KEY": "22" * 32,
           "VESTIBULE_LOG_LEVEL": "warning", "VESTIBULE_ARGON2_MEMORY_KIB": "1024", "VESTIBULE_ARGON2_TIME_COST": "1",
           "VESTIBULE_HTTP_HEAD_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
           "VESTIBULE_HTTP_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT)}
    for name in ("VESTIBULE_DATABASE_URL", "VESTIBULE_REDIS_URL", "VESTIBULE_PUBLIC_URL"):
        env.pop(name, None)
    with log.open("wb") as stderr:  # the child keeps its own descriptor
        process = subprocess.Popen([sys.executable, "-m", "vestibule.cli", "serve", "--port", str(port),
                                    "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    served = Served(port, process)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(served.url + "/_health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(10)
            raise AssertionError(f"vestibule serve did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    try:
        yield served
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@dataclass
class Exchange:
    response: bytes
    sent: int

    @property
    def status(self) -> int:
        assert self.response.startswith(b"HTTP/1.1 "), self.response[:200]
        return int(self.response[9:12])


def _exchange(port: int, start: bytes, rest: Iterable[bytes] = ()) -> Exchange:
    """Send `start`, then the chunks of `rest` until the server answers or hangs up; read its answer."""
    sent = 0
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(start)
            sent += len(start)
            for chunk in rest:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
                if b"\r\n\r\n" in answer and b"connection: close" not in answer.lower():
                    break
        except (ConnectionResetError, TimeoutError):
            pass
    return Exchange(answer, sent)


def _filler(total: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    block = b"a" * chunk
    for _ in range(total // chunk):
        yield block
    yield b"\r\n\r\n"


def test_a_32_mib_header_is_refused_after_a_bounded_read(served: Served) -> None:
    before = served.peak_rss()
    got = _exchange(served.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ", _filler(32 * MIB))
    assert got.status in (431, 400), got.response[:300]
    assert got.sent < 16 * MIB, "the server kept reading a header it should have refused"
    assert served.peak_rss() - before < 16 * MIB, "the server buffered the header"


def test_two_thousand_headers_are_refused(served: Served) -> None:
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(2000)) + b"\r\n"
    got = _exchange(served.port, head)
    assert got.status in (431, 400), got.response[:300]


def test_a_100_kib_request_line_is_refused(served: Served) -> None:
    got = _exchange(served.port, b"GET /?q=" + b"a" * (100 * 1024) + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert got.status in (414, 431, 400), got.response[:300]


def test_sane_large_heads_still_pass(served: Served) -> None:
    headers = {f"X-Extra-{i}": "v" * 100 for i in range(60)}
    headers["Cookie"] = "c=" + "x" * 8000
    assert httpx.get(served.url + "/_health", headers=headers, timeout=10).status_code == 200
    # keep-alive: several requests on one connection, each within the limits
    with httpx.Client(base_url=served.url, timeout=10) as client:
        for _ in range(5):
            assert client.get("/_health", headers=headers).status_code == 200


def test_an_aws_body_over_a_mib_is_413_and_the_connection_closes(served: Served) -> None:
    head = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"X-Amz-Date: 20240101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=x\r\n"
            b"Content-Length: %d\r\n\r\n" % (64 * MIB))
    got = _exchange(served.port, head, _filler(64 * MIB))
    assert got.status == 413, got.response[:300]
    assert b"\r\nconnection: close\r\n" in got.response.lower()
    assert got.sent < 32 * MIB


def test_a_second_host_header_is_refused(served: Served) -> None:
    """The first Host would win in the app while a proxy may route by another: 400, as RFC 9112 asks."""
    host = f"127.0.0.1:{served.port}".encode()
    got = _exchange(served.port, b"GET /_dev/mail HTTP/1.1\r\nHost: " + host + b"\r\nHost: evil.example\r\n\r\n")
    assert got.status == 400, got.response[:300]
    assert _exchange(served.port, b"GET /_health HTTP/1.1\r\nHost: " + host + b"\r\n\r\n").status == 200


def _close_times(socks: dict[str, socket.socket], trickle: dict[str, bytes], within: float = 12.0
                 ) -> dict[str, float]:
    """Seconds from now until the server closes each socket, sending a byte of `trickle[name]` every 0.3 s."""
    start = time.monotonic()
    closed: dict[str, float] = {}
    sent = dict.fromkeys(socks, 0)
    while len(closed) < len(socks) and time.monotonic() - start < within:
        open_socks = [s for name, s in socks.items() if name not in closed]
        readable, _, _ = select.select(open_socks, [], [], 0.3)
        for name, sock in socks.items():
            if name in closed:
                continue
            if sock in readable:
                try:
                    gone = not sock.recv(65536)
                except ConnectionResetError:
                    gone = True
                if gone:
                    closed[name] = time.monotonic() - start
                    continue
            data = trickle.get(name, b"")
            if sent[name] < len(data):
                try:
                    sock.send(data[sent[name]:sent[name] + 1])
                    sent[name] += 1
                except (BrokenPipeError, ConnectionResetError):
                    closed[name] = time.monotonic() - start
    return closed


def test_slow_clients_are_cut_off(served: Served) -> None:
    """A connection that sends nothing, a head trickled a byte at a time, and a body that stops arriving are
    each closed once their time is up (uvicorn alone kept all three open), while others are served."""
    host = f"127.0.0.1:{served.port}".encode()
    socks = {name: socket.create_connection(("127.0.0.1", served.port)) for name in ("silent", "trickled", "stalled")}
    socks["trickled"].sendall(b"GET /_health HTTP/1.1\r\n")
    socks["stalled"].sendall(b"POST / HTTP/1.1\r\nHost: " + host + b"\r\n"
                             b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
                             b"Action=GetCallerIdentity")
    try:
        assert httpx.get(served.url + "/_health", timeout=5).status_code == 200
        closed = _close_times(socks, {"trickled": b"X-Slow: " + b"a" * 60})
        assert set(closed) == set(socks), f"still open: {set(socks) - set(closed)}"
        slack = 2.5  # the sweep runs every second; the machine is busy
        assert HEAD_TIMEOUT - 1.1 <= closed["silent"] <= HEAD_TIMEOUT + slack, closed
        assert HEAD_TIMEOUT - 1.1 <= closed["trickled"] <= HEAD_TIMEOUT + slack, closed  # trickling does not help
        assert BODY_TIMEOUT - 1.1 <= closed["stalled"] <= BODY_TIMEOUT + slack, closed
        assert httpx.get(served.url + "/_health", timeout=5).status_code == 200
    finally:
        for sock in socks.values():
            sock.close()


def test_an_aws_body_declared_over_a_mib_is_refused_before_it_is_sent(served: Served) -> None:
    host = f"127.0.0.1:{served.port}".encode()
    started = time.monotonic()
    got = _exchange(served.port, b"POST / HTTP/1.1\r\nHost: " + host + b"\r\nContent-Type: "
                    b"application/x-www-form-urlencoded\r\nContent-Length: 100000000\r\n\r\n")
    assert got.status == 413 and b"RequestEntityTooLarge" in got.response, got.response[:300]
    assert time.monotonic() - started < BODY_TIMEOUT, "answered at once, not when the body timed out"
