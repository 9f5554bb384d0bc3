"""The macOS and Windows listener backends (devlint/sockets/portable.py), driven through a
fake psutil that behaves as psutil documents for those systems. Neither OS runs here.

What the fake reproduces, from psutil's documentation (psutil.readthedocs.io, 5.9 to 6.x):

- ``psutil.net_connections(kind)``: "On macOS and AIX this function requires root
  privileges" — without root it raises ``psutil.AccessDenied`` (the doc's note: "psutil.
  AccessDenied is always raised unless running as root. This is a limitation of the OS and
  lsof does the same"). On Windows it works for any user and every entry has a ``pid``;
  pid 0 is the "System Idle Process" (used for sockets whose owner is not known).
  Entries are ``sconn(fd, family, type, laddr, raddr, status, pid)``; ``laddr``/``raddr``
  are ``addr(ip, port)`` named tuples, or an empty tuple when not set (a listener has no
  raddr); ``status`` is one of the ``psutil.CONN_*`` strings ("LISTEN", "ESTABLISHED",
  "TIME_WAIT", "NONE" ...).
- ``Process.net_connections(kind)`` (named ``connections()`` before 6.0): the same entries
  as ``pconn(fd, family, type, laddr, raddr, status)``, without pid. On macOS it raises
  ``AccessDenied`` for processes of other users (and for some of root's, even as root).
- ``psutil.process_iter(attrs)``: processes that disappear while iterating are skipped;
  with ``attrs`` each process gets an ``info`` dict, where an attribute that raised
  ``AccessDenied`` holds ``ad_value`` (None).
- ``Process(pid)``: raises ``NoSuchProcess`` for a pid that does not exist; ``name()``,
  ``cmdline()``, ``username()`` may raise ``AccessDenied``; ``uids()`` exists on POSIX only
  (on Windows the attribute is missing). ``ZombieProcess`` is a ``NoSuchProcess`` that
  macOS raises for zombies' connections.
"""

from __future__ import annotations

import socket
from collections import namedtuple
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import pytest

from devlint import sockets
from devlint.checks import findings_for, in_the_way, judge
from devlint.model import Endpoint, Service
from devlint.sockets import portable

addr = namedtuple("addr", ["ip", "port"])
sconn = namedtuple("sconn", ["fd", "family", "type", "laddr", "raddr", "status", "pid"])
pconn = namedtuple("pconn", ["fd", "family", "type", "laddr", "raddr", "status"])
puids = namedtuple("puids", ["real", "effective", "saved"])
V4, V6, TCP = socket.AF_INET, socket.AF_INET6, socket.SOCK_STREAM


class Error(Exception):
    pass


class NoSuchProcess(Error):
    def __init__(self, pid: int) -> None:
        super().__init__(f"process no longer exists (pid={pid})")
        self.pid = pid


class ZombieProcess(NoSuchProcess):
    pass


class AccessDenied(Error):
    def __init__(self, pid: Optional[int] = None) -> None:
        super().__init__(f"(pid={pid})")
        self.pid = pid


@dataclass
class FakeProc:
    """One process as the OS would show it to psutil."""

    pid: int
    name: str
    user: str
    uid: Optional[int]
    cmdline: Sequence[str] = ()
    conns: List[Tuple[int, Tuple[str, int], Tuple[Any, ...], str]] = field(default_factory=list)
    conns_denied: bool = False  # macOS: another user's process
    conns_error: Optional[type] = None  # NoSuchProcess / ZombieProcess raised mid-iteration
    details_denied: bool = False  # name()/cmdline()/username() refused (Windows system processes)


class FakePsutil:
    """A psutil module for one OS ("darwin" or "win32"), as seen by a non-root user."""

    Error, NoSuchProcess, ZombieProcess, AccessDenied = Error, NoSuchProcess, ZombieProcess, AccessDenied
    CONN_LISTEN, CONN_ESTABLISHED, CONN_TIME_WAIT, CONN_NONE = "LISTEN", "ESTABLISHED", "TIME_WAIT", "NONE"

    def __init__(self, system: str, procs: Sequence[FakeProc], orphans: Sequence[sconn] = ()) -> None:
        self.system, self.procs, self.orphans = system, {p.pid: p for p in procs}, list(orphans)
        self.calls: List[str] = []

    # -- module functions --
    def net_connections(self, kind: str = "inet") -> List[sconn]:
        self.calls.append("net_connections")
        assert kind in ("tcp", "inet", "tcp4", "tcp6")
        if self.system == "darwin":
            raise AccessDenied()
        out = [sconn(-1, fam, TCP, addr(*la), addr(*ra) if ra else (), st, p.pid)
               for p in self.procs.values() for fam, la, ra, st in p.conns]
        return out + self.orphans

    def process_iter(self, attrs: Optional[List[str]] = None) -> Iterator[_Process]:
        self.calls.append("process_iter")
        for pid in sorted(self.procs):
            proc = self.Process(pid)
            if attrs is not None:
                info: Dict[str, Any] = {}
                for name in attrs:
                    try:
                        info[name] = proc.pid if name == "pid" else getattr(proc, name)()
                    except AccessDenied:
                        info[name] = None  # ad_value
                    except AttributeError:
                        raise ValueError(f"invalid attr name {name!r}") from None
                proc.info = info
            yield proc

    def Process(self, pid: int) -> _Process:
        if pid not in self.procs and pid != 0:
            raise NoSuchProcess(pid)
        return _Process(self, pid) if self.system == "win32" else _PosixProcess(self, pid)


class _Process:
    def __init__(self, ps: FakePsutil, pid: int) -> None:
        self._ps, self.pid = ps, pid
        self._proc = ps.procs.get(pid) or FakeProc(0, "System Idle Process", "NT AUTHORITY\\SYSTEM", None,
                                                   details_denied=True)
        self.info: Dict[str, Any] = {}

    def _details(self) -> FakeProc:
        if self._proc.details_denied:
            raise AccessDenied(self.pid)
        return self._proc

    def name(self) -> str:
        return self._proc.name  # psutil reads names of any process, on both systems

    def cmdline(self) -> List[str]:
        return list(self._details().cmdline)

    def username(self) -> str:
        return self._details().user

    def net_connections(self, kind: str = "inet") -> List[pconn]:
        proc = self._proc
        if proc.conns_denied:
            raise AccessDenied(self.pid)
        if proc.conns_error is not None:
            raise proc.conns_error(self.pid)
        return [pconn(-1, fam, TCP, addr(*la), addr(*ra) if ra else (), st) for fam, la, ra, st in proc.conns]


class _PosixProcess(_Process):
    def uids(self) -> puids:  # POSIX only: Windows processes have no uids()
        uid = self._details().uid
        assert uid is not None
        return puids(uid, uid, uid)


# -- macOS ---------------------------------------------------------------------------------

def macos() -> FakePsutil:
    """The seed bug's machine: AirPlay Receiver (ControlCenter, the logged-in user) on *:5000
    on both families; root's launchd-owned sshd we may not inspect; a process that exits
    and a zombie mid-scan; a browser with a connection to 5000 that is not a listener."""
    return FakePsutil("darwin", [
        FakeProc(1, "launchd", "root", 0, conns=[(V4, ("0.0.0.0", 5000), (), "LISTEN")], conns_denied=True),
        FakeProc(512, "ControlCenter", "me", 501,
                 ["/System/Library/CoreServices/ControlCenter.app/Contents/MacOS/ControlCenter"],
                 conns=[(V4, ("0.0.0.0", 5000), (), "LISTEN"), (V6, ("::", 5000), (), "LISTEN"),
                        (V4, ("0.0.0.0", 7000), (), "LISTEN")]),
        FakeProc(700, "Google Chrome", "me", 501, conns=[
            (V6, ("::1", 50123), ("::1", 5000), "ESTABLISHED"), (V4, ("127.0.0.1", 50124), ("127.0.0.1", 5000),
                                                                  "TIME_WAIT")]),
        FakeProc(801, "gone", "me", 501, conns_error=NoSuchProcess),
        FakeProc(802, "zombie", "me", 501, conns_error=ZombieProcess),
        FakeProc(900, "node", "me", 501, ["node", "ng", "serve"],
                 conns=[(V6, ("::1", 4200), (), "LISTEN")]),
    ])


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> FakePsutil:
    ps: FakePsutil = request.param()
    monkeypatch.setattr(portable, "load", lambda module=None: ps)
    return ps


def _rows(snapshot: Any) -> List[Tuple[Any, ...]]:
    return [(lst.address, lst.port, lst.family, lst.v6only, lst.pid, lst.process, lst.uid, lst.user)
            for lst in snapshot.listeners]


@pytest.mark.parametrize("fake", [macos], indirect=True)
def test_macos_scans_each_process_without_root(fake: FakePsutil) -> None:
    snapshot = sockets.scan({5000, 4200}, "darwin")
    assert snapshot.backend == "psutil" and snapshot.platform == "darwin"
    assert _rows(snapshot) == [
        ("::1", 4200, 6, None, 900, "node", 501, "me"),
        ("0.0.0.0", 5000, 4, None, 512, "ControlCenter", 501, "me"),
        ("::", 5000, 6, None, 512, "ControlCenter", 501, "me"),
    ]
    assert snapshot.listeners[0].cmdline == ("node", "ng", "serve")
    assert "net_connections" not in fake.calls  # it would raise AccessDenied: not even tried
    assert "process_iter" in fake.calls


@pytest.mark.parametrize("fake", [macos], indirect=True)
def test_macos_seed_bug_is_shadowed_not_held(fake: FakePsutil) -> None:
    """Flask on 127.0.0.1:5000 next to AirPlay on *:5000: on macOS the bind succeeds, and
    localhost clients trying ::1 first reach ControlCenter."""
    api = Service("api", kind="flask", endpoints=(Endpoint("http", 5000, "127.0.0.1"),))
    snapshot = sockets.scan({5000}, "darwin")
    verdict = judge(api.endpoints[0], snapshot.listeners, "darwin")
    assert verdict.status == "shadowed"
    assert "::1" in verdict.lost
    (finding,) = findings_for(in_the_way([api], snapshot), snapshot.platform, [api], lambda *args: None)
    assert finding.code == "DL102"
    assert "ControlCenter" in finding.message


@pytest.mark.parametrize("fake", [macos], indirect=True)
def test_macos_owner_of_connection(fake: FakePsutil) -> None:
    owner = portable.owner_of_connection(("::1", 50999), ("::1", 5000))
    assert owner is not None and (owner.pid, owner.process, owner.address) == (512, "ControlCenter", "::")


# -- Windows -------------------------------------------------------------------------------------

def windows() -> FakePsutil:
    """System (pid 4) holds 5000 on 0.0.0.0 with details refused; a sqlservr on [::]:5000;
    node on 127.0.0.1:4200; an orphan listener reported with pid 0; a TIME_WAIT entry."""
    return FakePsutil("win32", [
        FakeProc(4, "System", "", None, conns=[(V4, ("0.0.0.0", 5000), (), "LISTEN")], details_denied=True),
        FakeProc(3100, "sqlservr.exe", "NT SERVICE\\MSSQLSERVER", None, ["sqlservr.exe", "-sMSSQLSERVER"],
                 conns=[(V6, ("::", 5000), (), "LISTEN")], details_denied=True),
        FakeProc(4242, "node.exe", "DESKTOP\\me", None, ["node.exe", "ng", "serve"],
                 conns=[(V4, ("127.0.0.1", 4200), (), "LISTEN"),
                        (V4, ("127.0.0.1", 4200), ("127.0.0.1", 50000), "ESTABLISHED")]),
    ], orphans=[sconn(-1, V6, TCP, addr("::1", 4200), (), "LISTEN", 0),
                sconn(-1, V4, TCP, addr("127.0.0.1", 5000), addr("127.0.0.1", 6000), "TIME_WAIT", 0)])


@pytest.mark.parametrize("fake", [windows], indirect=True)
def test_windows_scans_system_wide_with_pids(fake: FakePsutil) -> None:
    snapshot = sockets.scan({5000, 4200}, "win32")
    assert fake.calls == ["net_connections"]  # no per-process walk needed
    assert _rows(snapshot) == [
        ("127.0.0.1", 4200, 4, None, 4242, "node.exe", None, "DESKTOP\\me"),
        ("::1", 4200, 6, None, None, None, None, None),  # pid 0: owner not known
        ("0.0.0.0", 5000, 4, None, 4, "System", None, None),  # name readable, user refused
        ("::", 5000, 6, None, 3100, "sqlservr.exe", None, None),
    ]
    assert snapshot.partial


@pytest.mark.parametrize("fake", [windows], indirect=True)
def test_windows_verdicts(fake: FakePsutil) -> None:
    """Windows lets a specific bind succeed next to a wildcard of its family (shadowed),
    and a same-address bind fails (held)."""
    snapshot = sockets.scan({5000, 4200}, "win32")
    api = Endpoint("http", 5000, "127.0.0.1")
    web = Endpoint("http", 4200, "127.0.0.1")
    assert judge(api, snapshot.listeners, "win32").status == "shadowed"
    assert judge(web, snapshot.listeners, "win32").status == "held"
    assert judge(Endpoint("http", 5000, "0.0.0.0"), snapshot.listeners, "win32").status == "held"


@pytest.mark.parametrize("fake", [windows], indirect=True)
def test_windows_owner_of_connection_prefers_the_accepted_socket(fake: FakePsutil) -> None:
    owner = portable.owner_of_connection(("127.0.0.1", 50000), ("127.0.0.1", 4200))
    assert owner is not None and (owner.pid, owner.process) == (4242, "node.exe")


# -- an OS we did not name, with macOS-like rules --------------------------------------------

@pytest.mark.parametrize("fake", [macos], indirect=True)
def test_unnamed_os_falls_back_to_per_process_on_access_denied(fake: FakePsutil) -> None:
    snapshot = sockets.scan({5000}, "freebsd13")
    assert fake.calls == ["net_connections", "process_iter"]
    assert {(lst.address, lst.pid) for lst in snapshot.listeners} == {("0.0.0.0", 512), ("::", 512)}
