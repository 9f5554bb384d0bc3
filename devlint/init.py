"""`devlint init`: write a first devlint.toml from what is in the working directory.

Looks at the folder and its direct sub-folders (backend/, frontend/ ...) through the
plugins' hooks, never by parsing frameworks here: `devlint_detect_services` for the
files (firebase.json, angular.json, .flaskenv/.env, app.py/wsgi.py), and
`devlint_command_services` for the package.json scripts that start a dev server. A
script wins over a detected file of the same kind and folder, because it is how the
server is really started (`ng serve --port 4300`), and it is written as `command`.

Ports are not copied into the file: they stay in the frameworks' own files, and the
comments say where each one is read from today.

Text taken from project files (folder and script names, hosts, proxy URLs, diagnostics) is
written either as a TOML basic string, escaped per the TOML spec (``_string``), or in a
comment through warm.visible, so a newline in a value can never start a line of its own
(TOML forbids control characters other than tab in comments anyway). Writing the file is
files.write_text's (cli.cmd_init): no-follow, exclusive or atomic.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple

from devlint.addresses import bracketed
from devlint.model import Command, Service, Source
from devlint.project import Project
from devlint.warm import visible

if TYPE_CHECKING:
    from devlint.manager import PluginHost

SKIP_DIRS = {"node_modules", "venv", "dist", "build", "__pycache__", "site-packages"}
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Found:
    """A service init found, the folder it lives in, and how it was found."""

    service: Service
    folder: str  # relative to the working directory, "." for itself
    command: Optional[Command] = None  # the script's command, when found in package.json
    script: str = ""  # "package.json scripts.start"
    settings: Mapping[str, Any] = field(default_factory=dict)  # extra keys to write (plain values)


def discover_services(cwd: Path, env: Mapping[str, str], disabled: Tuple[str, ...] = ()) -> List[Found]:
    """Every service in cwd and its direct sub-folders, one per (kind, folder), with the
    extra keys its plugin wants written (devlint_init_settings)."""
    from devlint.manager import PluginHost, disabled_from

    host = PluginHost(disabled_from(env, disabled))
    subfolders = sorted(entry.name for entry in os.scandir(cwd)
                        if entry.is_dir(follow_symlinks=False) and entry.name not in SKIP_DIRS
                        and not entry.name.startswith("."))
    found: List[Found] = []
    for folder in [".", *subfolders]:
        project = Project(cwd / folder, env=env)
        found.extend(_from_scripts(host, project, folder))
        found.extend(Found(svc, folder) for svc in host.detect_services(project))
    return [replace(item, settings=host.init_settings(item.service, item.command is not None))
            for item in _dedupe(found)]


def _from_scripts(host: PluginHost, project: Project, folder: str) -> List[Found]:
    from devlint.commands import scripts_commands

    found: List[Found] = []
    try:
        scripts = scripts_commands(project, wrappers=host)
    except Exception:  # a broken package.json is `check`'s business, not init's
        return found
    for name, commands in scripts.items():
        for command in commands:
            where = os.path.normpath(os.path.join(folder, command.cwd))
            found.extend(Found(svc, where, command, f"{_join(folder, 'package.json')} scripts.{name}")
                         for svc in host.command_services(command, project) or ())
    return found


def _dedupe(found: List[Found]) -> List[Found]:
    """One service per (kind, folder), and one per (kind, ports): a script and a detected
    file, or scripts in two folders, can describe the same server."""
    seen: set[Tuple[str, str]] = set()
    result: List[Found] = []
    for item in found:
        ports = ",".join(str(ep.port) for ep in sorted(item.service.endpoints, key=lambda e: e.port))
        keys = {(item.service.kind, "dir:" + os.path.normpath(item.folder))}
        if ports:
            keys.add((item.service.kind, "ports:" + ports))
        if keys & seen:
            continue
        seen.update(keys)
        result.append(item)
    return result


def render(found: List[Found]) -> str:
    """The devlint.toml text: one commented table per service."""
    lines = [
        "# devlint.toml, written by `devlint init` from the files in this folder.",
        "# Ports and hosts are read from the frameworks' own files on every run (the comments",
        "# say where they come from today); set `port` or `host` here only to override them.",
        "# `devlint config` shows what this resolves to; devlint.toml.example documents every key.",
        "",
    ]
    if not found:
        lines += ["# No framework files or dev-server scripts found here. Declare services by hand:",
                  "# [services.api]", "# port = 5000", ""]
    names: Dict[str, int] = {}
    for item in found:
        svc, folder = item.service, item.folder
        base = os.path.basename(folder) if folder != "." else (svc.kind or "service")
        names[base] = names.get(base, 0) + 1
        name = base if names[base] == 1 else f"{base}-{names[base]}"
        lines.append(f"[services.{_key(name)}]")
        if svc.kind:
            lines.append(f"kind = {_string(svc.kind)}")
        else:
            lines.append(f"ports = [{', '.join(str(ep.port) for ep in svc.endpoints)}]")
        if folder != ".":
            lines.append(f"path = {_string(folder)}")
        if item.command is not None:
            env = [f"{key}={value}" for key, value in item.command.env.items()]
            lines.append(f"command = {_string(' '.join(shlex.quote(w) for w in [*env, *item.command.argv]))}"
                         + _comment(f"  # from {item.script}"))
        for key, value in item.settings.items():
            lines.append(f"{_key(key)} = {_value(value)}")
        for ep in svc.endpoints:
            host = bracketed(ep.host)
            lines.append(_comment(f"# {ep.name}: {host}:{ep.port}  (port: {_shown(ep.port_source, folder)}; "
                                  f"host: {_shown(ep.host_source, folder)})"))
        for up in svc.upstreams:
            lines.append(_comment(f"# proxy {up.context or '/'} → {up.url}  ({_shown(up.source, folder)})"))
        for problem in svc.diagnostics:
            lines.append(_comment(f"# note: {problem.code} {problem.message}"))
        lines.append("")
    return "\n".join(lines)


def _shown(source: Source, folder: str) -> str:
    """A source as seen from the working directory (backend/.flaskenv:2, not .flaskenv:2)."""
    if source.kind == "file" and folder != "." and not os.path.isabs(source.where):
        source = Source(source.kind, _join(folder, source.where), source.line, source.key)
    return str(source)


def _join(folder: str, name: str) -> str:
    return name if folder in (".", "") else f"{folder}/{name}"


def _value(value: Any) -> str:
    """A plain value as TOML: strings, numbers, booleans, lists of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return _string(str(value))


def _comment(text: str) -> str:
    """A comment (or its tail) on one line: control characters shown as escapes."""
    return visible(_scalars(text))


def _scalars(text: str) -> str:
    """Lone surrogates (a file name's undecodable bytes, os.fsdecode) as U+FFFD: UTF-8, and
    so TOML, cannot hold them."""
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)


def _key(name: str) -> str:
    """A TOML key: bare when it can be (A-Za-z0-9_-), else a quoted basic string."""
    return name if _BARE_KEY.match(name) else _string(name)


def _string(text: str) -> str:
    """A TOML basic string. The spec requires escaping the quotation mark, the backslash
    and the control characters U+0000-U+001F and U+007F; tab, the C1 controls, the line
    separators and the bidirectional controls are escaped too (\\uXXXX), so a file looked
    at with `cat` cannot be made to show something other than what it holds."""
    escaped = _scalars(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(f"\\u{ord(c):04x}" if visible(c) != c else c for c in escaped) + '"'
