"""Listener discovery through psutil: macOS, Windows, other OSes, and Linux's last resort.

psutil is imported on first use (≈ 35 ms), and can be handed in (tests pass a fake that
behaves as psutil documents). What psutil cannot tell, we leave as None: it has no
v6only flag and no socket inode.

- macOS: ``psutil.net_connections()`` raises AccessDenied unless run as root, so each
  process's own ``net_connections()`` is read instead, skipping processes we may not
  inspect. The AirPlay Receiver runs as the logged-in user, so it is visible.
- Windows and others: ``psutil.net_connections()`` works system-wide; pid 0 (and None)
  means the owner is not known.
"""

from __future__ import annotations

import socket
import sys
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple

from devlint.addresses import canonical
from devlint.model import Listener

LISTEN = "LISTEN"
_LATE_STATES = ("TIME_WAIT", "LISTEN", "NONE", "CLOSE")
Owner = Tuple[Optional[str], Optional[Tuple[str, ...]], Optional[int], Optional[str]]


def load(module: Any = None) -> Any:
    """The psutil module (or the one handed in)."""
    if module is not None:
        return module
    import importlib

    return importlib.import_module("psutil")


def _family(conn: Any) -> int:
    return 6 if conn.family == socket.AF_INET6 else 4


def _addr(value: Any) -> Optional[Tuple[str, int]]:
    """psutil's laddr/raddr: an (ip, port) namedtuple, or an empty tuple when unset."""
    if not value or len(value) < 2:
        return None
    return str(value[0]), int(value[1])


def _connections(proc: Any) -> List[Any]:
    """A process's TCP sockets; psutil < 6.0 calls the method `connections`."""
    method = getattr(proc, "net_connections", None) or proc.connections
    return list(method(kind="tcp"))


def _uid(uids: Any) -> Optional[int]:
    if uids is None:
        return None
    effective = getattr(uids, "effective", None)
    return int(effective if effective is not None else uids[0])


def _owner_from_info(info: Dict[str, Any]) -> Owner:
    cmdline = info.get("cmdline")
    return (info.get("name"), tuple(cmdline) if cmdline else None, _uid(info.get("uids")),
            info.get("username"))


def _owner_of_pid(ps: Any, pid: int, cache: Dict[int, Owner]) -> Owner:
    """(name, cmdline, uid, user) of a pid, each None when psutil refuses or it is gone."""
    if pid in cache:
        return cache[pid]
    fields: List[Any] = [None, None, None, None]
    try:
        proc = ps.Process(pid)
    except (ps.NoSuchProcess, ps.AccessDenied):
        cache[pid] = (None, None, None, None)
        return cache[pid]
    for i, method in enumerate(("name", "cmdline", "uids", "username")):
        try:
            value = getattr(proc, method)()
        except (ps.Error, AttributeError, OSError):  # AttributeError: no uids() on Windows
            continue
        fields[i] = _uid(value) if method == "uids" else value
    cmdline = tuple(fields[1]) if fields[1] else None
    cache[pid] = (fields[0], cmdline, fields[2], fields[3])
    return cache[pid]


def _listener(conn: Any, pid: Optional[int], owner: Owner) -> Optional[Listener]:
    laddr = _addr(conn.laddr)
    if laddr is None:
        return None
    family = _family(conn)
    name, cmdline, uid, user = owner
    return Listener(canonical(laddr[0], family), laddr[1], family, v6only=None, pid=pid,
                    process=name, cmdline=cmdline, uid=uid, user=user)


def _wanted(conn: Any, ports: Optional[FrozenSet[int]]) -> bool:
    laddr = _addr(conn.laddr)
    return (conn.status == LISTEN and laddr is not None
            and (ports is None or laddr[1] in ports))


def per_process(ps: Any, ports: Optional[FrozenSet[int]]) -> Tuple[List[Listener], bool]:
    """Listeners found by asking each process for its sockets (macOS without root).

    Returns (listeners, complete): complete is False when some process refused.
    """
    out: List[Listener] = []
    complete = True
    for proc in ps.process_iter(["pid", "name", "cmdline", "uids", "username"]):
        try:
            conns = _connections(proc)
        except (ps.AccessDenied, ps.ZombieProcess):
            complete = False
            continue
        except ps.NoSuchProcess:
            continue
        info = getattr(proc, "info", None) or {}
        owner = _owner_from_info(info)
        pid = int(info.get("pid") or proc.pid)
        for conn in conns:
            if _wanted(conn, ports):
                found = _listener(conn, pid, owner)
                if found is not None:
                    out.append(found)
    return out, complete


def system_wide(ps: Any, ports: Optional[FrozenSet[int]]) -> List[Listener]:
    """Listeners from psutil.net_connections(); raises psutil.AccessDenied (macOS)."""
    cache: Dict[int, Owner] = {}
    out: List[Listener] = []
    for conn in ps.net_connections(kind="tcp"):
        if not _wanted(conn, ports):
            continue
        pid = conn.pid if conn.pid else None  # Windows reports 0 when it will not say
        owner = _owner_of_pid(ps, pid, cache) if pid is not None else (None, None, None, None)
        found = _listener(conn, pid, owner)
        if found is not None:
            out.append(found)
    return out


def scan(ports: Optional[FrozenSet[int]], platform: str,
         module: Any = None) -> Tuple[List[Listener], str]:
    """LISTEN sockets on `ports` (None: any) and the backend name ("psutil")."""
    ps = load(module)
    if platform == "darwin":
        return per_process(ps, ports)[0], "psutil"
    try:
        return system_wide(ps, ports), "psutil"
    except ps.AccessDenied:  # macOS-like rules on an OS we did not name
        return per_process(ps, ports)[0], "psutil"


def _all_connections(ps: Any) -> Iterable[Tuple[Any, Optional[int], Optional[Owner]]]:
    """(conn, pid, owner-or-None) for every TCP socket we may see."""
    try:
        for conn in ps.net_connections(kind="tcp"):
            yield conn, (conn.pid or None), None
        return
    except ps.AccessDenied:
        pass
    for proc in ps.process_iter(["pid", "name", "cmdline", "uids", "username"]):
        try:
            conns = _connections(proc)
        except (ps.AccessDenied, ps.NoSuchProcess, ps.ZombieProcess):
            continue
        info = getattr(proc, "info", None) or {}
        owner = _owner_from_info(info)
        for conn in conns:
            yield conn, int(info.get("pid") or proc.pid), owner


def owner_of_connection(local: Tuple[str, int], remote: Tuple[str, int],
                        module: Any = None) -> Optional[Listener]:
    """See devlint.sockets.owner_of_connection: the server side of our connection, or the
    listener that would have accepted it; None when neither is visible."""
    from devlint.addresses import accept_rank, plain

    ps = load(module)
    client, client_port = plain(local[0]), int(local[1])
    server, server_port = plain(remote[0]), int(remote[1])
    cache: Dict[int, Owner] = {}
    best: Optional[Tuple[int, Any, Optional[int], Optional[Owner]]] = None
    for conn, pid, owner in _all_connections(ps):
        laddr, raddr = _addr(conn.laddr), _addr(conn.raddr)
        if laddr is None or laddr[1] != server_port:
            continue
        if conn.status == LISTEN:
            rank = accept_rank(laddr[0], _family(conn), None, server, sys.platform)
        elif (raddr is not None and conn.status not in _LATE_STATES and raddr[1] == client_port
              and plain(raddr[0]) == client and plain(laddr[0]) == server):
            rank = 10  # the accepted socket itself beats any listener
        else:
            continue
        if rank and (best is None or rank > best[0]):
            best = (rank, conn, pid, owner)
    if best is None:
        return None
    _, conn, pid, owner = best
    if owner is None:
        owner = _owner_of_pid(ps, pid, cache) if pid is not None else (None, None, None, None)
    return _listener(conn, pid, owner)
