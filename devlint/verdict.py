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
"""

from __future__ import annotations

from typing import Sequence, Tuple

from devlint.addresses import LOCALHOST, LOOPBACKS, WILDCARDS, accept_rank, family, is_v6only, plain
from devlint.model import Endpoint, Listener, Verdict

CLEAR, HELD, SHADOWED = "clear", "held", "shadowed"
_BSD_LIKE = ("darwin", "win32", "freebsd", "openbsd", "netbsd")


def client_addresses(endpoint: Endpoint, binds: Sequence[str]) -> Tuple[str, ...]:
    """Where the service's clients connect. A server on loopback or a wildcard is reached
    as "localhost" by browsers and proxies: both loopback addresses."""
    host = plain(endpoint.host).lower()
    if host == LOCALHOST or any(b in LOOPBACKS or b in WILDCARDS for b in binds):
        return LOOPBACKS
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


def judge(endpoint: Endpoint, listeners: Sequence[Listener], platform: str, binds: Sequence[str]) -> Verdict:
    """Classify one endpoint against the listeners on its port; binds: the addresses the
    server will bind (addresses.server_binds, resolved by the caller: no DNS here)."""
    binds = tuple(binds)
    clients = client_addresses(endpoint, binds)
    on_port = [lst for lst in listeners if lst.port == endpoint.port]
    blocking = tuple(lst for lst in on_port if any(bind_fails(b, lst, platform) for b in binds))
    if blocking:
        return Verdict(HELD, blocking, binds, clients)
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
