"""netlink sock_diag: the kernel's TCP table, as `ss` reads it, with no owners.

``SOCK_DIAG_BY_FAMILY`` (inet_diag) returns each socket with uid, inode and, for IPv6
LISTEN sockets, the ``INET_DIAG_SKV6ONLY`` attribute (the kernel adds it without being
asked). A port filter runs in the kernel as inet_diag bytecode, so the cost does not grow
with the number of unrelated listeners.

Split from linux.py because ``listening`` runs on the warm path of every `devlint run`
(warm.py asks it whether anything listens on the cached plan's ports, and hands the rows
it got on to the CLI, so a run asks the kernel once): this module imports only ``_socket``
(not ``socket``, whose enums cost ≈ 1 ms), ``struct`` and ``operator``, never ``typing`` or
the data model.
"""

from __future__ import annotations

import _socket as socket
import os
import struct
from operator import itemgetter as _itemgetter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import FrozenSet, Iterable, List, NamedTuple, Optional, Tuple

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
TCP_CLOSE = 7
TCP_LISTEN = 10
TCP_BOUND_INACTIVE = 13  # a request-only pseudo-state (Linux >= 6.5): rows come back as TCP_CLOSE
ALL_STATES = 0xFFF
# What a server's bind must respect: LISTEN, connections in every state but TIME_WAIT (a
# server setting SO_REUSEADDR, as Werkzeug and Node do, binds over TIME_WAIT), and sockets
# bound without listening. Older kernels ignore the bound-inactive bit (no socket has it).
BIND_STATES = (ALL_STATES & ~(1 << TCP_TIME_WAIT)) | (1 << TCP_BOUND_INACTIVE)

_NLMSGHDR = struct.Struct("=IHHII")
_REQ_V2 = struct.Struct("=BBBBI48s")  # family, protocol, ext, pad, states, sockid
# inet_diag_msg: family, state, timer+retrans, sport+dport (big-endian), src, dst,
# if+cookie+expires+rqueue+wqueue (skipped), uid, inode.
_DIAG_MSG = struct.Struct("=BB2x4s16s16s24xII")
_NLATTR = struct.Struct("=HH")
_BC_OP = struct.Struct("=BBH")  # inet_diag_bc_op (4 bytes): code, yes, no
_TIMEOUT = 2.0
_BUFSIZE = 1 << 16


if TYPE_CHECKING:
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
else:
    class RawSocket(tuple):
        """The NamedTuple above, built without typing or namedtuple's exec (≈ 0.3 ms)."""

        __slots__ = ()
        _fields = ("family", "state", "address", "port", "remote", "remote_port", "uid", "inode", "v6only")

        def __new__(cls, family, state, address, port, remote, remote_port, uid, inode, v6only):
            return tuple.__new__(cls, (family, state, address, port, remote, remote_port, uid, inode, v6only))

        def __repr__(self):
            return "RawSocket(" + ", ".join(f"{n}={v!r}" for n, v in zip(self._fields, self)) + ")"

        def _asdict(self):
            return dict(zip(self._fields, self))

    for _i, _name in enumerate(RawSocket._fields):
        setattr(RawSocket, _name, property(_itemgetter(_i), doc=_name))
    del _i, _name


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


def lists_bound(release: Optional[str] = None) -> bool:
    """Whether this kernel's sock_diag dumps sockets bound without listening (the
    TCP_BOUND_INACTIVE request bit, Linux 6.5, commit 91051f003948): from ``uname -r``."""
    text = release if release is not None else os.uname().release
    try:
        major, minor = (int("".join(c for c in part if c.isdigit()) or 0) for part in text.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (6, 5)


def listening(ports: Optional[FrozenSet[int]]) -> List[RawSocket]:
    """The sockets on `ports` (None: all) that a server's bind must respect: LISTEN ones,
    connections that are not in TIME_WAIT, and (Linux >= 6.5) sockets bound without
    listening. A warm `devlint run` execs only when this is empty. Unavailable when netlink
    cannot be used."""
    if ports is None:  # every port: LISTEN only (all connections of the machine mean nothing)
        return [r for r in netlink_dump(1 << TCP_LISTEN, [None]) if r.state == TCP_LISTEN]
    rows = netlink_dump(BIND_STATES, _port_filters(ports))
    # a filter is a speed-up, not a guarantee: keep Python's word on ports and state
    return [r for r in rows if r.state != TCP_TIME_WAIT and r.port in ports]
