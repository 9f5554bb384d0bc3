"""Known port squatters, as data: who they are, why they break a dev stack, the fix.

A culprit is explained, never killed: these are system services the user did not start.
Add an entry by appending to CULPRITS; `match` is the only logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from devlint.model import Explanation, Listener


@dataclass(frozen=True)
class Culprit:
    names: Tuple[str, ...]  # process names (case-insensitive)
    platforms: Tuple[str, ...]  # sys.platform prefixes
    ports: Tuple[int, ...]  # () = any port
    title: str
    why: str
    fix: str


_AIRPLAY_WHY = (
    "the AirPlay Receiver listens on *:{port} on both IPv4 and IPv6. A dev server bound to "
    "127.0.0.1 still starts, but browsers try ::1 first for localhost and reach AirPlay "
    "(it answers 403, `Server: AirTunes`), so requests and CORS preflights never arrive"
)

CULPRITS: Tuple[Culprit, ...] = (
    Culprit(
        names=("ControlCenter", "ControlCe", "AirPlayXPCHelper"),
        platforms=("darwin",),
        ports=(5000, 7000),
        title="macOS AirPlay Receiver ({name})",
        why=_AIRPLAY_WHY,
        fix=("turn it off in System Settings → General → AirDrop & Handoff → AirPlay Receiver, "
             "or move your server to another port"),
    ),
    Culprit(
        names=("rapportd",),
        platforms=("darwin",),
        ports=(),
        title="macOS Handoff/Continuity (rapportd)",
        why="a macOS system daemon holds this port",
        fix="move your server to another port",
    ),
    Culprit(
        names=("svchost.exe", "System"),
        platforms=("win32",),
        ports=(),
        title="a Windows system service ({name})",
        why="a Windows service or the HTTP.sys kernel listener holds this port",
        fix="move your server to another port (see `netsh http show urlacl` for HTTP.sys reservations)",
    ),
)


def match(listener: Listener, platform: str) -> Optional[Explanation]:
    """The explanation for a listener that is a known culprit, or None."""
    name = (listener.process or "").lower()
    if not name:
        return None
    for culprit in CULPRITS:
        if not platform.startswith(culprit.platforms):
            continue
        if culprit.ports and listener.port not in culprit.ports:
            continue
        if name in (n.lower() for n in culprit.names):
            return Explanation(
                title=culprit.title.format(name=listener.process, port=listener.port),
                why=culprit.why.format(name=listener.process, port=listener.port),
                fix=culprit.fix,
                stale=False,
            )
    return None


def is_culprit(listener: Listener, platform: str) -> bool:
    return match(listener, platform) is not None


def is_known_name(process: Optional[str]) -> bool:
    """A culprit's process name on any platform and port: `--kill` never stops these,
    even where `match` would not explain them."""
    name = (process or "").lower()
    return bool(name) and any(name == n.lower() for culprit in CULPRITS for n in culprit.names)
