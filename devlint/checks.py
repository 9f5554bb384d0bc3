"""snapshot → verdicts → findings: the port verdict of every endpoint, then messages a user can act on.

The snapshot is taken once by the caller; nothing here scans sockets. ``verdicts`` gives
the typed answers (Judged: service, endpoint, Verdict) that --kill and --wait work on;
``findings_for`` turns the ones that are not clear into findings through the core's rule
table (rules.py: DL101 held, DL102 shadowed, DL103 held but the server moves by itself).
The findings' evidence dicts are made here, at that edge, and nowhere before. Explanations
of the processes in the way (known culprits, stale dev servers) come from culprits.py and
the plugins' devlint_explain_listener hook, asked only when a port is not clear.
"""

from __future__ import annotations

import re
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence

from devlint import culprits, rules
from devlint.addresses import is_local
from devlint.model import Endpoint, Explanation, Finding, Listener, Service, Snapshot, Upstream, Verdict
from devlint.suggest import suggest_port
from devlint.verdict import CLEAR, HELD, judge

Explain = Callable[[Listener, Service, Endpoint, str], Optional[Explanation]]


class Judged(NamedTuple):
    """One endpoint of a service, and its verdict against one snapshot."""

    service: Service
    endpoint: Endpoint
    verdict: Verdict


def verdicts(services: Sequence[Service], snapshot: Snapshot, busy_only: bool = False) -> List[Judged]:
    """busy_only: skip endpoints nothing listens on (clear for sure), which spares resolving
    their hosts (getaddrinfo and the socket module cost ≈ 5-8 ms of a run)."""
    return [Judged(svc, ep, judge(ep, snapshot.on_port(ep.port), snapshot.platform))
            for svc in services for ep in svc.endpoints if not busy_only or snapshot.on_port(ep.port)]


def in_the_way(services: Sequence[Service], snapshot: Snapshot) -> List[Judged]:
    """The endpoints that are not clear (held or shadowed), in service and endpoint order."""
    return [judged for judged in verdicts(services, snapshot, busy_only=True) if judged.verdict.status != CLEAR]


def findings_for(judged: Sequence[Judged], platform: str, stack: Sequence[Service],
                 explain: Optional[Explain] = None) -> List[Finding]:
    """One finding per verdict that is not clear. stack: every service of the plan (the
    ports a suggestion must avoid, and the proxies that must follow a moved port)."""
    taken = [ep.port for svc in stack for ep in svc.endpoints]
    findings: List[Finding] = []
    for svc, endpoint, verdict in judged:
        if verdict.status == CLEAR:
            continue
        followers = [up for other in stack if other.name != svc.name for up in other.upstreams
                     if up.port == endpoint.port and is_local(up.host)]
        findings.append(_finding(svc, endpoint, verdict, platform, taken, explain, followers))
    return findings


def port_findings(services: Sequence[Service], snapshot: Snapshot, stack: Sequence[Service],
                  explain: Optional[Explain] = None) -> List[Finding]:
    """One finding per endpoint that is not clear."""
    return findings_for(in_the_way(services, snapshot), snapshot.platform, stack, explain)


def describe_listener(listener: Listener) -> str:
    family = "IPv6" if listener.family == 6 else "IPv4"
    if listener.family == 6 and listener.address == "::" and listener.v6only is not None:
        family += ", v6only" if listener.v6only else ", dual-stack"
    text = f"{listener.owner()} on {listener.where()} ({family})"
    if listener.cmdline:
        command = " ".join(" ".join(listener.cmdline).split())  # one line, even for `python -c "..."`
        text += f": `{command[:117] + '...' if len(command) > 120 else command}`"
    return text


def known_culprit(listener: Listener, service: Service, endpoint: Endpoint, platform: str) -> Optional[Explanation]:
    """An Explain that knows only the built-in culprits (culprits.py): the default when the
    caller brings no plugins (pipeline.explainer asks these first, then the plugins)."""
    return culprits.match(listener, platform)


def _finding(svc: Service, endpoint: Endpoint, verdict: Verdict, platform: str,
             taken: Sequence[int], explain: Optional[Explain], followers: Sequence[Upstream] = ()) -> Finding:
    explanations: Dict[int, Explanation] = {}
    for listener in verdict.listeners:
        found = (explain or known_culprit)(listener, svc, endpoint, platform)
        if found:
            explanations[id(listener)] = found
    free = suggest_port(endpoint.port, taken, verdict.binds)
    hints = _hints(endpoint, verdict, [explanations[id(lst)] for lst in verdict.listeners if id(lst) in explanations],
                   free, followers)
    code = (rules.MOVES if endpoint.auto_moves else rules.HELD) if verdict.status == HELD else rules.SHADOWED
    return rules.RULES(code, _message(svc, endpoint, verdict), service=svc.name, hint=" ".join(hints),
                       evidence=_evidence(endpoint, verdict, free, explanations))


def _message(svc: Service, endpoint: Endpoint, verdict: Verdict) -> str:
    port = endpoint.port
    what = f"{svc.name}" + (f" {endpoint.name}" if endpoint.name not in ("http", "") else "")
    holders = "; ".join(describe_listener(lst) for lst in verdict.listeners)
    if verdict.status == HELD:
        message = f"{what}: port {port} is already in use by {holders}"
        if endpoint.auto_moves:
            message += f" (it will start on another port, not {port})"
        return message
    lost = " and ".join(verdict.lost)
    return (f"{what}: will bind {', '.join(verdict.binds)} port {port}, but connections to "
            f"{lost} port {port} reach {holders}")


def _hints(endpoint: Endpoint, verdict: Verdict, explanations: Sequence[Explanation], free: Optional[int],
           followers: Sequence[Upstream]) -> List[str]:
    port = endpoint.port
    hints = [f"{found.title}: {found.why}; {found.fix}." for found in explanations]
    if verdict.status != HELD:
        hints.append("Browsers try ::1 first for localhost and keep the first connection that "
                     "succeeds, so requests and CORS preflights go to that process, not yours.")
    if any(lst.pid is None for lst in verdict.listeners):
        hints.append(f"The owner belongs to another user; `sudo devlint who {port}` shows the process.")
    if free is not None:
        where = endpoint.fix.format(port=free) if endpoint.fix else f"configure port {free}"
        hints.append(f"Port {free} is free on 127.0.0.1 and ::1: {where}"
                     + (f" (now from {endpoint.port_source})" if endpoint.port_source.kind != "default" else "")
                     + "".join(f"; the proxy target must follow: {up.source}: {up.url} → "
                               + re.sub(rf":{port}\b", f":{free}", up.url, count=1) for up in followers)
                     + ".")
    return hints


def _evidence(endpoint: Endpoint, verdict: Verdict, free: Optional[int],
              explanations: Dict[int, Explanation]) -> Dict[str, object]:
    """The facts behind a port finding, as JSON-able data (model.Finding lists the keys)."""
    from devlint.report import listener_data

    def listener(lst: Listener) -> Dict[str, object]:
        found = explanations.get(id(lst))
        return {**listener_data(lst), "known_as": found.title if found else None,
                "stale": found.stale if found else False}

    return {
        "verdict": verdict.status,
        "endpoint": endpoint.name,
        "port": endpoint.port,
        "port_source": str(endpoint.port_source),
        "binds": list(verdict.binds),
        "clients": list(verdict.clients),
        "lost": list(verdict.lost),
        "suggested_port": free,
        "listeners": [listener(lst) for lst in verdict.listeners],
    }
