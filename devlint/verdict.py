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

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from devlint.model import Endpoint, Listener

CLEAR, HELD, SHADOWED = "clear", "held", "shadowed"
LOOPBACKS = ("127.0.0.1", "::1")
WILDCARDS = ("0.0.0.0", "::")
_BSD_LIKE = ("darwin", "win32", "freebsd", "openbsd", "netbsd")


@dataclass(frozen=True)
class Verdict:
    status: str  # clear | held | shadowed
    listeners: Tuple[Listener, ...] = ()  # the sockets in the way
    binds: Tuple[str, ...] = ()  # addresses the server will bind
    clients: Tuple[str, ...] = ()  # addresses its clients connect to
    lost: Tuple[str, ...] = ()  # client addresses another process answers (shadowed)


# -- addresses -----------------------------------------------------------------

def family(address: str) -> int:
    return 6 if ":" in address else 4


def normalise(host: str) -> str:
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host.lower().startswith("::ffff:") and "." in host:
        return host[7:]  # an IPv4-mapped address is the IPv4 address
    return host.lower() if ":" in host else host


def is_address(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def resolve_host(host: str) -> Tuple[str, ...]:
    """The addresses a host name resolves to, in the order the OS gives them."""
    host = normalise(host)
    if host in ("", "*"):
        return ("0.0.0.0",)
    if is_address(host):
        return (host,)
    import socket

    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return ()
    seen: list[str] = []
    for info in infos:
        address = normalise(str(info[4][0]).split("%")[0])
        if address not in seen:
            seen.append(address)
    return tuple(seen)


def bind_addresses(endpoint: Endpoint) -> Tuple[str, ...]:
    """What the server binds: what the plugin said, else the first address of its host
    (Werkzeug and Node both bind only the first address getaddrinfo returns)."""
    if endpoint.binds:
        return tuple(normalise(b) for b in endpoint.binds)
    return resolve_host(endpoint.host)[:1]


def client_addresses(endpoint: Endpoint, binds: Sequence[str]) -> Tuple[str, ...]:
    """Where the service's clients connect. A server on loopback or a wildcard is reached
    as "localhost" by browsers and proxies: both loopback addresses."""
    host = normalise(endpoint.host)
    if host == "localhost" or any(b in LOOPBACKS or b in WILDCARDS for b in binds):
        return LOOPBACKS
    return tuple(binds)


# -- the rules ---------------------------------------------------------------------

def _v6only(listener: Listener, platform: str) -> bool:
    if listener.v6only is not None:
        return listener.v6only
    return platform == "win32"  # Windows' default is v6only; Linux's and macOS's is not


def accepts(listener: Listener, client: str, platform: str) -> int:
    """How specifically a listener matches connections to client: 0 no, 1 wildcard, 2 exact."""
    if normalise(listener.address) == client:
        return 2
    if listener.address == "0.0.0.0" and family(client) == 4:
        return 1
    if listener.address == "::" and (family(client) == 6 or not _v6only(listener, platform)):
        return 1
    return 0


def bind_fails(bind: str, listener: Listener, platform: str) -> bool:
    """Would binding `bind` on the listener's port fail with EADDRINUSE?"""
    address = normalise(listener.address)
    if address == bind:
        return True
    bsd_like = platform.startswith(_BSD_LIKE)
    if bsd_like:
        # SO_REUSEADDR lets a specific bind sit next to a wildcard (and the reverse).
        return False
    same_family = family(address) == family(bind)
    if same_family and (address in WILDCARDS or bind in WILDCARDS):
        return True
    if address == "::" and family(bind) == 4 and not _v6only(listener, platform):
        return True  # a dual-stack [::] owns every IPv4 address too
    return bind == "::" and family(address) == 4  # our [::] would be dual-stack


def judge(endpoint: Endpoint, listeners: Sequence[Listener], platform: str,
          binds: Optional[Sequence[str]] = None) -> Verdict:
    """Classify one endpoint against the listeners on its port."""
    binds = tuple(binds if binds is not None else bind_addresses(endpoint))
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


# -- ports browsers refuse -----------------------------------------------------------

# Chromium's kRestrictedPorts (net/base/port_util.cc): fetches to these fail with
# ERR_UNSAFE_PORT, whatever the server does. Plus 4190 and 6679 from the Fetch standard's
# bad-port list, which Firefox also blocks: a suggested port must work in every browser.
BROWSER_RESTRICTED = frozenset({
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95,
    101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161,
    179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563,
    587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060,
    5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
})


def port_is_free(port: int, addresses: Sequence[str] = ("127.0.0.1", "::1")) -> bool:
    """True when nothing listens on port at any of these addresses (a bind probe,
    without SO_REUSEADDR, so wildcards and dual-stack sockets count too)."""
    import socket

    for address in addresses:
        fam = socket.AF_INET6 if family(address) == 6 else socket.AF_INET
        try:
            with socket.socket(fam, socket.SOCK_STREAM) as probe:
                if fam == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind((address, port))
        except OSError as exc:
            import errno

            if exc.errno == errno.EADDRNOTAVAIL and address == "::1":
                continue  # no IPv6 on this machine: nobody can listen there either
            return False
    return True


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
