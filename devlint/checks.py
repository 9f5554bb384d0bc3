"""snapshot → verdicts → findings: the port verdict of every endpoint, then messages a user can act on.

The snapshot is taken once by the caller; nothing here scans sockets. ``in_the_way`` gives
the typed answers (Judged: service, endpoint, Verdict) that --kill and --wait work on;
``findings_for`` turns the ones that are not clear into findings through the core's rule
table (rules.py: DL101 held, DL102 shadowed, DL103 held but the server moves by itself).
``host_findings`` are static (DL104: a host devlint cannot turn into addresses, so its
port is not checked): the pipeline adds them to the plan, so a cached plan never reads as
clear.
The findings' evidence dicts are made here, at that edge, and nowhere before. Explanations
of the processes in the way (known culprits, stale dev servers) come from culprits.py and
the plugins' devlint_explain_listener hook, asked only when a port is not clear.
"""

from __future__ import annotations

import re
import sys
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from devlint import culprits, rules
from devlint.addresses import LOOPBACKS, bind_choices, bracketed, is_local, specific_binds, unchecked
from devlint.model import Endpoint, Explanation, Finding, Listener, Service, Snapshot, Upstream, Verdict
from devlint.suggest import address_missing, bind_refused, suggest_port
from devlint.verdict import CLEAR, HELD, SHADOWED, UNAVAILABLE, UNCHECKED
from devlint.verdict import judge as judge_binds

Explain = Callable[[Listener, Service, Endpoint, str], Optional[Explanation]]


class Judged(NamedTuple):
    """One endpoint of a service, and its verdict against one snapshot."""

    service: Service
    endpoint: Endpoint
    verdict: Verdict


def judge(endpoint: Endpoint, listeners: Sequence[Listener], platform: str, others: Sequence[Listener] = (),
          probe: bool = False, sees_bound: bool = True, loopbacks: Sequence[str] = LOOPBACKS) -> Verdict:
    """verdict.judge with the endpoint's bind addresses worked out (addresses.bind_choices:
    the name resolved, as the server will; for a name under localhost each loopback in
    turn, the worst verdict wins: held, then shadowed). probe: confirm with real bind
    probes (suggest.bind_refused); only for this machine's own snapshot on Linux."""
    choices = list(bind_choices(endpoint.host, endpoint.binds)) or [()]
    if len(choices) > 1:  # a name under localhost: only the loopbacks this machine has
        choices = [binds for binds in choices if set(binds) <= set(loopbacks)] or choices
    verdicts = [judge_binds(endpoint, listeners, platform, binds, others, bind_refused if probe else None,
                            sees_bound, loopbacks) for binds in choices]
    for status in (HELD, SHADOWED):
        worst = next((v for v in verdicts if v.status == status), None)
        if worst is not None:
            return worst
    return verdicts[0]


def in_the_way(services: Sequence[Service], snapshot: Snapshot) -> List[Judged]:
    """The endpoints that are not clear (held or shadowed), in service and endpoint order.
    Endpoints with no socket on their port are clear and not judged (sparing getaddrinfo
    and the socket module, ≈ 5-8 ms of a run), unless the snapshot cannot list bound-only
    sockets and probes are possible: then each is probed. Endpoints whose host devlint does
    not resolve are not judged here: host_findings reports them."""
    judged: List[Judged] = []
    for svc in services:
        for ep in svc.endpoints:
            missing = missing_binds(ep, snapshot)
            if missing:
                judged.append(Judged(svc, ep, Verdict(UNAVAILABLE, (), missing)))
                continue
            if (not ep.binds and unchecked(ep.host) is not None) or not snapshot.must_judge(ep.port):
                continue
            verdict = judge(ep, snapshot.on_port(ep.port), snapshot.platform, snapshot.others_on(ep.port),
                            snapshot.probeable, snapshot.sees_bound, snapshot.loopbacks)
            if verdict.status != CLEAR:
                judged.append(Judged(svc, ep, verdict))
    return judged


def missing_binds(ep: Endpoint, snapshot: Snapshot) -> Tuple[str, ...]:
    """The bind addresses the endpoint names (addresses.specific_binds) that a server cannot
    bind here: ``::1`` where loopback has no IPv6 (Snapshot.loopbacks), any other when a
    test bind to it fails (suggest.address_missing, with the zone the host gives, as the
    server binds it; only for this machine's own snapshot)."""
    here = snapshot.platform == sys.platform
    zone = ep.host.strip().strip("[]").partition("%")[2] if not ep.binds else ""
    missing = []
    for address in specific_binds(ep.host, ep.binds):
        if address == "::1" and not zone:
            gone = address not in snapshot.loopbacks
        else:
            gone = here and address_missing(f"{address}%{zone}" if zone else address)
        if gone:
            missing.append(f"{address}%{zone}" if zone else address)
    return tuple(missing)


def host_findings(services: Sequence[Service]) -> List[Finding]:
    """DL104 for each endpoint whose host devlint cannot turn into addresses without a
    resolver (addresses.unchecked): its port is not checked, and the finding says so.
    A warning: the server may well run (a name of this machine, a remote bind that fails
    loudly by itself), but devlint cannot call it clear."""
    found: List[Finding] = []
    for svc in services:
        for ep in svc.endpoints:
            reason = None if ep.binds else unchecked(ep.host)
            if reason is not None:
                found.append(unchecked_finding(svc, ep, reason))
    return found


def unchecked_finding(svc: Service, ep: Endpoint, reason: str, done: str = "checked") -> Finding:
    """DL104: the endpoint's port was not checked (or, for probe, done="probed"), and why
    (reason: a sentence fragment)."""
    what = f"{svc.name}" + (f" {ep.name}" if ep.name not in ("http", "") else "")
    origin = f" (from {ep.host_source})" if ep.host_source.kind != "default" else ""
    return rules.RULES(
        rules.CODE_UNCHECKED, f"{what}: port {ep.port} not {done}: {reason}{origin}",
        service=svc.name,
        hint=("If the server runs on this machine, give it an address devlint can check "
              "(127.0.0.1, ::1, 0.0.0.0, localhost) instead; nothing was connected to or looked up."),
        evidence={"endpoint": ep.name, "port": ep.port, "port_source": str(ep.port_source),
                  "host": ep.host, "host_source": str(ep.host_source), "reason": reason})


def findings_for(judged: Sequence[Judged], platform: str, stack: Sequence[Service],
                 explain: Optional[Explain] = None) -> List[Finding]:
    """One finding per verdict that is not clear. stack: every service of the plan (the
    ports a suggestion must avoid, and the proxies that must follow a moved port)."""
    taken = [ep.port for svc in stack for ep in svc.endpoints]
    findings: List[Finding] = []
    for svc, endpoint, verdict in judged:
        if verdict.status == CLEAR:
            continue
        if verdict.status == UNAVAILABLE:
            findings.append(_no_address(svc, endpoint, verdict.binds))
            continue
        if verdict.status == UNCHECKED:  # (hosts host_findings rejects are not judged: in_the_way)
            findings.append(unchecked_finding(svc, endpoint, f"the host {endpoint.host!r} resolves to no "
                                              "address here (getaddrinfo found none)"))
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


def _no_address(svc: Service, endpoint: Endpoint, missing: Sequence[str]) -> Finding:
    """DL105: the server binds an address this machine does not have."""
    what = f"{svc.name}" + (f" {endpoint.name}" if endpoint.name not in ("http", "") else "")
    shown = ", ".join(missing)
    hint = ("Loopback has no IPv6 here (IPv6 is off, as in many containers): bind 127.0.0.1 or localhost."
            if "::1" in missing else
            "Bind 127.0.0.1 (this machine only), localhost, or 0.0.0.0 (every address of this machine).")
    return rules.RULES(rules.CODE_NO_ADDRESS,
                       f"{what}: will bind {shown} port {endpoint.port}, but {shown} cannot be bound on this "
                       "machine (not one of its addresses, or a link-local address without its zone): the "
                       "server's bind fails", service=svc.name, hint=hint,
                       evidence={"endpoint": endpoint.name, "port": endpoint.port,
                                 "port_source": str(endpoint.port_source), "missing": list(missing)})


def _message(svc: Service, endpoint: Endpoint, verdict: Verdict) -> str:
    port = endpoint.port
    what = f"{svc.name}" + (f" {endpoint.name}" if endpoint.name not in ("http", "") else "")
    holders = "; ".join(lst.describe() for lst in verdict.listeners)
    if not holders:
        holders = ("a socket devlint cannot list (a test bind of "
                   + ", ".join(f"{bracketed(b)}:{port}" for b in verdict.binds)
                   + " failed: address in use; this system does not list sockets bound without listening)")
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
        hints.append(_who_loses(verdict.lost, port))
    elif any(lst.state != "listen" for lst in verdict.listeners):
        hints.append("A socket that is bound but not listening, or a connection whose local end is this "
                     "address and port, answers nobody, yet the server's bind fails (EADDRINUSE) until it "
                     "is closed.")
    if verdict.status == HELD and not verdict.listeners:
        hints.append(f"This system does not list sockets that are bound without listening (Linux < 6.5, or "
                     f"netlink refused); `ss -tanp 'sport = :{port}'` shows connections on the port.")
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


def _who_loses(lost: Sequence[str], port: int) -> str:
    """Which clients reach the other process, by the address they lose (verdict.lost)."""
    if "::1" in lost:
        return ("Browsers try ::1 first for localhost (Chromium keeps the first connection that succeeds), "
                "so their requests and CORS preflights go to that process, not yours.")
    if "127.0.0.1" in lost:
        return (f"Clients that connect to 127.0.0.1 reach that process, not yours: IPv4-only clients, "
                f"`curl http://127.0.0.1:{port}`, and Node (>= 17) proxies that resolve localhost to "
                "127.0.0.1 in the OS order (e.g. Angular's dev-server proxy). Chromium tries ::1 first "
                "and does reach your server.")
    return "Connections to " + " and ".join(lost) + " reach that process, not yours."


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
