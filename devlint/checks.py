"""snapshot → verdicts → findings: the port verdict of every endpoint, then messages a user can act on.

The snapshot is taken once by the caller; nothing here scans sockets. ``in_the_way`` gives
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
from devlint.addresses import is_local, server_binds
from devlint.model import Endpoint, Explanation, Finding, Listener, Service, Snapshot, Upstream, Verdict
from devlint.suggest import suggest_port
from devlint.verdict import CLEAR, HELD
from devlint.verdict import judge as judge_binds

Explain = Callable[[Listener, Service, Endpoint, str], Optional[Explanation]]


class Judged(NamedTuple):
    """One endpoint of a service, and its verdict against one snapshot."""

    service: Service
    endpoint: Endpoint
    verdict: Verdict


def judge(endpoint: Endpoint, listeners: Sequence[Listener], platform: str) -> Verdict:
    """verdict.judge with the endpoint's bind addresses worked out (addresses.server_binds:
    the name resolved, as the server will)."""
    return judge_binds(endpoint, listeners, platform, server_binds(endpoint.host, endpoint.binds))


def in_the_way(services: Sequence[Service], snapshot: Snapshot) -> List[Judged]:
    """The endpoints that are not clear (held or shadowed), in service and endpoint order.
    Endpoints nothing listens on are clear for sure and not judged, which spares resolving
    their hosts (getaddrinfo and the socket module cost ≈ 5-8 ms of a run)."""
    judged = (Judged(svc, ep, judge(ep, snapshot.on_port(ep.port), snapshot.platform))
              for svc in services for ep in svc.endpoints if snapshot.on_port(ep.port))
    return [found for found in judged if found.verdict.status != CLEAR]


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
    if verdict.status == HELD:
        code = rules.CODE_MOVES if endpoint.auto_moves else rules.CODE_HELD
    else:
        code = rules.CODE_SHADOWED
    return rules.RULES(code, _message(svc, endpoint, verdict), service=svc.name, hint=" ".join(hints),
                       evidence=_evidence(endpoint, verdict, free, explanations))


def _message(svc: Service, endpoint: Endpoint, verdict: Verdict) -> str:
    port = endpoint.port
    what = f"{svc.name}" + (f" {endpoint.name}" if endpoint.name not in ("http", "") else "")
    holders = "; ".join(lst.describe() for lst in verdict.listeners)
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
    hints = [found.text() for found in explanations]
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
    def listener(lst: Listener) -> Dict[str, object]:
        found = explanations.get(id(lst))
        return {**lst.data(), "known_as": found.title if found else None,
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
