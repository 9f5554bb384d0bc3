"""snapshot → findings: the port verdict of every endpoint, as messages a user can act on.

The snapshot is taken once by the caller; nothing here scans sockets. Explanations of
the processes in the way (known culprits, stale dev servers) come from culprits.py and
the plugins' devlint_explain_listener hook, asked only when a port is not clear.
"""

from __future__ import annotations

import re
from typing import Callable, Dict, List, Optional, Sequence

from devlint import culprits
from devlint.addresses import is_local
from devlint.model import Endpoint, Explanation, Finding, Listener, Service, Severity, Snapshot, Upstream, Verdict
from devlint.suggest import suggest_port
from devlint.verdict import CLEAR, HELD, judge

Explain = Callable[[Listener, Service, Endpoint, str], Optional[Explanation]]

HELD_CODE, SHADOWED_CODE, MOVES_CODE = "DL101", "DL102", "DL103"


def verdicts(services: Sequence[Service], snapshot: Snapshot,
             busy_only: bool = False) -> List[tuple[Service, Endpoint, Verdict]]:
    """busy_only: skip endpoints nothing listens on (clear for sure), which spares resolving
    their hosts (getaddrinfo and the socket module cost ≈ 5-8 ms of a run)."""
    return [(svc, ep, judge(ep, snapshot.on_port(ep.port), snapshot.platform))
            for svc in services for ep in svc.endpoints if not busy_only or snapshot.on_port(ep.port)]


def port_findings(services: Sequence[Service], snapshot: Snapshot, stack: Sequence[Service],
                  explain: Optional[Explain] = None) -> List[Finding]:
    """One finding per endpoint that is not clear."""
    taken = [ep.port for svc in stack for ep in svc.endpoints]
    findings: List[Finding] = []
    for svc, endpoint, verdict in verdicts(services, snapshot, busy_only=True):
        if verdict.status == CLEAR:
            continue
        followers = [up for other in stack if other.name != svc.name for up in other.upstreams
                     if up.port == endpoint.port and is_local(up.host)]
        findings.append(_finding(svc, endpoint, verdict, snapshot.platform, taken, explain, followers))
    return findings


def describe_listener(listener: Listener) -> str:
    family = "IPv6" if listener.family == 6 else "IPv4"
    if listener.family == 6 and listener.address == "::" and listener.v6only is not None:
        family += ", v6only" if listener.v6only else ", dual-stack"
    text = f"{listener.owner()} on {listener.where()} ({family})"
    if listener.cmdline:
        command = " ".join(" ".join(listener.cmdline).split())  # one line, even for `python -c "..."`
        text += f": `{command[:117] + '...' if len(command) > 120 else command}`"
    return text


def _finding(svc: Service, endpoint: Endpoint, verdict: Verdict, platform: str,
             taken: Sequence[int], explain: Optional[Explain], followers: Sequence[Upstream] = ()) -> Finding:
    port = endpoint.port
    what = f"{svc.name}" + (f" {endpoint.name}" if endpoint.name not in ("http", "") else "")
    holders = "; ".join(describe_listener(lst) for lst in verdict.listeners)
    if verdict.status == HELD:
        code = MOVES_CODE if endpoint.auto_moves else HELD_CODE
        message = f"{what}: port {port} is already in use by {holders}"
        if endpoint.auto_moves:
            message += f" (it will start on another port, not {port})"
    else:
        code = SHADOWED_CODE
        lost = " and ".join(verdict.lost)
        message = (f"{what}: will bind {', '.join(verdict.binds)} port {port}, but connections to "
                   f"{lost} port {port} reach {holders}")
    hints: List[str] = []
    explanations: Dict[int, Explanation] = {}
    for listener in verdict.listeners:
        found = culprits.match(listener, platform) or (explain(listener, svc, endpoint, platform) if explain else None)
        if found:
            explanations[id(listener)] = found
            hints.append(f"{found.title}: {found.why}; {found.fix}.")
    if verdict.status != HELD:
        hints.append("Browsers try ::1 first for localhost and keep the first connection that "
                     "succeeds, so requests and CORS preflights go to that process, not yours.")
    if any(lst.pid is None for lst in verdict.listeners):
        hints.append(f"The owner belongs to another user; `sudo devlint who {port}` shows the process.")
    free = suggest_port(port, taken, verdict.binds)
    if free is not None:
        where = endpoint.fix.format(port=free) if endpoint.fix else f"configure port {free}"
        hints.append(f"Port {free} is free on 127.0.0.1 and ::1: {where}"
                     + (f" (now from {endpoint.port_source})" if endpoint.port_source.kind != "default" else "")
                     + "".join(f"; the proxy target must follow: {up.source}: {up.url} → "
                               + re.sub(rf":{port}\b", f":{free}", up.url, count=1) for up in followers)
                     + ".")
    severity = Severity.WARNING if endpoint.auto_moves and verdict.status == HELD else Severity.ERROR
    evidence = {
        "verdict": verdict.status,
        "endpoint": endpoint.name,
        "port": port,
        "port_source": str(endpoint.port_source),
        "binds": list(verdict.binds),
        "clients": list(verdict.clients),
        "lost": list(verdict.lost),
        "suggested_port": free,
        "listeners": [_listener_data(lst, explanations.get(id(lst))) for lst in verdict.listeners],
    }
    return Finding(code, severity, message, service=svc.name, hint=" ".join(hints), evidence=evidence)


def _listener_data(listener: Listener, explanation: Optional[Explanation]) -> Dict[str, object]:
    return {
        "address": listener.address, "port": listener.port, "family": listener.family,
        "v6only": listener.v6only, "pid": listener.pid, "process": listener.process,
        "cmdline": list(listener.cmdline) if listener.cmdline else None,
        "uid": listener.uid, "user": listener.user,
        "known_as": explanation.title if explanation else None,
        "stale": explanation.stale if explanation else False,
    }
