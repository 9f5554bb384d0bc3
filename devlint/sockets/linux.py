"""Linux listener discovery: netlink sock_diag, /proc/net/tcp, and owners from /proc/*/fd.

The kernel's socket table comes from netlink (netlink.py: uid, inode, v6only for every
socket, filtered by port in the kernel), or /proc/net/tcp{,6} when netlink is refused.
The kernel tables carry no pid: owners are found by reading ``/proc/<pid>/fd/*`` links
(``socket:[inode]``), stopping as soon as every wanted inode has one. Anything that
vanishes or is unreadable during the walk just stays unowned.

No ``typing``, ``socket`` or data model at import time (the model is imported when
Listeners are built); psutil only as a last resort.
"""

from __future__ import annotations

import _socket as socket
import os
import struct

from devlint.sockets.netlink import (
    ALL_STATES,
    BIND_STATES,
    INET_DIAG_SKV6ONLY,
    NETLINK_SOCK_DIAG,
    TCP_ESTABLISHED,
    TCP_LISTEN,
    TCP_TIME_WAIT,
    RawSocket,
    Unavailable,
    _bc_any_sport,
    _bc_sport_dport,
    _parse_messages,
    _port_filters,
    _request,
    netlink_dump,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

    from devlint.model import Listener

__all__ = [
    "ALL_STATES", "BIND_STATES", "INET_DIAG_SKV6ONLY", "NETLINK_SOCK_DIAG", "TCP_ESTABLISHED", "TCP_LISTEN",
    "TCP_TIME_WAIT", "RawSocket", "Unavailable", "_bc_any_sport", "_bc_sport_dport", "_parse_messages",
    "_port_filters", "_request", "find_owners", "listening_rows", "loopbacks", "netlink_dump", "owner_of_connection",
    "parse_proc_net_tcp", "procfs_dump", "scan", "with_owners",
]


# -- /proc/net/tcp -------------------------------------------------------------------

def _proc_address(text: str) -> str:
    """'0100007F' / 32 hex digits → address text; the kernel prints native-order words."""
    raw = b"".join(struct.pack("=I", int(text[i:i + 8], 16)) for i in range(0, len(text), 8))
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def parse_proc_net_tcp(text: str, family: int, states: FrozenSet[int] = frozenset({TCP_LISTEN}),
                       ports: Optional[FrozenSet[int]] = None) -> List[RawSocket]:
    """Rows of /proc/net/tcp or tcp6 text in `states` and on `ports` (None: any port)."""
    out: List[RawSocket] = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10:
            continue
        try:
            state = int(fields[3], 16)
            if state not in states:
                continue
            local, _, port_hex = fields[1].partition(":")
            port = int(port_hex, 16)
            if ports is not None and port not in ports:
                continue
            remote, _, rport_hex = fields[2].partition(":")
            out.append(RawSocket(family, state, _proc_address(local), port, _proc_address(remote),
                                 int(rport_hex, 16), int(fields[7]), int(fields[9]), None))
        except (ValueError, OSError, struct.error):
            continue  # a malformed row is skipped, not fatal
    return out


def procfs_dump(states: FrozenSet[int], ports: Optional[FrozenSet[int]],
                root: str = "/proc") -> List[RawSocket]:
    """The /proc/net/tcp{,6} fallback; Unavailable when neither file can be read."""
    out: List[RawSocket] = []
    readable = 0
    for name, family in (("tcp", 4), ("tcp6", 6)):
        try:
            with open(f"{root}/net/{name}", encoding="ascii", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue  # tcp6 is absent when IPv6 is disabled
        readable += 1
        out += parse_proc_net_tcp(text, family, states, ports)
    if not readable:
        raise Unavailable(f"{root}/net/tcp is not readable")
    return out


# -- owners --------------------------------------------------------------------------

def _fd_count(root: str, pid: str) -> int:
    """How many fds a process has (Linux >= 6.2 reports it as the fd folder's size; 0 before)."""
    try:
        return os.stat(f"{root}/{pid}/fd").st_size
    except OSError:
        return 0


def find_owners(inodes: Iterable[int], root: str = "/proc") -> Dict[int, int]:
    """inode → pid of a process holding that socket, for those we can see.

    Walks /proc/<pid>/fd and stops once every inode has an owner. Processes with few fds
    go first, so one process with 10,000 sockets (a proxy, a database) is read last, if at
    all; then pid order, so the parent that created a socket shared after fork wins.
    Processes we may not read, and processes that exit mid-walk, are skipped.
    """
    wanted = {f"socket:[{inode}]": inode for inode in inodes if inode}
    found: Dict[int, int] = {}
    if not wanted:
        return found
    try:
        pids = [name for name in os.listdir(root) if name.isdigit()]
    except OSError:
        return found
    readlink, listdir = os.readlink, os.listdir
    for pid in sorted(pids, key=lambda pid: (_fd_count(root, pid), int(pid))):
        try:
            fd_dir = os.open(f"{root}/{pid}/fd", os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            for fd in listdir(fd_dir):
                try:
                    link = readlink(fd, dir_fd=fd_dir)
                except PermissionError:
                    break  # access is checked per process: its other fds are refused too
                except OSError:
                    continue  # closed meanwhile
                inode = wanted.pop(link, None)
                if inode is not None:
                    found[inode] = int(pid)
                    if not wanted:
                        return found
        except OSError:
            continue
        finally:
            os.close(fd_dir)
    return found


def _read(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def process_info(pid: int, root: str = "/proc") -> Tuple[Optional[str], Optional[Tuple[str, ...]]]:
    """(name, cmdline) of a process; None for what cannot be read or has gone."""
    comm = _read(f"{root}/{pid}/comm")
    name = comm.decode("utf-8", "replace").rstrip("\n") if comm else None
    raw = _read(f"{root}/{pid}/cmdline")
    cmdline: Optional[Tuple[str, ...]] = None
    if raw:
        words = raw.decode("utf-8", "replace").split("\0")
        if words and words[-1] == "":
            words.pop()
        cmdline = tuple(words)
    return name, cmdline


_USERS: Dict[int, Optional[str]] = {}


def user_name(uid: Optional[int]) -> Optional[str]:
    """The login name of a uid (cached; pwd imported on first use)."""
    if uid is None:
        return None
    if uid not in _USERS:
        try:
            import pwd

            _USERS[uid] = pwd.getpwuid(uid).pw_name
        except (ImportError, KeyError, OverflowError):
            _USERS[uid] = None
    return _USERS[uid]


def _state(row: RawSocket) -> Tuple[str, Optional[str], Optional[int]]:
    """(Listener.state, remote, remote port) of a kernel row: "listen"; "bound" for a socket
    with no far end (sock_diag reports bound-only sockets as TCP_CLOSE, port 0 remote);
    else "connected", in whatever TCP state, with its far end."""
    if row.state == TCP_LISTEN:
        return "listen", None, None
    if row.remote_port == 0:
        return "bound", None, None
    return "connected", row.remote, row.remote_port


def with_owners(rows: List[RawSocket], root: str = "/proc") -> List[Listener]:
    """Listeners for kernel rows, each with its owner where /proc shows one."""
    from devlint.model import Listener

    owners = find_owners((row.inode for row in rows), root)
    info: Dict[int, Tuple[Optional[str], Optional[Tuple[str, ...]]]] = {}
    out: List[Listener] = []
    for row in rows:
        pid = owners.get(row.inode)
        name: Optional[str] = None
        cmdline: Optional[Tuple[str, ...]] = None
        if pid is not None:
            if pid not in info:
                info[pid] = process_info(pid, root)
            name, cmdline = info[pid]
        v6only = row.v6only if row.family == 6 else None
        state, remote, remote_port = _state(row)
        out.append(Listener(row.address, row.port, row.family, v6only=v6only, pid=pid, process=name,
                            cmdline=cmdline, uid=row.uid, user=user_name(row.uid),
                            inode=row.inode or None, state=state, remote=remote, remote_port=remote_port))
    return out


def loopbacks(root: str = "/proc") -> Tuple[str, ...]:
    """The loopback addresses a client of localhost can reach here: 127.0.0.1, and ::1 only
    when /proc/net/if_inet6 lists it (absent with IPv6 off on lo, as in many containers, or
    with IPv6 off altogether; then connecting to ::1 fails at once and clients use 127.0.0.1).
    Both when the file cannot be read for another reason (assume the usual)."""
    try:
        with open(f"{root}/net/if_inet6", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except FileNotFoundError:
        return ("127.0.0.1",)
    except OSError:
        return ("127.0.0.1", "::1")
    has_v6 = any(line.split()[:1] == ["0" * 31 + "1"] for line in text.splitlines())
    return ("127.0.0.1", "::1") if has_v6 else ("127.0.0.1",)


# -- entry points --------------------------------------------------------------------

def _states(ports: Optional[FrozenSet[int]]) -> int:
    """On chosen ports every socket a bind must respect (netlink.BIND_STATES); on every
    port (`who` with no port) only LISTEN ones."""
    return BIND_STATES if ports is not None else 1 << TCP_LISTEN


def _keep(row: RawSocket, ports: Optional[FrozenSet[int]]) -> bool:
    """A filter is a speed-up, not a guarantee: Python's word on ports and state."""
    if ports is None:
        return row.state == TCP_LISTEN
    return row.port in ports and row.state != TCP_TIME_WAIT


def _listening(ports: Optional[FrozenSet[int]]) -> List[RawSocket]:
    """netlink.listening, through this module's `netlink_dump` (which tests replace)."""
    rows = netlink_dump(_states(ports), _port_filters(ports))
    return [r for r in rows if _keep(r, ports)]


def _procfs(ports: Optional[FrozenSet[int]]) -> List[RawSocket]:
    """The /proc/net/tcp rows _listening would give, less the bound-only sockets, which
    /proc/net/tcp never lists (they are only in the kernel's bind table)."""
    states = frozenset(range(1, 12)) - {TCP_TIME_WAIT} if ports is not None else frozenset({TCP_LISTEN})
    return procfs_dump(states, ports)


def listening_rows(ports: Optional[FrozenSet[int]]) -> Tuple[List[RawSocket], str]:
    """The rows on `ports` from the first backend that works (LISTEN, and on chosen ports
    the other sockets a bind must respect), and its name."""
    try:
        return _listening(ports), "netlink"
    except Unavailable:
        pass
    return _procfs(ports), "procfs"


def scan(ports: Optional[FrozenSet[int]], rows: Optional[List[RawSocket]] = None) -> Tuple[List[Listener], str]:
    """Sockets on `ports` with their owners (Listener.state tells LISTEN from the others),
    and the backend's name. rows: what netlink already returned for exactly these ports in
    this process (the warm pre-check's query, handed on by the CLI): only the owners are
    looked up."""
    backend = "netlink"
    if rows is None:
        try:
            rows, backend = listening_rows(ports)
        except Unavailable:
            from devlint.sockets import portable

            return portable.scan(ports, "linux")
    rows = [row for row in rows if _keep(row, ports)]
    listeners = with_owners(rows)
    if any(lst.pid is None for lst in listeners):
        listeners = _still_listening(listeners, ports)
    return listeners, backend


def _still_listening(listeners: List[Listener], ports: Optional[FrozenSet[int]]) -> List[Listener]:
    """Drop unowned sockets the kernel no longer lists: their process exited between the
    table read and the /proc walk (a race, not a holder). Costs one more dump, and only
    when some owner was not found (another user's socket, or such a race)."""
    try:
        try:
            rows = _listening(ports)
        except Unavailable:
            rows = _procfs(ports)
    except Unavailable:
        return listeners
    alive = {row.inode for row in rows}
    return [lst for lst in listeners if lst.pid is not None or not lst.inode or lst.inode in alive]


def owner_of_connection(local: Tuple[str, int], remote: Tuple[str, int]) -> Optional[Listener]:
    """See devlint.sockets.owner_of_connection."""
    from devlint.addresses import accept_rank, plain

    client, client_port = plain(local[0]), int(local[1])
    server, server_port = plain(remote[0]), int(remote[1])
    not_listening = ALL_STATES & ~(1 << TCP_LISTEN)
    try:
        rows = netlink_dump(not_listening, [_bc_sport_dport(server_port, client_port)])
    except Unavailable:
        try:
            rows = procfs_dump(frozenset(range(1, 12)) - {TCP_LISTEN}, frozenset({server_port}))
        except Unavailable:
            from devlint.sockets import portable

            return portable.owner_of_connection(local, remote)
    matches = [r for r in rows if r.port == server_port and r.remote_port == client_port
               and plain(r.address) == server and plain(r.remote) == client
               and r.state != TCP_TIME_WAIT]
    matches.sort(key=lambda r: r.state != TCP_ESTABLISHED)
    if matches and matches[0].inode:
        found = with_owners(matches[:1])[0]
        if found.pid is not None or found.uid is not None:
            return found
    # still in the accept queue (no inode yet): the listener that took it is the owner
    try:
        listening, _ = listening_rows(frozenset({server_port}))
    except Unavailable:
        return None
    ranked = sorted(((accept_rank(r.address, r.family, r.v6only, server), r) for r in listening
                     if r.state == TCP_LISTEN),
                    key=lambda pair: -pair[0])
    if not ranked or ranked[0][0] == 0:
        return None
    return with_owners([ranked[0][1]])[0]
