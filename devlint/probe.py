"""`devlint probe`: ask a *running* service what a browser would get, on every address.

For each address a client may use (127.0.0.1 and ::1 for localhost), connect, send a real
CORS preflight and a plain request, and find which process accepted the connection in
the machine's socket table. Only loopback addresses (127.0.0.0/8, ::1) are ever
contacted, with short, bounded timeouts; a service on any other host is reported as not
probed (DL104), and a host name other than localhost is not resolved.

Everything put on the wire is ASCII and checked first (``wire_host``, ``request_target``,
``serialise_origin``): hosts, paths and origins come from the command line and from project
files, and a CR/LF in any of them would otherwise inject a header or a second request. A host
name goes out IDNA-encoded (Python's "idna" codec: IDNA 2003, which agrees with browsers'
UTS #46 for every name but a few such as "ß", which it maps to "ss"), a path
percent-encoded as a browser's address bar does, an origin serialised as browsers send it
(scheme://host[:port], default port left out). Control characters are refused, never
encoded: a UsageError (exit 2) naming --path/--origin, or the file, line and key a host
came from.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from devlint import culprits
from devlint.addresses import bracketed, is_address, plain, server_binds, unchecked
from devlint.model import Endpoint, Finding, Listener, Service, Source
from devlint.rules import CODE_PROBE_PREFLIGHT, CODE_PROBE_SILENT, CODE_PROBE_SPLIT, RULES
from devlint.verdict import client_addresses
from devlint.warm import UsageError, visible

TIMEOUT = 1.5
MAX_RESPONSE = 64 * 1024


@dataclass
class Answer:
    """What one address gave back: connection, owner, and both responses."""

    address: str
    port: int
    error: Optional[str] = None  # connection refused, timeout...
    owner: Optional[Listener] = None
    preflight_status: Optional[int] = None
    plain_status: Optional[int] = None
    server: Optional[str] = None
    allow_origin: List[str] = field(default_factory=list)  # every value, in order
    allow_headers: Optional[str] = None
    problems: List[str] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        return self.error is None


def _request(address: str, port: int, method: str, path: str, headers: Dict[str, str], host: str
             ) -> Tuple[int, List[Tuple[str, str]], Optional[Listener]]:
    """One HTTP/1.1 request on a fresh connection, within TIMEOUT overall; the accepting
    process is looked up while the connection is open. Returns (status, headers, owner)."""
    import time

    from devlint.sockets import owner_of_connection

    deadline = time.monotonic() + TIMEOUT
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.connect((address, port))
        local = sock.getsockname()[:2]
        owner = owner_of_connection((str(local[0]), int(local[1])), (address, port))
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
                 "User-Agent: devlint-probe", *(f"{k}: {v}" for k, v in headers.items())]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))  # checked by the callers
        data = b""
        while b"\r\n\r\n" not in data and len(data) < MAX_RESPONSE:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out")
            sock.settimeout(left)
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    parts = status_line.split(" ", 2)
    if not status_line.startswith("HTTP/") or len(parts) < 2 or not parts[1].isdigit():
        raise OSError(f"not an HTTP response: {status_line[:60]!r}" if status_line else "closed without an answer")
    parsed = [(k.strip().lower(), v.strip()) for k, _, v in (h.partition(":") for h in header_lines) if k]
    return int(parts[1]), parsed, owner


def probe_address(address: str, port: int, origin: str, path: str = "/", method: str = "POST",
                  host: str = "") -> Answer:
    """A browser's CORS preflight, then a plain GET, both to one address. `host` is the
    name a browser would put in the Host header (default: the address)."""
    answer = Answer(address, port)
    host = wire_host(host) if host else bracketed(address)
    path, origin = request_target(path), serialise_origin(origin)
    try:
        status, headers, owner = _request(address, port, "OPTIONS", path, {
            "Origin": origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type"}, host)
        answer.preflight_status, answer.owner = status, owner
        answer.server = next((v for k, v in headers if k == "server"), None)
        answer.allow_origin = [part.strip() for k, v in headers if k == "access-control-allow-origin"
                               for part in v.split(",")]
        answer.allow_headers = next((v for k, v in headers if k == "access-control-allow-headers"), None)
        answer.plain_status = _request(address, port, "GET", path, {"Origin": origin}, host)[0]
    except OSError as exc:
        answer.error = _describe_error(exc)
        return answer
    answer.problems = preflight_problems(answer, origin)
    return answer


def preflight_problems(answer: Answer, origin: str) -> List[str]:
    """Why a browser would reject this preflight (empty when it would pass)."""
    problems: List[str] = []
    status = answer.preflight_status or 0
    if status == 404:
        problems.append("the preflight got HTTP 404 (is the path a route of this server? see --path)")
    elif not 200 <= status < 300:
        problems.append(f"the preflight got HTTP {status}; browsers need a 2xx")
    values = answer.allow_origin
    if not values:
        problems.append("no Access-Control-Allow-Origin header")
    elif len(values) > 1:
        problems.append(f"Access-Control-Allow-Origin has several values {', '.join(values)!r}; "
                        "browsers allow one (two layers both add CORS headers)")
    elif values[0] not in ("*", origin):
        problems.append(f"Access-Control-Allow-Origin is {values[0]!r}, not {origin!r}")
    allowed = (answer.allow_headers or "").lower()
    if values and "content-type" not in allowed and "*" not in allowed:
        problems.append("Access-Control-Allow-Headers does not allow content-type (needed for JSON)")
    return problems


def _describe_error(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (nothing listens)"
    if isinstance(exc, socket.timeout):
        return f"no answer within {TIMEOUT:g} s"
    return str(exc) or type(exc).__name__


def probe_endpoint(endpoint: Endpoint, origin: str, path: str = "/") -> List[Answer]:
    """Every loopback address the endpoint's clients use: both loopbacks for a local server,
    else the configured host's own addresses when they are loopback (127.0.0.0/8, ::1).
    Nothing else is ever contacted: [] for a host that is not resolved or not loopback
    (findings_for then says it was not probed)."""
    host = endpoint.host if endpoint.host and not is_address(plain(endpoint.host)) else ""
    if host:
        host = _checked_host(host, endpoint.host_source)
    addresses = client_addresses(endpoint, server_binds(endpoint.host, endpoint.binds))
    return [probe_address(address, endpoint.port, origin, path, host=host)
            for address in addresses if _loopback(address)]


def _loopback(address: str) -> bool:
    import ipaddress

    return ipaddress.ip_address(address).is_loopback


def findings_for(service: Service, endpoint: Endpoint, answers: Sequence[Answer], origin: str,
                 judge_cors: bool = True, platform: str = sys.platform) -> List[Finding]:
    """DL701 different processes per address, DL702 a preflight a browser would reject
    (only with judge_cors: for endpoints browsers call cross-origin), DL703 nothing answers."""
    if not answers:  # a host devlint does not resolve, or not loopback: nothing was contacted
        return [_not_probed(service, endpoint)]
    found: List[Finding] = []
    reached = [a for a in answers if a.reached]
    owners = {(a.owner.pid if a.owner else None) for a in reached}
    evidence = {"answers": [answer_data(a) for a in answers], "origin": origin, "port": endpoint.port}
    if len(reached) > 1 and (len(owners) > 1 or len({a.server for a in reached}) > 1):
        text = "; ".join(f"{a.address} → {_who(a)}" for a in reached)
        known = [c for c in (culprits.match(a.owner, platform) for a in reached if a.owner) if c]
        found.append(RULES(
            CODE_PROBE_SPLIT,
            f"{service.name}: port {endpoint.port} is answered by different processes per address: {text}",
            service=service.name,
            hint="".join(f"{c.text()} " for c in known)
            + "Browsers try ::1 first for localhost: stop the other process or move the service "
              "to a port free on both families (`devlint check` suggests one).",
            evidence=evidence))
    for answer in reached if judge_cors else ():
        if answer.problems:
            found.append(RULES(
                CODE_PROBE_PREFLIGHT,
                f"{service.name}: a browser on {origin} would fail the CORS preflight to "
                f"{answer.address} port {endpoint.port} ({_who(answer)}): " + "; ".join(answer.problems),
                service=service.name, evidence=evidence))
    if not reached:
        found.append(RULES(CODE_PROBE_SILENT,
                           f"{service.name}: nothing answers on port {endpoint.port} "
                           f"({', '.join(a.address + ': ' + (a.error or '') for a in answers)})",
                           service=service.name, evidence=evidence))
    return found


def _not_probed(service: Service, endpoint: Endpoint) -> Finding:
    """DL104 for an endpoint probe_endpoint contacted nothing for."""
    from devlint.checks import unchecked_finding

    reason = unchecked(endpoint.host) or (f"the host {endpoint.host!r} is not a loopback address: devlint "
                                          "probe contacts only 127.0.0.0/8 and ::1")
    return unchecked_finding(service, endpoint, reason, done="probed")


def _who(answer: Answer) -> str:
    owner = answer.owner.owner() if answer.owner else "an unknown process"
    return owner + (f", Server: {answer.server}" if answer.server else "")


def answer_data(answer: Answer) -> Dict[str, object]:
    return {
        "address": answer.address, "port": answer.port, "error": answer.error,
        "pid": answer.owner.pid if answer.owner else None,
        "process": answer.owner.process if answer.owner else None,
        "preflight_status": answer.preflight_status, "status": answer.plain_status,
        "server": answer.server, "allow_origin": answer.allow_origin, "problems": answer.problems,
    }


# -- what goes on the wire -------------------------------------------------------------

# A browser's path percent-encode set (WHATWG URL) leaves these ASCII characters as they are;
# a query's "?", "&" and "=" and an existing "%XX" are kept, so --path "/a?b=c" means that.
_PATH_SAFE = "/?#[]@!$&'()*+,;=:%-._~"


def _controls(text: str) -> bool:
    """Whether text holds a control character or a line/bidi control (warm.visible's set)."""
    return visible(text) != text


def wire_host(host: str) -> str:
    """A host for the Host header and the Origin: an IP address as is (IPv6 in brackets), a
    name IDNA-encoded to ASCII in lower case ("Bücher.localhost" → "xn--bcher-kva.localhost").
    ValueError: a space or control character, a character a host cannot hold (/?#@\\ and
    brackets around a name), or a name IDNA cannot encode (an empty or over-long label)."""
    if _controls(host) or any(c.isspace() for c in host):
        raise ValueError("it holds a space or a control character")
    bare = plain(host)
    if is_address(bare):
        return bracketed(bare)
    if not bare or any(c in bare for c in "/?#@\\[]%:"):
        raise ValueError("it is not a host name")
    try:
        return bare.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValueError(f"IDNA cannot encode it ({exc.__context__ or exc})") from None


def _checked_host(host: str, source: Source) -> str:
    """wire_host, or a UsageError naming where the host came from (file:line key)."""
    try:
        return wire_host(host)
    except ValueError as exc:
        raise UsageError(f"{source}: host {host!r} cannot be sent in an HTTP request: {exc}") from None


def request_target(path: str) -> str:
    """The request line's target: path with non-ASCII characters (as UTF-8) and characters a
    browser would not send as they are (space excluded, see below) percent-encoded ("/bücher"
    → "/b%C3%BCcher"). ValueError: not starting with "/", or holding whitespace or a control
    character, which are refused rather than encoded (they are never what was meant)."""
    from urllib.parse import quote

    if not path.startswith("/") or _controls(path) or any(c.isspace() for c in path):
        raise ValueError(f"{path!r}: expected a URL path starting with / and without spaces or control characters")
    return quote(path, safe=_PATH_SAFE)


def serialise_origin(origin: str) -> str:
    """An Origin header value as browsers send it: "scheme://host[:port]", scheme and host in
    lower case, the host through wire_host (IDNA), the scheme's default port left out, no path
    ("http://Bücher.localhost:80/" → "http://xn--bcher-kva.localhost"); "null" as is.
    ValueError: a control character or space, a scheme other than http/https, no host, a port
    that is not 1-65535, user info, a query or a fragment."""
    from urllib.parse import urlsplit

    if origin == "null":
        return origin
    if _controls(origin) or any(c.isspace() for c in origin):
        raise ValueError(f"{origin!r}: holds a space or a control character")
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        raise ValueError(f"{origin!r}: not scheme://host[:port]") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.username is not None \
            or parts.path not in ("", "/") or parts.query or parts.fragment or port == 0:
        raise ValueError(f"{origin!r}: expected http(s)://host[:port] (as a browser sends it)")
    host = wire_host(parts.hostname)
    default = 80 if scheme == "http" else 443
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")
