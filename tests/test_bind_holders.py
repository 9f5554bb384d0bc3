"""Sockets that are not listening but make a server's bind fail, with real sockets here.

A socket bound without listening (a port reservation), a client socket bound to the
address before it connects, and a loopback connection whose ephemeral local port is the
server's port: each answers nobody, yet Werkzeug's or Node's bind (SO_REUSEADDR) fails
with EADDRINUSE. `devlint check` must report them as held, say they are not listening,
and each test confirms the verdict with a real server bind (http.server's HTTPServer,
which sets SO_REUSEADDR as Werkzeug does). A bound socket that set SO_REUSEADDR itself
does not block such a server: the bind probe clears it, and the real bind confirms.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest

from devlint.sockets import linux, netlink, scan
from tests.listeners import free_port, open_listener, other_user_python
from tests.runner import SCRIPT, Arg, devlint, devlint_argv, devlint_env, run, unprivileged

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux bind rules and sock_diag")


def project(root: Path, port: int, host: str = "127.0.0.1") -> Path:
    (root / "devlint.toml").write_text(f'[services.api]\nport = {port}\nhost = "{host}"\n')
    return root


def server_bind_error(address: str, port: int) -> Optional[int]:
    """The errno of a real server's bind (HTTPServer: SO_REUSEADDR, like Werkzeug), or None."""
    server_class = HTTPServer
    if ":" in address:
        class V6Server(HTTPServer):
            address_family = socket.AF_INET6
        server_class = V6Server
    try:
        server = server_class((address, port), BaseHTTPRequestHandler)
    except OSError as exc:
        return exc.errno
    server.server_close()
    return None


def check_json(cwd: Path) -> Dict[str, Any]:
    result = devlint(cwd, "check", "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    data: Dict[str, Any] = json.loads(result.stdout)
    data["returncode"] = result.returncode
    return data


@contextlib.contextmanager
def bound(address: str, port: int, reuse: bool = False) -> Iterator[socket.socket]:
    """A socket bound to address:port that never listens (a port reservation)."""
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    try:
        if reuse:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        yield sock
    finally:
        sock.close()


def _sees_bound() -> bool:
    return netlink.lists_bound()


needs_bound_dump = pytest.mark.skipif(not _sees_bound(), reason="sock_diag lists bound-only sockets from Linux 6.5")


@needs_bound_dump
def test_bound_not_listening_socket_is_held_and_the_real_bind_fails(tmp_path: Path) -> None:
    port = free_port()
    with bound("127.0.0.1", port) as sock:
        inode = os.fstat(sock.fileno()).st_ino
        snap = scan({port})
        assert snap.listeners == ()
        found = [(o.state, o.address, o.pid, o.inode) for o in snap.others]
        assert found == [("bound", "127.0.0.1", os.getpid(), inode)]
        text = devlint(project(tmp_path, port), "check")
        data = check_json(tmp_path)
        assert server_bind_error("127.0.0.1", port) == errno.EADDRINUSE
    assert text.returncode == 1
    assert f"127.0.0.1:{port} (IPv4, bound, not listening)" in text.stdout
    assert "answers nobody, yet the server's bind fails" in text.stdout
    assert f"pid {os.getpid()}" in text.stdout
    finding = data["findings"][0]
    assert finding["code"] == "DL101" and finding["evidence"]["verdict"] == "held"
    assert finding["evidence"]["listeners"][0]["state"] == "bound"
    assert server_bind_error("127.0.0.1", port) is None  # closed: free again


@needs_bound_dump
def test_bound_wildcard_holds_a_loopback_bind(tmp_path: Path) -> None:
    port = free_port()
    with bound("0.0.0.0", port):
        data = check_json(project(tmp_path, port))
        assert server_bind_error("127.0.0.1", port) == errno.EADDRINUSE
    assert data["returncode"] == 1
    assert data["findings"][0]["evidence"]["listeners"][0]["address"] == "0.0.0.0"


BOUND_SCRIPT = """
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
sys.stdin.read()
"""


@needs_bound_dump
def test_another_users_bound_socket_is_held_with_its_uid(tmp_path: Path) -> None:
    prefix, drop = other_user_python(), unprivileged()
    if prefix is None or drop is None or SCRIPT is None:
        pytest.skip("needs root, setpriv and /usr/bin/python3 to run a process as another user")
    port = free_port()
    cwd = project(tmp_path, port)
    holder = subprocess.Popen([*prefix, "-c", BOUND_SCRIPT, str(port)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        env: Dict[Arg, Arg] = {k: v for k, v in devlint_env().items()}
        result = run([*drop, *devlint_argv("check")], cwd, env)
        assert server_bind_error("127.0.0.1", port) == errno.EADDRINUSE
    finally:
        holder.terminate()
        holder.wait(5)
    text = " ".join(result.stdout.decode().split())
    assert result.returncode == 1, result.stderr
    assert "uid 65534" in text and "(pid not visible)" in text and "bound, not listening" in text


def test_client_bound_to_the_address_then_connected_is_held(tmp_path: Path) -> None:
    port = free_port()
    with open_listener("127.0.0.1", 0) as upstream:
        target = upstream.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
            client.bind(("127.0.0.1", port))
            client.connect(("127.0.0.1", target))
            accepted, _ = upstream.accept()
            with accepted:
                text = devlint(project(tmp_path, port), "check")
                assert server_bind_error("127.0.0.1", port) == errno.EADDRINUSE
    assert text.returncode == 1
    assert f"a connection from 127.0.0.1:{port} to 127.0.0.1:{target} (IPv4, not listening)" in text.stdout


def test_ephemeral_local_port_of_a_loopback_connection_is_held(tmp_path: Path) -> None:
    with open_listener("127.0.0.1", 0) as upstream:
        target = upstream.getsockname()[1]
        with socket.create_connection(("127.0.0.1", target)) as client:
            port = client.getsockname()[1]  # the kernel chose it: our "server port"
            accepted, _ = upstream.accept()
            with accepted:
                text = devlint(project(tmp_path, port), "check")
                assert server_bind_error("127.0.0.1", port) == errno.EADDRINUSE
    assert text.returncode == 1
    assert f"a connection from 127.0.0.1:{port} to 127.0.0.1:{target}" in text.stdout


@needs_bound_dump
def test_bound_socket_with_so_reuseaddr_does_not_block_and_is_clear(tmp_path: Path) -> None:
    # Linux lets a SO_REUSEADDR bind sit next to a non-listening SO_REUSEADDR socket; the
    # kernel does not report the flag, so the bind probe decides: clear, and rightly so.
    port = free_port()
    with bound("127.0.0.1", port, reuse=True):
        assert [o.state for o in scan({port}).others] == ["bound"]
        result = devlint(project(tmp_path, port), "check")
        assert server_bind_error("127.0.0.1", port) is None
    assert result.returncode == 0, result.stdout
    assert "clear" in result.stdout


def test_without_a_bound_socket_listing_a_bind_probe_still_says_held(monkeypatch: pytest.MonkeyPatch) -> None:
    # /proc/net/tcp (the fallback when netlink is refused) never lists bound-only sockets.
    from devlint.checks import in_the_way
    from devlint.model import Endpoint, Service

    def refused(*args: object, **kwargs: object) -> None:
        raise netlink.Unavailable("refused for the test")

    monkeypatch.setattr(linux, "netlink_dump", refused)
    port = free_port()
    service = Service("api", endpoints=(Endpoint("http", port, "127.0.0.1"),))
    with bound("127.0.0.1", port):
        snap = scan({port})
        assert (snap.backend, snap.listeners, snap.others, snap.sees_bound) == ("procfs", (), (), False)
        judged = in_the_way([service], snap)
    assert [j.verdict.status for j in judged] == ["held"]
    assert judged[0].verdict.listeners == ()  # the holder is not visible
    from devlint.checks import findings_for

    finding = findings_for(judged, "linux", [service])[0]
    assert f"a socket devlint cannot list (a test bind of 127.0.0.1:{port} failed" in finding.message
    assert "does not list sockets that are bound without listening" in finding.hint


@needs_bound_dump
@pytest.mark.skipif(SCRIPT is None, reason="the console script is not installed")
def test_warm_run_does_not_exec_onto_a_bound_port(tmp_path: Path) -> None:
    # The console script's warm path answers from the cached plan and one netlink query:
    # that query must see the bound socket too, or `run` execs onto a port it cannot bind.
    port = free_port()
    (tmp_path / "p").mkdir()
    cwd = project(tmp_path / "p", port)
    cached = devlint_env({"XDG_CACHE_HOME": str(tmp_path / "cache")}, cache=True)
    env: Dict[Arg, Arg] = {k: v for k, v in cached.items()}
    marker = tmp_path / "ran"
    assert run(devlint_argv("run", "--", "true"), cwd, env).returncode == 0  # fills the cache
    with bound("127.0.0.1", port):
        result = run(devlint_argv("run", "--", "touch", str(marker)), cwd, env)
    assert result.returncode == 1, result.stderr
    assert not marker.exists()
    assert b"bound, not listening" in result.stderr


def test_accepted_connections_of_a_listener_are_not_reported_twice(tmp_path: Path) -> None:
    # A live server's accepted connections share its port: the LISTEN socket is the holder.
    port = free_port()
    with open_listener("127.0.0.1", port) as server, socket.create_connection(("127.0.0.1", port)):
        accepted, _ = server.accept()
        with accepted:
            data = check_json(project(tmp_path, port))
    listeners = data["findings"][0]["evidence"]["listeners"]
    assert [lst["state"] for lst in listeners] == ["listen"]


def test_time_wait_of_a_reuseaddr_server_is_not_a_holder() -> None:
    # A dev server sets SO_REUSEADDR (Werkzeug, Node): its TIME_WAIT sockets after a restart
    # do not block the next bind, and the snapshot does not list them.
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen(4)
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server side closes first: its socket goes to TIME_WAIT
        client.close()
    snap = scan({port})
    assert snap.listeners == () and snap.others == ()
    assert server_bind_error("127.0.0.1", port) is None


def test_kernel_release_parsing() -> None:
    assert netlink.lists_bound("6.5.0-1-generic") and netlink.lists_bound("6.18.44-fc")
    assert not netlink.lists_bound("6.4.16") and not netlink.lists_bound("5.15.0-91-generic")
    assert not netlink.lists_bound("garbage")


def test_the_warm_path_probes_binds_where_the_kernel_cannot_list_bound_sockets(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Linux < 6.5 sock_diag cannot list a socket bound without listening, so the cached
    plan records its servers' binds and the warm path probes them before exec'ing. An old
    kernel cannot run here: netlink.lists_bound is made to answer as it does there (the
    kernel-release rule it implements is tested above); the sockets and probes are real."""
    from devlint import cache, warm
    from devlint.plan import build
    from devlint.warm import Request

    monkeypatch.setattr(netlink, "lists_bound", lambda release=None: False)
    port = free_port()
    root = project(tmp_path, port, "localhost")
    binds = cache._clear_binds(build(Request(str(root), ("true",)), devlint_env()))
    assert binds is not None and ("127.0.0.1", port) in binds
    assert warm._bindable(binds)
    with socket.socket() as reserved:  # bound, never listening: what the old kernel hides
        reserved.bind(("127.0.0.1", port))
        assert not warm._bindable(binds)
    assert warm._bindable(binds)
    monkeypatch.undo()
    assert cache._clear_binds(build(Request(str(root), ("true",)), devlint_env())) is None  # this kernel lists them
