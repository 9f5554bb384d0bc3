"""`devlint probe` with hostile or non-ASCII input: what reaches a real HTTP server on loopback.

The server is a plain socket server in a thread of this test (127.0.0.1, a free port): it
records each request's bytes exactly as received and answers every request with a 204 that
allows the request's Origin, and a `Server` header holding terminal escapes. devlint runs as
a real process (tests/runner.devlint).
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Iterator, List

import pytest

from devlint import probe
from tests.listeners import free_port
from tests.runner import devlint


class RawServer:
    """An HTTP/1.1 server that records requests (bytes) and answers each one the same way."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sock = socket.create_server(("127.0.0.1", self.port))
        self.sock.settimeout(0.2)
        self.requests: List[bytes] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.requests.append(data)
                origin = next((line.split(b":", 1)[1].strip() for line in data.split(b"\r\n")
                               if line.lower().startswith(b"origin:")), b"*")
                conn.sendall(b"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: " + origin +
                             b"\r\nAccess-Control-Allow-Headers: content-type\r\n"
                             b"Server: raw\x1b[31mred\x07\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def close(self) -> None:
        self.done.set()
        self.sock.close()
        self.thread.join(5)

    def request_lines(self) -> List[List[bytes]]:
        return [request.split(b"\r\n\r\n", 1)[0].split(b"\r\n") for request in self.requests]


@pytest.fixture
def server() -> Iterator[RawServer]:
    running = RawServer()
    try:
        yield running
    finally:
        running.close()


def flask_project(root: Path, port: int, host: str) -> Path:
    """A Flask app folder whose .flaskenv gives the port and host (the host's text as
    written in the file: a quoted dotenv value, where \\n is a newline)."""
    root.mkdir()
    (root / ".git").mkdir()
    (root / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    (root / ".flaskenv").write_text(f'FLASK_APP=app\nFLASK_RUN_PORT={port}\nFLASK_RUN_HOST="{host}"\n')
    return root


def test_non_ascii_path_and_origin_are_encoded(tmp_path: Path, server: RawServer) -> None:
    project = flask_project(tmp_path / "api", server.port, "127.0.0.1")
    result = devlint(project, "probe", "--path", "/bücher?q=ü&x=1", "--origin", "http://Bücher.localhost:80/")
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    lines = server.request_lines()
    assert [request[0] for request in lines] == [b"OPTIONS /b%C3%BCcher?q=%C3%BC&x=1 HTTP/1.1",
                                                  b"GET /b%C3%BCcher?q=%C3%BC&x=1 HTTP/1.1"]
    assert all(b"Origin: http://xn--bcher-kva.localhost" in request for request in lines)
    assert "(Origin: http://xn--bcher-kva.localhost)" in result.stdout


def test_a_unicode_host_from_a_project_file_goes_out_as_idna(tmp_path: Path, server: RawServer) -> None:
    project = flask_project(tmp_path / "api", server.port, "bücher.localhost")
    result = devlint(project, "probe")
    assert "Traceback" not in result.stderr
    hosts = {line for request in server.request_lines() for line in request if line.startswith(b"Host:")}
    assert hosts == {f"Host: xn--bcher-kva.localhost:{server.port}".encode()}, result.stdout + result.stderr


def test_a_newline_in_a_host_from_a_project_file_is_refused(tmp_path: Path, server: RawServer) -> None:
    """A .flaskenv host with a newline would add a header to the request: refused (exit 2),
    naming the file, line and key, and nothing is sent."""
    project = flask_project(tmp_path / "api", server.port, "localhost\\nX-Injected: 1")
    result = devlint(project, "probe")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("devlint: .flaskenv:3 FLASK_RUN_HOST: host 'localhost\\nX-Injected: 1' "
                                    "cannot be sent in an HTTP request"), result.stderr
    assert server.requests == []


@pytest.mark.parametrize("option, value", [
    ("--path", "/a\rX-Injected: 1"), ("--path", "/bell\x07"), ("--path", "/esc\x1b[2J"),
    ("--origin", "http://a\rX-Injected: 1"), ("--origin", "http://localhost:4200\x1b"),
    ("--origin", "ftp://localhost"), ("--origin", "http://localhost:99999"), ("--origin", "localhost:4200"),
])
def test_control_characters_on_the_command_line_are_a_usage_error(tmp_path: Path, server: RawServer,
                                                                  option: str, value: str) -> None:
    project = flask_project(tmp_path / "api", server.port, "127.0.0.1")
    result = devlint(project, "probe", option, value)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"devlint: {option} ") and result.stderr.count("\n") == 1
    assert not any(c in result.stderr for c in "\r\x07\x1b")
    assert server.requests == []


def test_a_server_header_with_escapes_is_shown_escaped(tmp_path: Path, server: RawServer) -> None:
    project = flask_project(tmp_path / "api", server.port, "127.0.0.1")
    result = devlint(project, "probe")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Server: raw\\x1b[31mred\\x07" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


@pytest.mark.parametrize("origin, sent", [
    ("http://localhost:4200", "http://localhost:4200"), ("HTTP://LOCALHOST:4200/", "http://localhost:4200"),
    ("https://example.test:443", "https://example.test"), ("http://[::1]:8080", "http://[::1]:8080"),
    ("http://München.de:8080", "http://xn--mnchen-3ya.de:8080"), ("null", "null"),
])
def test_origins_are_serialised_as_browsers_send_them(origin: str, sent: str) -> None:
    assert probe.serialise_origin(origin) == sent
