"""Port suggestion: the nearest port a server can move to, found with real bind probes.

Kept apart from the pure rules in verdict.py because it touches the machine: each candidate
is checked by binding it (without SO_REUSEADDR, so wildcards and dual-stack sockets count),
on both loopback addresses and the server's own bind addresses. ``bind_refused`` is the
same kind of probe, used by the verdicts to confirm a socket that is not listening.
"""

from __future__ import annotations

from typing import Optional, Sequence

from devlint.addresses import BROWSER_RESTRICTED, LOOPBACKS, family


def port_is_free(port: int, addresses: Sequence[str] = LOOPBACKS) -> bool:
    """True when nothing listens on port at any of these addresses (a bind probe,
    without SO_REUSEADDR, so wildcards and dual-stack sockets count too)."""
    import errno

    for address in addresses:
        error = _bind(address, port, reuse=False)
        if error == errno.EADDRNOTAVAIL and address == "::1":
            continue  # no IPv6 on this machine: nobody can listen there either
        if error is not None:
            return False
    return True


def address_missing(address: str) -> bool:
    """Whether a server cannot bind this address here: a bind to port 0 on it (any free
    port, so no port is touched) fails: EADDRNOTAVAIL (not an address of this machine),
    EINVAL (a link-local address without its zone, ``fe80::1`` for ``fe80::1%lo``),
    EAFNOSUPPORT (no IPv6 at all). address may carry a zone (``fe80::1%lo``)."""
    return _bind(address, 0, reuse=False) is not None


def _bind(address: str, port: int, reuse: bool) -> Optional[int]:
    """Bind a TCP socket to address:port and close it at once (it never listens): None when
    the bind works, else its errno. reuse: SO_REUSEADDR on, as Werkzeug and Node bind, and
    ``::`` dual-stack (IPV6_V6ONLY off); without it every IPv6 probe is v6only."""
    import socket

    fam = socket.AF_INET6 if family(address) == 6 else socket.AF_INET
    try:
        with socket.socket(fam, socket.SOCK_STREAM) as probe:
            if reuse:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if reuse and address == "::" else 1)
            probe.bind((address, port))
    except OSError as exc:
        return exc.errno if exc.errno is not None else -1
    return None


def suggest_port(port: int, taken: Sequence[int] = (), binds: Sequence[str] = (),
                 limit: int = 200) -> Optional[int]:
    """The nearest port above `port` that is free on both loopback addresses (and the
    server's own bind addresses), not used by the stack, and not refused by browsers."""
    addresses = tuple(dict.fromkeys((*LOOPBACKS, *binds)))
    for candidate in range(port + 1, min(port + limit, 65535) + 1):
        if candidate in taken or candidate in BROWSER_RESTRICTED:
            continue
        if port_is_free(candidate, addresses):
            return candidate
    return None


def bind_refused(address: str, port: int) -> Optional[bool]:
    """Would a server's bind of address:port fail with EADDRINUSE? A bind probe made the way
    Werkzeug and Node bind on Linux: SO_REUSEADDR on, ``::`` dual-stack (IPV6_V6ONLY off).

    True: EADDRINUSE. False: the bind worked (the socket is closed at once, never listens).
    None: the probe cannot tell (EACCES below port 1024, EADDRNOTAVAIL, no such family).
    Linux's rules (inet_bind_conflict): a socket that is not listening blocks such a bind
    only when it did not set SO_REUSEADDR itself, which sock_diag does not report, so this
    probe is the only witness. Not meaningful on Windows, where SO_REUSEADDR lets a bind
    take an address another socket holds: callers use it on Linux only.
    """
    import errno

    error = _bind(address, port, reuse=True)
    if error is None:
        return False
    return True if error == errno.EADDRINUSE else None
