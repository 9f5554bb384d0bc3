"""The address vocabulary: loopbacks, wildcards, families, and which listener accepts a connection.

One module that the core, the socket backends and the plugins all import, so that "is this a
wildcard", "what does localhost mean" and "who gets a connection to ::1" have one answer.

Terms (as in the README): a *bind address* is what a server passes to ``bind()``; a *wildcard*
is ``0.0.0.0`` (every IPv4 address) or ``::`` (every IPv6 address, and every IPv4 address too
when the socket is *dual-stack*, i.e. ``IPV6_V6ONLY`` is off); a *client address* is what a
client of the service connects to. ``localhost`` means both loopbacks, 127.0.0.1 and ::1.

Pure functions on text, except ``resolve``, which calls getaddrinfo for one name only:
``localhost`` (answered from /etc/hosts, never by DNS in a normal set-up). devlint "connects
to nothing", and a DNS query for a project's host name would leave the machine, so any other
name is not resolved: ``unchecked`` says why, and its endpoint is reported as not checked.
``*.localhost`` is loopback by RFC 6761 (and in browsers) without asking a resolver.
No data model import: the socket backends use this before any Listener exists.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence, Tuple

LOOPBACKS = ("127.0.0.1", "::1")
WILDCARDS = ("0.0.0.0", "::")
LOCALHOST = "localhost"
# Host values that mean "every address" to the servers devlint reads ("" and "*" in
# Werkzeug's and Node's listen(), firebase.json, vite's `host: true` written as "*").
_WILDCARD_SPELLINGS = ("", "*", "0.0.0.0", "::")

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


def family(address: str) -> int:
    """4 or 6: the IP family of an address text (a plain one, see ``plain``)."""
    return 6 if ":" in address else 4


def plain(host: str) -> str:
    """A host as connections use it: spaces, brackets and a zone (``%lo``) gone, IPv6 in lower
    case, an IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) as its IPv4 address."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" not in host:
        return host
    host = host.split("%", 1)[0].lower()
    if host.startswith("::ffff:") and "." in host:
        return host[7:]
    return host


def canonical(address: str, fam: int) -> str:
    """An address in the kernel's text form (``inet_ntop``): ``0:0::1`` → ``::1``; "" and "*"
    → the family's wildcard. IPv4-mapped IPv6 stays IPv6 text (the socket is an IPv6 one).
    Text that is not an address comes back lower-cased."""
    import socket

    text = (address or "").strip().strip("[]").split("%", 1)[0]
    if text in ("", "*"):
        return "::" if fam == 6 else "0.0.0.0"
    af = socket.AF_INET6 if fam == 6 else socket.AF_INET
    try:
        return socket.inet_ntop(af, socket.inet_pton(af, text))
    except (OSError, ValueError):
        return text.lower()


def is_address(host: str) -> bool:
    """Whether host is a literal IPv4 or IPv6 address (not a name)."""
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_wildcard(host: str) -> bool:
    """Whether a host value means "every address" (0.0.0.0, ::, "", "*")."""
    return plain(host) in _WILDCARD_SPELLINGS


def specific_binds(host: str, binds: Sequence[str] = ()) -> Tuple[str, ...]:
    """The literal bind addresses an endpoint names that this machine may not have: every
    one but a wildcard and 127.0.0.1 (``::1`` without IPv6 on loopback, another machine's
    address). () for names, which are resolved here or not at all."""
    candidates = [plain(b) for b in binds] if binds else [plain(host)]
    return tuple(a for a in candidates if a not in WILDCARDS and a != "127.0.0.1"
                 and any(c.isdigit() or c == ":" for c in a) and is_address(a))  # a name: no ipaddress import


def is_local(host: str) -> bool:
    """Whether a client given this host connects to this machine's loopback: localhost (or
    a name under it), a loopback address, or a wildcard (connecting to 0.0.0.0 / :: reaches
    the local host)."""
    value = plain(host).lower()
    return is_loopback_name(value) or value in LOOPBACKS or value in _WILDCARD_SPELLINGS


def name(host: str) -> str:
    """A host name as resolvers compare it: plain, lower case, one trailing dot (the
    fully-qualified form, ``localhost.``) removed."""
    text = plain(host).lower()
    return text[:-1] if text.endswith(".") and not text.endswith("..") else text


def is_loopback_name(host: str) -> bool:
    """``localhost`` or a name under it (``myapp.localhost``): loopback by RFC 6761 §6.3,
    and so in Chromium and Firefox, which never ask DNS for them."""
    text = name(host)
    return text == LOCALHOST or (text.endswith("." + LOCALHOST) and not text.startswith("."))


def under_localhost(host: str) -> bool:
    """A name under localhost (``myapp.localhost``), not localhost itself: loopback, but
    which loopback a server binds for it depends on the server's resolver."""
    return is_loopback_name(host) and name(host) != LOCALHOST


def unchecked(host: str) -> Optional[str]:
    """Why devlint cannot tell which addresses a server given this host binds, or None when
    it can (a literal address, with brackets or a zone; a wildcard; a loopback name).

    Spaces around a value are not stripped by the servers' resolvers (getaddrinfo, as used
    by Werkzeug and Node, fails on " localhost"), so such a value is not guessed at.
    Any other name would need a resolver, maybe DNS: devlint does not ask one.
    """
    if host != host.strip():
        return (f"the host {host!r} has spaces around it, which getaddrinfo (used by Werkzeug and "
                "Node) does not resolve")
    text = plain(host)
    if text in ("", "*") or is_address(text) or is_loopback_name(text):
        return None
    return (f"the host {host!r} is a name devlint does not resolve (it resolves only localhost and "
            "*.localhost, so that no DNS query leaves the machine)")


def resolve(host: str) -> Tuple[str, ...]:
    """The addresses a host resolves to, in the order the OS gives them (plain text).

    "" and "*" are the IPv4 wildcard (what Node and Werkzeug bind for them); a literal
    address is itself (brackets and zone removed). ``localhost`` (also ``localhost.``) goes
    through getaddrinfo; ``*.localhost`` is both loopbacks (RFC 6761, no resolver asked).
    Any other name: () without asking anything (see ``unchecked``).
    """
    host = plain(host)
    if host in ("", "*"):
        return ("0.0.0.0",)
    if is_address(host):
        return (host,)
    if not is_loopback_name(host):
        return ()
    if name(host) != LOCALHOST:
        return LOOPBACKS
    import socket

    try:
        infos = socket.getaddrinfo(LOCALHOST, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return ()
    seen: list[str] = []
    for info in infos:
        address = plain(str(info[4][0]))
        if address not in seen:
            seen.append(address)
    return tuple(seen)


def server_binds(host: str, binds: Sequence[str] = ()) -> Tuple[str, ...]:
    """What a server binds: its explicit bind addresses, else the first address its host
    resolves to (Werkzeug and Node both bind only the first address getaddrinfo returns)."""
    if binds:
        return tuple(plain(b) for b in binds)
    return resolve(host)[:1]


def bind_choices(host: str, binds: Sequence[str] = ()) -> Tuple[Tuple[str, ...], ...]:
    """Every set of addresses the server may bind: one (server_binds), except for a name
    under localhost, whose first address depends on the server's resolver (nss-myhostname
    and systemd-resolved give both loopbacks, in either order): each loopback on its own.
    () when the host is not checked (``unchecked``)."""
    if binds:
        return (server_binds(host, binds),)
    if unchecked(host) is not None:
        return ()
    if under_localhost(host):
        return tuple((address,) for address in LOOPBACKS)
    first = server_binds(host)
    return (first,) if first else ()


def bracketed(address: str) -> str:
    """An address as it appears before ``:port``: IPv6 in brackets."""
    return f"[{address}]" if ":" in address else address


def is_v6only(flag: Optional[bool], platform: str) -> bool:
    """Whether an IPv6 socket is v6only: its flag when the backend could read it, else the
    platform's default for a new socket (IPV6_V6ONLY on by default on Windows, off on Linux
    and macOS)."""
    return flag if flag is not None else platform == "win32"


def accept_rank(address: str, fam: int, v6only: Optional[bool], client: str, platform: str = "linux") -> int:
    """How a listener on ``address`` (socket family ``fam``) matches a connection to the plain
    address ``client``, in the order the kernel prefers: 4 exact, 3 exact through an
    IPv4-mapped IPv6 socket, 2 the wildcard of the client's family, 1 a dual-stack ``[::]``
    taking IPv4; 0 when it would not accept the connection.

    ``v6only`` None means "not known" (psutil): the platform's default applies.
    This is the one rule for "which listener gets the connection": the verdicts, probe and
    the connection-owner lookup all use it.
    """
    listening = plain(address)
    if listening == client:
        return 4 if fam == family(client) else 3
    if family(client) == 6:
        return 2 if listening == "::" else 0
    if listening == "0.0.0.0":
        return 2
    return 1 if listening == "::" and not is_v6only(v6only, platform) else 0


__all__ = [
    "BROWSER_RESTRICTED", "LOCALHOST", "LOOPBACKS", "WILDCARDS", "accept_rank", "bind_choices", "bracketed",
    "canonical", "family", "is_address", "is_local", "is_loopback_name", "is_v6only", "is_wildcard", "name",
    "plain", "resolve", "server_binds", "unchecked",
]
