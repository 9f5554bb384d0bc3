"""Linux listener discovery: netlink sock_diag, /proc/net/tcp, and owners from /proc/*/fd.

netlink ``SOCK_DIAG_BY_FAMILY`` (inet_diag, what ``ss`` uses) returns each socket with
uid, inode and, for IPv6 LISTEN sockets, the ``INET_DIAG_SKV6ONLY`` attribute (the kernel
adds it without being asked). A port filter runs in the kernel as inet_diag bytecode, so
the cost does not grow with the number of unrelated listeners. The kernel tables carry no
pid: owners are found by reading ``/proc/<pid>/fd/*`` links (``socket:[inode]``), stopping
as soon as every wanted inode has one. Anything that vanishes or is unreadable during the
walk just stays unowned.

Only ``os``, ``socket`` and ``struct`` are imported here; psutil only as a last resort.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import Dict, FrozenSet, Iterable, List, NamedTuple, Optional, Tuple

from devlint.model import Listener

# <linux/netlink.h>, <linux/sock_diag.h>, <linux/inet_diag.h>, <net/tcp_states.h>
NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
INET_DIAG_REQ_BYTECODE = 1
INET_DIAG_SKV6ONLY = 11
INET_DIAG_BC_NOP = 0
INET_DIAG_BC_JMP = 1
INET_DIAG_BC_S_EQ = 11
INET_DIAG_BC_D_EQ = 12
TCP_ESTABLISHED = 1
TCP_TIME_WAIT = 6
TCP_LISTEN = 10
ALL_STATES = 0xFFF

_NLMSGHDR = struct.Struct("=IHHII")
_REQ_V2 = struct.Struct("=BBBBI48s")  # family, protocol, ext, pad, states, sockid
# inet_diag_msg: family, state, timer+retrans, sport+dport (big-endian), src, dst,
# if+cookie+expires+rqueue+wqueue (skipped), uid, inode.
_DIAG_MSG = struct.Struct("=BB2x4s16s16s24xII")
_NLATTR = struct.Struct("=HH")
_BC_OP = struct.Struct("=BBH")  # inet_diag_bc_op (4 bytes): code, yes, no
_TIMEOUT = 2.0
_BUFSIZE = 1 << 16


class RawSocket(NamedTuple):
    """One row of the kernel's TCP table, before owners are looked up."""

    family: int  # 4 or 6
    state: int
    address: str
    port: int
    remote: str
    remote_port: int
    uid: Optional[int]
    inode: int
    v6only: Optional[bool]


class Unavailable(OSError):
    """This backend cannot run here (netlink refused, /proc missing)."""


# -- netlink -------------------------------------------------------------------------

def _bc_any_sport(ports: Iterable[int]) -> bytes:
    """Bytecode accepting a socket whose local port is any of `ports`.

    The kernel runs ops until it lands exactly on the end (accept) or past it (reject),
    and its validator only allows jumps to ops on the chain of "yes" jumps from the start.
    So each port is: S_EQ (hit: on to a JMP; miss: next test, or end + 4 after the last
    one), the port, then a JMP whose 16-bit "no" jump goes to the end (accept).
    """
    ordered = sorted(ports)
    total = 12 * len(ordered)
    out = bytearray()
    for i, port in enumerate(ordered):
        remaining = total - 12 * i
        out += _BC_OP.pack(INET_DIAG_BC_S_EQ, 8, 12 if i < len(ordered) - 1 else 16)
        out += _BC_OP.pack(INET_DIAG_BC_NOP, 0, port)
        out += _BC_OP.pack(INET_DIAG_BC_JMP, 4, remaining - 8)
    return bytes(out)


def _bc_sport_dport(sport: int, dport: int) -> bytes:
    """Bytecode accepting a socket with local port `sport` and remote port `dport`."""
    return (_BC_OP.pack(INET_DIAG_BC_S_EQ, 8, 20) + _BC_OP.pack(INET_DIAG_BC_NOP, 0, sport)
            + _BC_OP.pack(INET_DIAG_BC_D_EQ, 8, 12) + _BC_OP.pack(INET_DIAG_BC_NOP, 0, dport))


def _port_filters(ports: Optional[FrozenSet[int]]) -> List[Optional[bytes]]:
    """One bytecode per request; jumps are 16-bit (12 bytes a port): 1,000 ports a program."""
    if ports is None:
        return [None]
    ordered = sorted(ports)
    return [_bc_any_sport(ordered[i:i + 1000]) for i in range(0, len(ordered), 1000)]


def _request(family: int, states: int, bytecode: Optional[bytes], seq: int) -> bytes:
    body = _REQ_V2.pack(family, socket.IPPROTO_TCP, 0, 0, states, b"")
    if bytecode is not None:
        body += _NLATTR.pack(4 + len(bytecode), INET_DIAG_REQ_BYTECODE) + bytecode
    flags = NLM_F_REQUEST | NLM_F_DUMP
    return _NLMSGHDR.pack(16 + len(body), SOCK_DIAG_BY_FAMILY, flags, seq, 0) + body


def _parse_messages(data: bytes, seq: int, out: List[RawSocket]) -> bool:
    """Append the sockets in one netlink datagram to `out`; True once the dump is done."""
    end = len(data)
    offset = 0
    unpack_hdr, unpack_msg = _NLMSGHDR.unpack_from, _DIAG_MSG.unpack_from
    unpack_attr = _NLATTR.unpack_from
    ntop = socket.inet_ntop
    while offset + 16 <= end:
        length, kind, _flags, msg_seq, _pid = unpack_hdr(data, offset)
        if length < 16 or offset + length > end:
            raise OSError("truncated netlink message")
        if msg_seq != seq:
            offset += (length + 3) & ~3
            continue
        if kind == NLMSG_DONE:
            return True
        if kind == NLMSG_ERROR:
            errno = -struct.unpack_from("=i", data, offset + 16)[0]
            if errno:
                raise OSError(errno, f"sock_diag: {os.strerror(errno)}")
            return True
        if kind == SOCK_DIAG_BY_FAMILY and length >= 16 + 72:
            family, state, ports, src, dst, uid, inode = unpack_msg(data, offset + 16)
            v6only: Optional[bool] = None
            if family == socket.AF_INET6:
                fam = 6
                address, remote = ntop(socket.AF_INET6, src), ntop(socket.AF_INET6, dst)
                attr, stop = offset + 16 + 72, offset + length
                while attr + 4 <= stop:
                    alen, atype = unpack_attr(data, attr)
                    if alen < 4:
                        break
                    if atype & 0x3FFF == INET_DIAG_SKV6ONLY and alen >= 5:
                        v6only = data[attr + 4] != 0
                        break
                    attr += (alen + 3) & ~3
            else:
                fam = 4
                address, remote = ntop(socket.AF_INET, src[:4]), ntop(socket.AF_INET, dst[:4])
            out.append(RawSocket(fam, state, address, (ports[0] << 8) | ports[1], remote,
                                 (ports[2] << 8) | ports[3], uid, inode, v6only))
        offset += (length + 3) & ~3
    return False


def netlink_dump(states: int, filters: List[Optional[bytes]],
                 families: Tuple[int, ...] = (socket.AF_INET, socket.AF_INET6)) -> List[RawSocket]:
    """Every TCP socket in `states` (bitmask of 1 << TCP_*) that passes one of `filters`.

    Raises Unavailable when netlink sock_diag cannot be used here.
    """
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    except (OSError, AttributeError) as exc:  # AttributeError: no AF_NETLINK in this Python
        raise Unavailable(f"netlink sock_diag: {exc}") from exc
    out: List[RawSocket] = []
    try:
        sock.settimeout(_TIMEOUT)
        seq = 0
        for family in families:
            for bytecode in filters:
                seq += 1
                try:
                    sock.sendto(_request(family, states, bytecode, seq), (0, 0))
                    done = False
                    while not done:
                        done = _parse_messages(sock.recv(_BUFSIZE), seq, out)
                except OSError as exc:
                    raise Unavailable(f"netlink sock_diag: {exc}") from exc
    finally:
        sock.close()
    return out


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


def with_owners(rows: List[RawSocket], root: str = "/proc") -> List[Listener]:
    """Listeners for kernel rows, each with its owner where /proc shows one."""
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
        out.append(Listener(row.address, row.port, row.family, v6only=v6only, pid=pid, process=name,
                            cmdline=cmdline, uid=row.uid, user=user_name(row.uid),
                            inode=row.inode or None))
    return out


# -- entry points --------------------------------------------------------------------

def listening_rows(ports: Optional[FrozenSet[int]]) -> Tuple[List[RawSocket], str]:
    """LISTEN rows on `ports` from the first backend that works, and its name."""
    try:
        rows = netlink_dump(1 << TCP_LISTEN, _port_filters(ports))
        # a filter is a speed-up, not a guarantee: keep Python's word on ports and state
        rows = [r for r in rows if r.state == TCP_LISTEN and (ports is None or r.port in ports)]
        return rows, "netlink"
    except Unavailable:
        pass
    return procfs_dump(frozenset({TCP_LISTEN}), ports), "procfs"


def scan(ports: Optional[FrozenSet[int]]) -> Tuple[List[Listener], str]:
    try:
        rows, backend = listening_rows(ports)
    except Unavailable:
        from devlint.sockets import portable

        return portable.scan(ports, "linux")
    return with_owners(rows), backend


def owner_of_connection(local: Tuple[str, int], remote: Tuple[str, int]) -> Optional[Listener]:
    """See devlint.sockets.owner_of_connection."""
    from devlint.sockets import accept_rank, plain_address

    client, client_port = plain_address(local[0]), int(local[1])
    server, server_port = plain_address(remote[0]), int(remote[1])
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
               and plain_address(r.address) == server and plain_address(r.remote) == client
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
    ranked = sorted(((accept_rank(r.family, r.address, r.v6only, server), r) for r in listening),
                    key=lambda pair: -pair[0])
    if not ranked or ranked[0][0] == 0:
        return None
    return with_owners([ranked[0][1]])[0]
