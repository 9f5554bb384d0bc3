"""Port truth: will the server's bind succeed, and will its clients reach *it*?

Two questions per endpoint, answered from one listener snapshot:

- **held**: the server's own bind fails, because another socket already covers one of its
  bind addresses (the platform's bind rules decide what "covers" means).
- **shadowed**: the bind succeeds, but a client of the service connects to an address the
  server does not answer, and another process does. Clients of a dev server use
  "localhost", which means both 127.0.0.1 and ::1: Chromium tries ::1 first and does not
  fall back once that connection succeeds. This is the AirPlay-on-5000 bug, and no bind
  probe can see it.

All platform rules live here:
- Linux: a LISTEN socket on a wildcard (0.0.0.0, or [::]) blocks every bind of the same
  family on that port, and a dual-stack [::] (v6only off) blocks IPv4 binds too.
- macOS/BSD and Windows: with SO_REUSEADDR (set by Werkzeug and Node), a specific address
  can be bound next to a wildcard; connections then go to the most specific socket.
- Sockets that are not listening (bound only, connections: Snapshot.others) take part in
  bind conflicts by the same address rules, but answer nobody: they can hold, never shadow.
  Whether one really blocks depends on its own SO_REUSEADDR, which the kernel does not
  report, so a bind probe (suggest.bind_refused, Linux only) has the last word when the
  caller passes one; without a probe such a socket counts as a holder (never a false clear).
- Clients of localhost reach only the loopbacks the machine has: with no ::1 (IPv6 off on
  lo, common in containers) a connection to ::1 fails at once and clients use 127.0.0.1.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence, Tuple

from devlint.addresses import LOOPBACKS, WILDCARDS, accept_rank, family, is_loopback_name, is_v6only, plain
from devlint.model import Endpoint, Listener, Verdict

CLEAR, HELD, SHADOWED, UNCHECKED = "clear", "held", "shadowed", "unchecked"
UNAVAILABLE = "unavailable"  # a bind address this machine does not have (checks.missing_binds)
_BSD_LIKE = ("darwin", "win32", "freebsd", "openbsd", "netbsd")
# (bind address, port) → True: EADDRINUSE, False: the bind works, None: cannot tell.
Probe = Callable[[str, int], Optional[bool]]


def client_addresses(endpoint: Endpoint, binds: Sequence[str],
                     loopbacks: Sequence[str] = LOOPBACKS) -> Tuple[str, ...]:
    """Where the service's clients connect. A server on loopback or a wildcard is reached
    as "localhost" by browsers and proxies: every loopback address the machine has
    (loopbacks: both by default; ("127.0.0.1",) where lo has no ::1)."""
    if is_loopback_name(endpoint.host) or any(b in LOOPBACKS or b in WILDCARDS for b in binds):
        return tuple(loopbacks)
    return tuple(binds)


# -- the rules ---------------------------------------------------------------------

def accepts(listener: Listener, client: str, platform: str) -> int:
    """How specifically a listener matches connections to client (addresses.accept_rank)."""
    return accept_rank(listener.address, listener.family, listener.v6only, client, platform)


def bind_fails(bind: str, listener: Listener, platform: str) -> bool:
    """Would binding `bind` on the listener's port fail with EADDRINUSE?"""
    address = plain(listener.address)
    if address == bind:
        return True
    bsd_like = platform.startswith(_BSD_LIKE)
    if bsd_like:
        # SO_REUSEADDR lets a specific bind sit next to a wildcard (and the reverse).
        return False
    same_family = family(address) == family(bind)
    if same_family and (address in WILDCARDS or bind in WILDCARDS):
        return True
    if address == "::" and family(bind) == 4 and not is_v6only(listener.v6only, platform):
        return True  # a dual-stack [::] owns every IPv4 address too
    return bind == "::" and family(address) == 4  # our [::] would be dual-stack


def judge(endpoint: Endpoint, listeners: Sequence[Listener], platform: str, binds: Sequence[str],
          others: Sequence[Listener] = (), probe: Optional[Probe] = None, sees_bound: bool = True,
          loopbacks: Sequence[str] = LOOPBACKS) -> Verdict:
    """Classify one endpoint against the sockets on its port; binds: the addresses the
    server will bind (addresses.server_binds, resolved by the caller: no DNS here).

    listeners: LISTEN sockets; others: sockets that are not listening (Snapshot.others);
    probe: a bind probe for this machine (suggest.bind_refused), or None to judge from
    the snapshot alone; sees_bound: whether the snapshot could list bound-only sockets
    (when not, and a probe is given, each bind is probed: "held, holder unknown");
    loopbacks: the loopback addresses this machine has (Snapshot.loopbacks). No binds (a
    host that is not checked, addresses.unchecked): "unchecked", never clear.
    """
    binds = tuple(binds)
    if not binds:  # a host devlint does not resolve: nothing to judge, and not clear either
        return Verdict(UNCHECKED, tuple(lst for lst in listeners if lst.port == endpoint.port))
    clients = client_addresses(endpoint, binds, loopbacks)
    on_port = [lst for lst in listeners if lst.port == endpoint.port]
    blocking = tuple(lst for lst in on_port if any(bind_fails(b, lst, platform) for b in binds))
    if blocking:
        return Verdict(HELD, blocking, binds, clients)
    held = _held_by_others(endpoint.port, binds, others, platform, probe, sees_bound)
    if held is not None:
        return Verdict(HELD, held, binds, clients)
    ours = [Listener(b, endpoint.port, family(b), v6only=False) for b in binds]
    thieves: list[Listener] = []
    lost: list[str] = []
    for client in clients:
        mine = max((accepts(lst, client, platform) for lst in ours), default=0)
        other = max(on_port, key=lambda lst: accepts(lst, client, platform), default=None)
        if other is None or accepts(other, client, platform) <= mine:
            continue
        lost.append(client)
        if other not in thieves:
            thieves.append(other)
    if thieves:
        return Verdict(SHADOWED, tuple(thieves), binds, clients, tuple(lost))
    return Verdict(CLEAR, (), binds, clients)


def _held_by_others(port: int, binds: Tuple[str, ...], others: Sequence[Listener], platform: str,
                    probe: Optional[Probe], sees_bound: bool) -> Optional[Tuple[Listener, ...]]:
    """The non-listening sockets that make the bind fail (maybe () for "a probe failed, the
    holder is not visible"); None when the bind works as far as we can tell.

    Without a probe, every overlapping socket holds. With one: a failed probe holds; a probe
    that binds every address clears them (they set SO_REUSEADDR themselves, so the kernel
    lets a SO_REUSEADDR server bind next to them); a probe that cannot tell keeps them.
    """
    overlapping = tuple(lst for lst in others
                        if lst.port == port and any(bind_fails(b, lst, platform) for b in binds))
    if probe is None:
        return overlapping or None
    if not overlapping and sees_bound:
        return None
    answers = [probe(b, port) for b in binds]
    if any(answer is True for answer in answers):
        return overlapping
    if overlapping and not all(answer is False for answer in answers):
        return overlapping
    return None
