"""Static checks of a planned emulator suite (no sockets): two emulators on one port (DL503).

firebase-tools' portUtils.ts ``resolveHostAndAssignPorts`` hands a port to whichever emulator it
assigns first and moves the other one up, silently, even when its port was set; two emulators
whose ports were both set cannot both start.
"""

from __future__ import annotations

from typing import Dict, Iterable, List

from devlint.model import Endpoint, Finding, Service, Severity

from .rules import RULES


def duplicate_ports(service: Service) -> Iterable[Finding]:
    """DL503 for every port set for two emulators or more: an error when two of them cannot
    move, a warning when the others will move by themselves."""
    by_port: Dict[int, List[Endpoint]] = {}
    for endpoint in service.endpoints:
        by_port.setdefault(endpoint.port, []).append(endpoint)
    for port, users in sorted(by_port.items()):
        if len(users) < 2:
            continue
        fixed = [ep for ep in users if not ep.auto_moves]
        where = "; ".join(f"{ep.name} ({ep.port_source})" for ep in users)
        yield RULES(
            "DL503", f"{service.name}: port {port} is set for {len(users)} emulators: {where}",
            service=service.name, hint=_hint(port, users),
            evidence={"port": port, "emulators": [ep.name for ep in users],
                      "lines": [ep.port_source.line for ep in users]},
            severity=Severity.ERROR if len(fixed) >= 2 else Severity.WARNING)


def _hint(port: int, users: List[Endpoint]) -> str:
    """What to do: give each its own port, or know that the movers will move."""
    fixed = [ep for ep in users if not ep.auto_moves]
    if len(fixed) >= 2:
        example = fixed[-1].fix
        return f"Give each its own port, e.g. {example.format(port=port + 1)}" if example else "Give each its own port."
    movers = [ep for ep in users if ep.auto_moves]
    example = movers[0].fix
    return (f"{', '.join(ep.name for ep in movers)} will move to another port by itself, so its clients and the UI "
            "links may not find it where expected; set distinct ports"
            + (f", e.g. {example.format(port=port + 1)}" if example else "") + ".")
