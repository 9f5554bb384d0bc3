"""Whole-stack checks: what no single framework's tool can see.

Two services on one port, a proxy pointing at a port no backend uses, a proxy that says
"localhost" to a backend bound to one address family, a frontend origin the backend's
CORS setup does not allow. All static: they read the plan, never sockets.
"""

from __future__ import annotations

import re
from typing import Iterable, List, Optional, Sequence, Tuple

from devlint import hookimpl
from devlint.addresses import BROWSER_RESTRICTED, LOOPBACKS, WILDCARDS, family, plain, server_binds, under_localhost
from devlint.model import Endpoint, Finding, Rule, RuleTable, Service, Severity, Upstream
from devlint.project import Project

LOCAL_HOSTS = ("localhost", *LOOPBACKS, *WILDCARDS)

RULES = RuleTable("stack", [
    Rule("DL201", Severity.ERROR, "two services of the stack use the same port", ("port", "services")),
    Rule("DL202", Severity.ERROR, "a proxy target points at a port no service of the stack listens on",
         ("target", "port", "backends"), also=(Severity.WARNING,)),
    Rule("DL203", Severity.WARNING, "a proxy target says localhost but the backend binds only one address family",
         ("target", "backend", "binds")),
    Rule("DL204", Severity.WARNING, "a backend's CORS origins do not allow a frontend's origin", ("origin", "allowed")),
    Rule("DL205", Severity.WARNING, "a port browsers refuse to fetch from (Chromium's restricted ports)", ("port",)),
])


@hookimpl
def devlint_rules() -> Sequence[Rule]:
    return list(RULES.values())


@hookimpl
def devlint_check_service(service: Service, project: Project) -> Iterable[Finding]:
    for endpoint in service.endpoints:
        if endpoint.port in BROWSER_RESTRICTED:
            yield RULES(
                "DL205",
                f"{service.name}: port {endpoint.port} ({endpoint.port_source}) is one browsers refuse "
                "to fetch from (Chromium: ERR_UNSAFE_PORT)",
                service=service.name, hint="Pick a port outside Chromium's restricted list, e.g. above 1024 "
                "and not 5060, 5061, 6000, 6665-6669, 6697 or 10080.",
                evidence={"port": endpoint.port})


@hookimpl
def devlint_check_stack(services: Sequence[Service], project: Project) -> Iterable[Finding]:
    yield from _shared_ports(services)
    for frontend in services:
        for upstream in frontend.upstreams:
            yield from _proxy_target(frontend, upstream, services)
    yield from _cors(services)


def _shared_ports(services: Sequence[Service]) -> Iterable[Finding]:
    owners: dict[int, List[Tuple[Service, Endpoint]]] = {}
    for svc in services:
        for ep in svc.endpoints:
            owners.setdefault(ep.port, []).append((svc, ep))
    for port, users in sorted(owners.items()):
        names = {svc.name for svc, _ in users}
        if len(names) < 2:
            continue  # one service's own duplicates are its plugin's business
        where = "; ".join(f"{svc.name} {ep.name} ({ep.port_source})" for svc, ep in users)
        yield RULES(
            "DL201", f"port {port} is used by {len(names)} services: {where}",
            service=users[0][0].name,
            hint="Only one of them can bind it; the other fails or, worse, clients reach the wrong one. "
                 "Move one of them to another port.",
            evidence={"port": port, "services": sorted(names)})


def _backends_on(port: int, services: Sequence[Service], exclude: Service) -> List[Tuple[Service, Endpoint]]:
    return [(svc, ep) for svc in services if svc is not exclude for ep in svc.endpoints if ep.port == port]


def _ports_of(service: Service) -> str:
    """`api on 5000 (.flaskenv:2 FLASK_RUN_PORT)`, or for many ports one line per service."""
    if len(service.endpoints) == 1:
        (endpoint,) = service.endpoints
        return f"{service.name} on {endpoint.port} ({endpoint.port_source})"
    return f"{service.name} on " + ", ".join(f"{ep.port} ({ep.name})" for ep in service.endpoints)


def _proxy_target(frontend: Service, upstream: Upstream, services: Sequence[Service]) -> Iterable[Finding]:
    host = plain(upstream.host)
    if host not in LOCAL_HOSTS:
        return
    matches = _backends_on(upstream.port, services, frontend)
    if not matches:
        others = [(svc, ep) for svc in services if svc is not frontend for ep in svc.endpoints]
        known = "; ".join(_ports_of(svc) for svc in services if svc is not frontend and svc.endpoints)
        # With no other service known (zero-config `ng serve` in the frontend's folder) the
        # backend may well be there, just undeclared: say so, but do not block the launch.
        yield RULES(
            "DL202",
            f"{frontend.name}: proxy {upstream.context or ''} → {upstream.url} ({upstream.source}) "
            f"points at port {upstream.port}, which no service of the stack listens on",
            service=frontend.name,
            hint=(f"Backends: {known}. Make the proxy target and the backend's port agree."
                  if known else "Declare the backend in devlint.toml, or fix the proxy target."),
            evidence={"target": upstream.url, "port": upstream.port,
                      "backends": [{"service": s.name, "port": e.port} for s, e in others]},
            severity=None if others else Severity.WARNING)
        return
    if host != "localhost":
        return
    for backend, endpoint in matches:
        binds = server_binds(endpoint.host, endpoint.binds)
        families = {family(b) for b in binds}
        if not binds or any(b == "::" for b in binds) or families == {4, 6}:
            continue
        if not endpoint.binds and under_localhost(endpoint.host):
            continue  # which family it binds depends on the server's resolver
        only = binds[0]
        yield RULES(
            "DL203",
            f"{frontend.name}: proxy target {upstream.url} ({upstream.source}) says localhost, but "
            f"{backend.name} binds only {only}",
            service=frontend.name,
            hint=(f"Node ≥ 17 resolves localhost in the OS's order; where that gives "
                  f"{'::1' if family(only) == 4 else '127.0.0.1'} first the proxy gets ECONNREFUSED "
                  f"or reaches another process. Use http://{'127.0.0.1' if family(only) == 4 else '[::1]'}:"
                  f"{upstream.port} as the target."),
            evidence={"target": upstream.url, "backend": backend.name, "binds": list(binds)})


def _allowed(origin: str, allowed: Sequence[str]) -> bool:
    for pattern in allowed:
        if pattern in ("*", origin):
            return True
        if any(ch in pattern for ch in "^$*+?[]()\\|"):
            try:
                if re.fullmatch(pattern, origin):
                    return True
            except re.error:
                continue
    return False


def _cors(services: Sequence[Service]) -> Iterable[Finding]:
    frontends = [svc for svc in services if svc.origin]
    for backend in services:
        if backend.cors_origins is None:
            continue
        for frontend in frontends:
            if frontend is backend or _allowed(_origin(frontend), backend.cors_origins):
                continue
            yield RULES(
                "DL204",
                f"{backend.name}: CORS origins ({backend.cors_source}) do not allow {frontend.name}'s "
                f"origin {_origin(frontend)}",
                service=backend.name,
                hint=(f"A page on {_origin(frontend)} calling {backend.name} directly fails its preflight. "
                      f"Add {_origin(frontend)!r} to origins (http://localhost and http://127.0.0.1 "
                      "are different origins)."),
                evidence={"origin": _origin(frontend), "allowed": list(backend.cors_origins)})


def _origin(service: Service) -> str:
    origin: Optional[str] = service.origin
    return (origin or "").rstrip("/")
