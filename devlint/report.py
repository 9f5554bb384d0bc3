"""Rendering only: findings, services and listeners as text (with colour) or JSON.

Nothing here decides anything. colorama and json are imported only when something is
printed, so a clear `devlint run` never pays for them.

Text output shows what came from outside devlint (values from project files, paths, process
names, HTTP headers) through warm.visible: an ESC, CR or BEL from a `.flaskenv` is printed as
``\\x1b``, ``\\r``, ``\\x07``, never sent to the terminal. It is applied here, to each finding's
message and hint and each line of `config` and `who`, before devlint adds its own colours and
newlines, so every finding of every plugin is covered. JSON needs nothing: json escapes them.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any, Dict, List, Mapping, Optional, Sequence

from devlint import __version__
from devlint.addresses import bracketed
from devlint.model import Finding, Service, Severity, Snapshot
from devlint.rules import CODE_UNCHECKED
from devlint.warm import colour, visible

JSON_SCHEMA_VERSION = 1


class Style:
    """Colour on or off, decided once (warm.colour: --color, then NO_COLOR /
    FORCE_COLOR, then a tty)."""

    def __init__(self, mode: str, stream: IO[str], env: Mapping[str, str]) -> None:
        self.on = colour(mode, stream, env)  # the rule the warm path uses too
        self._codes: Dict[str, str] = {}
        if self.on:
            import colorama

            if sys.platform == "win32":
                colorama.just_fix_windows_console()
            fore, style = colorama.Fore, colorama.Style
            self._codes = {
                "error": fore.RED + style.BRIGHT, "warning": fore.YELLOW + style.BRIGHT,
                "info": fore.CYAN, "ok": fore.GREEN + style.BRIGHT, "dim": style.DIM,
                "bold": style.BRIGHT, "reset": style.RESET_ALL,
            }

    def __call__(self, name: str, text: str) -> str:
        if not self.on:
            return text
        return f"{self._codes[name]}{text}{self._codes['reset']}"


# -- findings ----------------------------------------------------------------------

def text_findings(findings: Sequence[Finding], style: Style, checked: Sequence[Service]) -> str:
    lines: List[str] = []
    for finding in sorted(findings, key=lambda f: -f.severity):
        name = str(finding.severity)
        lines.append(f"{style(name, name)} {style('dim', visible(finding.code))} {visible(finding.message)}")
        if finding.hint:
            lines.extend(_wrap(visible(finding.hint), "  → "))
    errors = sum(1 for f in findings if f.severity == Severity.ERROR)
    warnings = sum(1 for f in findings if f.severity == Severity.WARNING)
    # A port devlint could not check (DL104: a host it does not resolve) is never counted as clear.
    unchecked = len({(f.service, f.evidence.get("endpoint")) for f in findings if f.code == CODE_UNCHECKED})
    ports = sum(len(svc.endpoints) for svc in checked) - unchecked
    subject = f"{len(checked)} service{'s' if len(checked) != 1 else ''}, {ports} port{'s' if ports != 1 else ''}"
    not_checked = f", {unchecked} port{'s' if unchecked != 1 else ''} not checked" if unchecked else ""
    if errors:
        lines.append(style("error", f"devlint: {errors} error{'s' if errors != 1 else ''}") +
                     (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "") +
                     f" ({subject} checked{not_checked})")
    else:
        summary = f"devlint: {subject} clear{not_checked}"
        if warnings:
            summary += f", {warnings} warning{'s' if warnings != 1 else ''}"
        lines.append(style("ok", summary))
    return "\n".join(lines)


def _wrap(text: str, prefix: str) -> List[str]:
    import textwrap

    width = max(60, min(110, _columns()))
    return textwrap.wrap(text, width=width, initial_indent=prefix, subsequent_indent=" " * len(prefix))


def _columns() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 100


def finding_data(finding: Finding) -> Dict[str, Any]:
    return {
        "code": finding.code, "severity": str(finding.severity), "service": finding.service,
        "message": finding.message, "hint": finding.hint, "evidence": dict(finding.evidence),
    }


def service_data(svc: Service, checked: bool) -> Dict[str, Any]:
    return {
        "name": svc.name, "kind": svc.kind, "path": svc.path, "checked": checked,
        "source": str(svc.source),
        "endpoints": [
            {"name": ep.name, "host": ep.host, "port": ep.port, "port_source": str(ep.port_source),
             "host_source": str(ep.host_source), "binds": list(ep.binds), "auto_moves": ep.auto_moves}
            for ep in svc.endpoints],
        "origin": svc.origin,
        "upstreams": [{"url": up.url, "host": up.host, "port": up.port, "context": up.context,
                       "source": str(up.source)} for up in svc.upstreams],
        "cors_origins": list(svc.cors_origins) if svc.cors_origins is not None else None,
        "cors_source": str(svc.cors_source) if svc.cors_origins is not None else None,
    }


def json_report(findings: Sequence[Finding], services: Sequence[Service], targets: Sequence[str],
                config: Optional[str], platform: str, exit_code: int,
                extra: Optional[Mapping[str, Any]] = None) -> str:
    """The JSON of `check`, `run` (on stderr), `config` and `probe` with --format json.

    An object with these keys (``schema`` is JSON_SCHEMA_VERSION, raised when a key changes
    meaning or goes away; new keys may be added within a version):

    - ``devlint``: devlint's version; ``schema``: this format's version (1).
    - ``config``: the config file used, or null; ``platform``: whose bind rules judged.
    - ``services``: every service of the stack (service_data): ``name``, ``kind``, ``path``,
      ``checked`` (whether this run checked its ports), ``source``, ``endpoints`` (``name``,
      ``host``, ``port``, ``port_source``, ``host_source``, ``binds``, ``auto_moves``),
      ``origin``, ``upstreams`` (``url``, ``host``, ``port``, ``context``, ``source``),
      ``cors_origins`` and ``cors_source`` (null when unknown).
    - ``findings``: one object each (finding_data): ``code``, ``severity`` (error, warning,
      info), ``service`` ("" for the stack), ``message``, ``hint``, ``evidence`` (its keys
      are listed on model.Finding).
    - ``summary``: ``errors`` and ``warnings``, counted; ``exit_code``: devlint's exit code.
    - ``extra``'s keys as given: ``config_reason`` and ``warnings`` (`config`), ``probe``
      (`probe`: "service/endpoint" → the answers of each address).
    """
    import json

    data: Dict[str, Any] = {
        "devlint": __version__, "schema": JSON_SCHEMA_VERSION, "config": config, "platform": platform,
        "services": [service_data(svc, svc.name in targets) for svc in services],
        "findings": [finding_data(f) for f in findings],
        "summary": {
            "errors": sum(1 for f in findings if f.severity == Severity.ERROR),
            "warnings": sum(1 for f in findings if f.severity == Severity.WARNING),
        },
        "exit_code": exit_code,
    }
    if extra:
        data.update(extra)
    return json.dumps(data, indent=2, default=str)


# -- devlint config ------------------------------------------------------------------

def text_config(services: Sequence[Service], targets: Sequence[str], config: Optional[str],
                reason: str, warnings: Sequence[str], style: Style) -> str:
    lines = [visible(f"config: {config or 'none'} ({reason})")]
    lines.extend(style("warning", "warning ") + visible(w) for w in warnings)
    if not services:
        lines.append("no services (write a devlint.toml, or run `devlint init`)")
    for svc in services:
        kind = f" ({svc.kind})" if svc.kind else ""
        where = f" in {svc.path}" if svc.path not in ("", ".") else ""
        lines.append(style("bold", visible(f"{svc.name}{kind}")) + visible(where + f"  [{svc.source}]"))
        for ep in svc.endpoints:
            host = bracketed(ep.host)
            moves = "  (moves by itself when busy)" if ep.auto_moves else ""
            lines.append(visible(f"  {ep.name:<20} {host}:{ep.port:<6} port: {ep.port_source}; "
                                 f"host: {ep.host_source}{moves}"))
        if svc.origin:
            lines.append(visible(f"  {'origin':<20} {svc.origin}"))
        for up in svc.upstreams:
            lines.append(visible(f"  {'proxy ' + (up.context or ''):<20} → {up.url}  [{up.source}]"))
        if svc.cors_origins is not None:
            lines.append(visible(f"  {'cors origins':<20} {', '.join(svc.cors_origins)}  [{svc.cors_source}]"))
    return "\n".join(lines)


# -- devlint who ------------------------------------------------------------------------

def text_who(ports: Sequence[int], snapshot: Snapshot, explain: Mapping[int, str], style: Style) -> str:
    lines: List[str] = []
    for port in ports:
        found = snapshot.on_port(port) + snapshot.others_on(port)  # others: bound, not listening
        if not found:
            lines.append(f"{port}: " + style("ok", "free") + " (nothing listens on IPv4 or IPv6)")
            continue
        lines.append(f"{port}:")
        for listener in found:
            lines.append(f"  {visible(listener.describe())}")  # a process names itself
            note = explain.get(id(listener))
            if note:
                lines.append(f"    {visible(note)}")
    if any(lst.pid is None for lst in snapshot.listeners):
        lines.append("Some owners belong to other users; run with sudo to see them.")
    return "\n".join(lines)
