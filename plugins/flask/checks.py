"""Static checks of a Flask service, and what a `flask run` in the way is.

Facts: Werkzeug's debugger (``werkzeug/debug``: it runs Python code for anyone who reaches
it and gets past its PIN; Flask turns it on with debug mode unless ``--no-debugger``),
Apple's AirPlay Receiver (ControlCenter listens on ``*:5000`` and ``*:7000`` on macOS 12+),
and the Werkzeug reloader (its child process has the parent's command line).
"""

from __future__ import annotations

from typing import Iterable, Optional

from devlint.addresses import is_wildcard
from devlint.model import Explanation, Finding, Listener, Service

from .cli import basename
from .rules import KIND, RULES

AIRPLAY_PORTS = (5000, 7000)


def check(service: Service, platform: str) -> Iterable[Finding]:
    """DL401 (debugger on a public host) and DL402 (an AirPlay port on macOS)."""
    details = service.details
    if details.get("debug") and details.get("debugger") is not False:
        for ep in service.endpoints:
            if is_wildcard(ep.host):
                yield RULES(
                    "DL401",
                    f"{service.name}: debug mode is on ({details.get('debug_source', 'debug')}) and the server "
                    f"listens on {ep.host or '0.0.0.0'} ({ep.host_source}): the Werkzeug debugger lets anyone "
                    f"who can reach port {ep.port} and get past its PIN run Python code on this machine",
                    service=service.name,
                    hint="Bind 127.0.0.1 while debugging (drop --host 0.0.0.0 / FLASK_RUN_HOST), "
                         "or turn debug off, or pass --no-debugger.",
                    evidence={"host": ep.host, "port": ep.port, "debug_source": details.get("debug_source")},
                )
    if platform == "darwin":
        for ep in service.endpoints:
            if ep.port in AIRPLAY_PORTS:
                other = 5050 if ep.port != 5050 else 5051
                where = ep.fix.format(port=other) if ep.fix else f"use port {other}"
                yield RULES(
                    "DL402",
                    f"{service.name}: port {ep.port} ({ep.port_source}): on macOS the AirPlay Receiver "
                    f"(ControlCenter) listens on *:{ep.port}, and browsers asking for localhost may reach it "
                    "instead of Flask (403 from AirTunes, failed CORS preflights)",
                    service=service.name,
                    hint="Turn it off in System Settings → General → AirDrop & Handoff → AirPlay Receiver, "
                         f"or use another port: {where}.",
                    evidence={"port": ep.port},
                )


def explain(listener: Listener, service: Service) -> Optional[Explanation]:
    """A `flask run` in the way (or its Werkzeug reloader child, which has the same command
    line): a dev server of the user's own, so --kill may offer to stop it."""
    words = [basename(word) for word in listener.cmdline or ()]
    if not any(word == "flask" and "run" in words[i + 1:] for i, word in enumerate(words)):
        return None
    why = f"{listener.owner()} is a Flask dev server (`flask run`) listening on {listener.where()}"
    if service.kind == KIND:
        why += ", probably left over from an earlier run"
    fix = (f"stop it (Ctrl-C in its terminal, or `kill {listener.pid}`), or run devlint with --kill"
           if listener.pid else "stop the other `flask run` (Ctrl-C in its terminal)")
    return Explanation(title="Flask dev server (flask run)", why=why, fix=fix, stale=True)
