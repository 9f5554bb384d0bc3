"""Socket discovery: one scan of the machine's TCP LISTEN sockets, with their owners, and on
the ports asked about (Linux) the sockets that are not listening but make a bind fail.

Backends, in the order they are tried:

- Linux: netlink ``sock_diag`` (what ``ss`` uses; uid, inode and v6only for every socket
  in well under 10 ms), then ``/proc/net/tcp{,6}``, then psutil. Owners come from a walk
  of ``/proc/*/fd`` that stops once every wanted socket has one.
- macOS: psutil per process (system-wide ``net_connections()`` needs root there).
- Windows and others: psutil ``net_connections()``.

This module imports only ``sys``: devlint runs in front of every dev-server start, so the
backend (and psutil, ≈ 35 ms) is imported only when a scan runs on a platform that needs it.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: this package is on the warm path
if TYPE_CHECKING:
    from typing import Collection, List, Optional, Tuple

    from devlint.model import Listener, Snapshot
    from devlint.sockets.netlink import RawSocket

__all__ = ["owner_of_connection", "scan"]


def _wanted(ports: Optional[Collection[int]]) -> Optional[frozenset[int]]:
    if ports is None:
        return None
    return frozenset(int(p) for p in ports if 0 < int(p) < 65536)


def scan(ports: Optional[Collection[int]], platform: Optional[str] = None,
         rows: Optional[List[RawSocket]] = None) -> Snapshot:
    """Every TCP socket in LISTEN state on `ports` (None: on any port), IPv4 and IPv6;
    on chosen ports (Linux) also the sockets that are not listening but still make a
    server's bind fail (Snapshot.others: bound only, connections; not TIME_WAIT).
    ``sees_bound`` is True only where bound-only sockets can be listed (netlink on Linux
    >= 6.5): /proc/net/tcp and psutil never show them.

    `platform` (default ``sys.platform``) picks the strategy and is recorded in the
    snapshot, so checks judge with that platform's bind rules. Never raises for a socket
    or process the OS hides: such listeners come back with ``pid=None`` and the snapshot is
    marked ``partial``. `rows` (Linux): the rows netlink already returned for
    exactly these ports in this process (warm.py's query); then only owners are looked up.
    """
    from devlint.model import Snapshot

    platform = platform or sys.platform
    wanted = _wanted(ports)
    if wanted is not None and not wanted:
        return Snapshot((), platform, backend="none")
    sees_bound = False
    loopbacks: Tuple[str, ...] = ("127.0.0.1", "::1")
    if platform.startswith("linux"):
        from devlint.sockets import linux, netlink

        listeners, backend = linux.scan(wanted, rows)
        sees_bound = backend == "netlink" and netlink.lists_bound()
        if sys.platform.startswith("linux"):
            loopbacks = linux.loopbacks()
    else:
        from devlint.sockets import portable

        listeners, backend = portable.scan(wanted, platform)
    ordered = tuple(sorted(listeners, key=_order))
    partial = any(lst.pid is None for lst in ordered)
    listening = tuple(lst for lst in ordered if lst.state == "listen")
    others = tuple(lst for lst in ordered if lst.state != "listen")
    return Snapshot(listening, platform, backend=backend, partial=partial, others=others, sees_bound=sees_bound,
                    loopbacks=loopbacks)


def _order(listener: Listener) -> Tuple[int, int, str, int]:
    return (listener.port, listener.family, listener.address, listener.pid or 0)


def owner_of_connection(local: Tuple[str, int], remote: Tuple[str, int],
                        platform: Optional[str] = None) -> Optional[Listener]:
    """The process on the server side of a TCP connection this process made.

    `local` is our end (from ``getsockname()``), `remote` the server's address and port.
    The answer describes the server-side socket: its address/port, pid, name, cmdline,
    uid. A connection still waiting in the server's accept queue has no owner yet, so
    the listening socket that took it is reported instead (its v6only is set then).
    None when the connection is not in the table (already closed) or nothing can be
    looked up; never raises.
    """
    platform = platform or sys.platform
    try:
        if platform.startswith("linux"):
            from devlint.sockets import linux

            return linux.owner_of_connection(local, remote)
        from devlint.sockets import portable

        return portable.owner_of_connection(local, remote)
    except Exception:  # a failed lookup must never break a probe
        return None
