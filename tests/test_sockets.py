"""Listener discovery on this Linux machine, with real sockets on loopback.

Every expectation is read from the socket itself (its port, inode, owner) or from the
kernel through another tool (`ss`), never written down in advance. The macOS and Windows
backends are tested through a fake psutil in test_portable.py.
"""

from __future__ import annotations

import os
import pwd
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, List, Optional, Set, Tuple

import pytest

from devlint.sockets import linux, owner_of_connection, scan
from tests.listeners import child_listener, free_port, open_listener, other_user_python

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the Linux backends; others use fakes")

KINDS = [  # (address, v6only, expected family, expected v6only)
    ("127.0.0.1", True, 4, None),
    ("0.0.0.0", True, 4, None),
    ("::1", True, 6, True),
    ("::", True, 6, True),
    ("::", False, 6, False),
]
KIND_IDS = ["127.0.0.1", "0.0.0.0", "::1", "[::]-v6only", "[::]-dual"]


def _inode(sock: socket.socket) -> int:
    return os.fstat(sock.fileno()).st_ino


def _own_cmdline() -> Tuple[str, ...]:
    return tuple(Path("/proc/self/cmdline").read_bytes().decode().split("\0")[:-1])


@pytest.fixture
def netlink() -> None:
    try:
        linux.netlink_dump(1 << linux.TCP_LISTEN, [None])
    except linux.Unavailable as exc:
        pytest.skip(f"netlink sock_diag is not available here: {exc}")


@pytest.mark.parametrize(("address", "v6only", "family", "want_v6only"), KINDS, ids=KIND_IDS)
def test_own_listener_found_with_owner(address: str, v6only: bool, family: int,
                                       want_v6only: Optional[bool], netlink: None) -> None:
    with open_listener(address, 0, v6only=v6only) as sock:
        port = sock.getsockname()[1]
        snapshot = scan({port})
        assert snapshot.backend == "netlink"
        assert not snapshot.partial
        (found,) = snapshot.on_port(port)
        assert (found.address, found.port, found.family, found.v6only) == (address, port, family, want_v6only)
        assert found.pid == os.getpid()
        assert found.process == Path("/proc/self/comm").read_text().strip()
        assert found.cmdline == _own_cmdline()
        assert found.uid == os.geteuid()
        assert found.user == pwd.getpwuid(os.geteuid()).pw_name
        assert found.inode == _inode(sock)


def test_several_ports_in_one_scan(netlink: None) -> None:
    """More ports than one bytecode program jump could once reach; each found once."""
    socks = [open_listener("127.0.0.1" if i % 2 else "::1", 0) for i in range(40)]
    try:
        extra = open_listener("127.0.0.1", 0)  # a listener on a port nobody asked for
        ports = {s.getsockname()[1] for s in socks}
        snapshot = scan(ports)
        assert {lst.inode for lst in snapshot.listeners} == {_inode(s) for s in socks}
        assert extra.getsockname()[1] not in {lst.port for lst in snapshot.listeners}
        extra.close()
    finally:
        for s in socks:
            s.close()


def test_kernel_filter_agrees_with_python_filter(netlink: None) -> None:
    with open_listener("127.0.0.1", 0) as a, open_listener("::", 0, v6only=False) as b:
        ports = frozenset({a.getsockname()[1], b.getsockname()[1], free_port()})
        filtered = linux.netlink_dump(1 << linux.TCP_LISTEN, linux._port_filters(ports))
        everything = linux.netlink_dump(1 << linux.TCP_LISTEN, [None])
        assert sorted(filtered) == sorted(r for r in everything if r.port in ports)
        assert len(filtered) == 2


def test_every_listener_when_no_ports(netlink: None) -> None:
    with open_listener("127.0.0.1", 0) as a, open_listener("::1", 0) as b:
        snapshot = scan(None)
        inodes = {lst.inode for lst in snapshot.listeners}
        assert {_inode(a), _inode(b)} <= inodes


def test_empty_port_set_scans_nothing() -> None:
    snapshot = scan(set())
    assert snapshot.listeners == ()
    assert snapshot.backend == "none"


def test_child_listener_has_child_pid_and_goes_away(netlink: None) -> None:
    port = free_port()
    with child_listener("127.0.0.1", port) as proc:
        (found,) = scan({port}).listeners
        assert found.pid == proc.pid
        assert found.process == Path(f"/proc/{proc.pid}/comm").read_text().strip()
        assert found.cmdline is not None and found.cmdline[0] == sys.executable
    assert scan({port}).listeners == ()


def test_bound_connected_and_time_wait_sockets_are_not_listeners(netlink: None) -> None:
    bound = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    bound.bind(("127.0.0.1", 0))
    server = open_listener("127.0.0.1", 0)
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    try:
        assert [lst.inode for lst in scan({port}).listeners] == [_inode(server)]
        server.close()
        assert scan({port, bound.getsockname()[1]}).listeners == ()
        states = {r.state for r in linux.netlink_dump(linux.ALL_STATES, linux._port_filters(frozenset({port})))}
        assert linux.TCP_ESTABLISHED in states  # the test is about something real
        accepted.close()  # the server side closes first: it goes to TIME_WAIT
        client.close()
        deadline = time.monotonic() + 2
        while linux.TCP_TIME_WAIT not in states and time.monotonic() < deadline:
            states = {r.state for r in linux.netlink_dump(linux.ALL_STATES,
                                                          linux._port_filters(frozenset({port})))}
        assert linux.TCP_TIME_WAIT in states
        assert scan({port}).listeners == ()
    finally:
        for s in (bound, client, accepted, server):
            s.close()


def test_other_users_listener_reports_uid(netlink: None) -> None:
    if other_user_python() is None:
        pytest.skip("needs root, setpriv and /usr/bin/python3 to run a listener as another user")
    port = free_port()
    nobody = pwd.getpwnam("nobody")
    with child_listener("::", port, v6only=True, as_other_user=True) as proc:
        (found,) = scan({port}).listeners
        assert (found.uid, found.user) == (nobody.pw_uid, "nobody")
        assert found.pid == proc.pid  # root sees every /proc/<pid>/fd
        assert found.v6only is True


# -- owners from /proc -----------------------------------------------------------------

def test_unknown_inode_has_no_owner() -> None:
    with open_listener("127.0.0.1", 0) as sock:
        unused = _inode(sock) + 10_000_000
        assert linux.find_owners([unused, _inode(sock)]) == {_inode(sock): os.getpid()}
        assert linux.find_owners([unused]) == {}


def test_unowned_socket_is_reported_with_uid_and_no_pid() -> None:
    row = linux.RawSocket(4, linux.TCP_LISTEN, "127.0.0.1", 5000, "0.0.0.0", 0, 65534, 4_000_000_000, None)
    (found,) = linux.with_owners([row])
    assert (found.pid, found.process, found.cmdline) == (None, None, None)
    assert (found.uid, found.user, found.inode) == (65534, pwd.getpwuid(65534).pw_name, 4_000_000_000)
    assert "pid not visible" in found.owner()


def _fake_proc(root: Path, pid: int, links: List[str], comm: Optional[str] = "srv\n",
               cmdline: Optional[bytes] = b"srv\0--port\0005000\0") -> None:
    fd = root / str(pid) / "fd"
    fd.mkdir(parents=True)
    for i, target in enumerate(links):
        (fd / str(i)).symlink_to(target)
    if comm is not None:
        (root / str(pid) / "comm").write_text(comm)
    if cmdline is not None:
        (root / str(pid) / "cmdline").write_bytes(cmdline)


def test_owner_walk_tolerates_vanished_and_unreadable_processes(tmp_path: Path) -> None:
    """A /proc look-alike: a process that exited (no fd folder), one with no comm/cmdline
    (exited between the walk and the lookup), and one that holds the socket."""
    (tmp_path / "7").mkdir()  # exited: its fd folder is gone
    (tmp_path / "self").mkdir()
    _fake_proc(tmp_path, 12, ["/dev/null", "socket:[111]"], comm=None, cmdline=None)
    _fake_proc(tmp_path, 30, ["pipe:[5]", "socket:[222]"])
    rows = [linux.RawSocket(6, linux.TCP_LISTEN, "::", 5000, "::", 0, 1000, inode, True)
            for inode in (111, 222, 333)]
    by_inode = {lst.inode: lst for lst in linux.with_owners(rows, root=str(tmp_path))}
    assert (by_inode[111].pid, by_inode[111].process, by_inode[111].cmdline) == (12, None, None)
    assert (by_inode[222].pid, by_inode[222].process, by_inode[222].cmdline) == (30, "srv", ("srv", "--port", "5000"))
    assert (by_inode[333].pid, by_inode[333].uid) == (None, 1000)


def test_owner_walk_of_missing_proc_is_empty(tmp_path: Path) -> None:
    assert linux.find_owners([1, 2], root=str(tmp_path / "absent")) == {}


# -- /proc/net/tcp fallback ------------------------------------------------------------------

@pytest.fixture
def four_listeners() -> Iterator[List[socket.socket]]:
    socks = [open_listener(address, 0, v6only=v6only) for address, v6only, _, _ in KINDS]
    yield socks
    for s in socks:
        s.close()


def test_procfs_rows_match_netlink(four_listeners: List[socket.socket], netlink: None) -> None:
    ports = frozenset(s.getsockname()[1] for s in four_listeners)
    by_proc = linux.procfs_dump(frozenset({linux.TCP_LISTEN}), ports)
    by_netlink = linux.netlink_dump(1 << linux.TCP_LISTEN, linux._port_filters(ports))

    def key(r: linux.RawSocket) -> Tuple[int, str, int, Optional[int], int]:
        return (r.family, r.address, r.port, r.uid, r.inode)

    assert sorted(map(key, by_proc)) == sorted(map(key, by_netlink))
    assert len(by_proc) == len(four_listeners)


def test_scan_falls_back_to_procfs_then_psutil(four_listeners: List[socket.socket],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ports = {s.getsockname()[1] for s in four_listeners}
    want = sorted((a, s.getsockname()[1]) for (a, _, _, _), s in zip(KINDS, four_listeners))

    def refused(*args: object, **kwargs: object) -> None:
        raise linux.Unavailable("netlink refused (test)")

    monkeypatch.setattr(linux, "netlink_dump", refused)
    snapshot = scan(ports)
    assert snapshot.backend == "procfs"
    assert sorted((lst.address, lst.port) for lst in snapshot.listeners) == want
    assert {lst.pid for lst in snapshot.listeners} == {os.getpid()}
    assert {lst.v6only for lst in snapshot.listeners} == {None}  # /proc/net/tcp6 cannot tell

    monkeypatch.setattr(linux, "procfs_dump", refused)
    snapshot = scan(ports)
    assert snapshot.backend == "psutil"
    assert sorted((lst.address, lst.port) for lst in snapshot.listeners) == want
    assert {lst.pid for lst in snapshot.listeners} == {os.getpid()}


def test_proc_net_tcp_parsing_skips_bad_rows() -> None:
    text = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
            "   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1\n"
            "   1: 0100007F:1389 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 4243 1\n"
            "   2: ZZZZ:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4244 1\n"
            "   3: short line\n")
    rows = linux.parse_proc_net_tcp(text, 4)
    native = socket.inet_ntop(socket.AF_INET, (0x0100007F).to_bytes(4, sys.byteorder))
    assert [(r.address, r.port, r.uid, r.inode) for r in rows] == [(native, 5000, 1000, 4242)]


# -- cross-check with ss ----------------------------------------------------------------------

def _ss_inodes(ports: Set[int]) -> Set[int]:
    out = subprocess.run(["ss", "-ltnHe"], capture_output=True, text=True, check=True).stdout
    found = set()
    for line in out.splitlines():
        words = line.split()
        port = int(words[3].rsplit(":", 1)[1])
        inode = next(int(w[4:]) for w in words if w.startswith("ino:"))
        if port in ports:
            found.add(inode)
    return found


@pytest.mark.skipif(shutil.which("ss") is None, reason="ss (iproute2) is not installed")
def test_scan_agrees_with_ss(four_listeners: List[socket.socket], netlink: None) -> None:
    ports = {s.getsockname()[1] for s in four_listeners}
    assert {lst.inode for lst in scan(ports).listeners} == _ss_inodes(ports)
    every = scan(None)
    assert {lst.inode for lst in every.listeners} == _ss_inodes({lst.port for lst in every.listeners})


# -- owner_of_connection ----------------------------------------------------------------------

def _connect(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    client = socket.socket(family, socket.SOCK_STREAM)
    client.connect((address, port))
    return client


@pytest.mark.parametrize(("listen", "v6only", "connect"), [
    ("127.0.0.1", True, "127.0.0.1"), ("::1", True, "::1"), ("::", False, "127.0.0.1"), ("0.0.0.0", True, "127.0.0.1"),
], ids=["v4", "v6", "v4-to-dual-stack", "v4-to-wildcard"])
def test_owner_of_connection_before_and_after_accept(listen: str, v6only: bool, connect: str) -> None:
    with open_listener(listen, 0, v6only=v6only) as server:
        port = server.getsockname()[1]
        with _connect(connect, port) as client:
            local = client.getsockname()[:2]
            queued = owner_of_connection(local, (connect, port))  # not accepted yet
            assert queued is not None
            assert (queued.pid, queued.inode, queued.port) == (os.getpid(), _inode(server), port)
            accepted, _ = server.accept()
            with accepted:
                owner = owner_of_connection(local, (connect, port))
                assert owner is not None
                assert (owner.pid, owner.inode, owner.port) == (os.getpid(), _inode(accepted), port)
                assert owner.process == Path("/proc/self/comm").read_text().strip()


def test_owner_of_connection_names_the_server_thread_process_and_child() -> None:
    """A server thread that accepts and answers, then a server in a child process."""
    with open_listener("127.0.0.1", 0) as server:
        port = server.getsockname()[1]
        ready = threading.Event()

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                ready.set()
                conn.recv(1)

        thread = threading.Thread(target=serve)
        thread.start()
        with _connect("127.0.0.1", port) as client:
            assert ready.wait(5)
            owner = owner_of_connection(client.getsockname()[:2], ("127.0.0.1", port))
            assert owner is not None and owner.pid == os.getpid()
            client.sendall(b"x")
        thread.join(5)
    port = free_port()
    with child_listener("::1", port) as proc, _connect("::1", port) as client:
        owner = owner_of_connection(client.getsockname()[:2], ("::1", port))
        assert owner is not None and (owner.pid, owner.address) == (proc.pid, "::1")


def test_owner_of_connection_is_none_when_nothing_matches() -> None:
    assert owner_of_connection(("127.0.0.1", free_port()), ("127.0.0.1", free_port())) is None


# -- cost ------------------------------------------------------------------------------------

HELPER = r"""
import resource, socket, sys
n = int(sys.argv[1])
want = n + 100
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft != resource.RLIM_INFINITY and soft < want:
    keep = hard == resource.RLIM_INFINITY or hard >= want
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard if keep else want))
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET6 if i % 2 else socket.AF_INET)
    s.bind(("::1" if i % 2 else "127.0.0.1", 0))
    s.listen(1)
    socks.append(s)
print("ready", flush=True)
sys.stdin.read()
"""


def test_scan_stays_fast_with_ten_thousand_other_listeners(netlink: None) -> None:
    """The kernel filters by port, so unrelated listeners cost little (measured ≈ 3 ms;
    a scan that parsed every socket in Python took ≈ 160 ms)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 10_100 and os.geteuid() != 0:
        pytest.skip("RLIMIT_NOFILE too low for 10,000 sockets and not root")
    port = free_port()
    # both families taken first, so none of the helper's port-0 sockets lands on this port
    with open_listener("127.0.0.1", port) as v4, open_listener("::1", port) as v6:
        helper = subprocess.Popen([sys.executable, "-c", HELPER, "10000"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert helper.stdout is not None and helper.stdout.readline().strip() == "ready"
            assert len(linux.netlink_dump(1 << linux.TCP_LISTEN, [None])) >= 10_000
            times = []
            for _ in range(15):
                start = time.perf_counter()
                snapshot = scan({port})
                times.append(time.perf_counter() - start)
            assert {lst.inode for lst in snapshot.listeners} == {_inode(v4), _inode(v6)}
            assert {lst.pid for lst in snapshot.listeners} == {os.getpid()}
            assert statistics.median(times) < 0.040
        finally:
            assert helper.stdin is not None
            helper.stdin.close()
            helper.wait(10)


def test_scan_does_not_import_psutil_on_linux(netlink: None) -> None:
    code = "import sys; from devlint.sockets import scan; scan({1}); print('psutil' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
