"""`devlint init`: write a first devlint.toml from what is in the working directory.

Looks at the folder and its direct sub-folders (backend/, frontend/ ...) the way
zero-config `devlint check` does, through the plugins' detect hooks, and at package.json
scripts that start dev servers. Ports are not copied into the file: they stay in the
frameworks' own files, and the comments say where each one is read from today.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Mapping, Tuple

from devlint.model import Service
from devlint.project import Project

if TYPE_CHECKING:
    from devlint.manager import PluginHost

SKIP_DIRS = {"node_modules", ".git", ".venv", "venv", "dist", "build", "__pycache__", ".angular"}
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def discover_services(cwd: Path, env: Mapping[str, str]) -> List[Tuple[Service, str]]:
    """(service, why) for every service found in cwd and its direct sub-folders."""
    from devlint.manager import PluginHost, disabled_from

    host = PluginHost(disabled_from(env, ()))
    found: List[Tuple[Service, str]] = []
    folders = ["."] + sorted(
        entry.name for entry in os.scandir(cwd)
        if entry.is_dir(follow_symlinks=False) and entry.name not in SKIP_DIRS and not entry.name.startswith("."))
    for folder in folders:
        project = Project(cwd / folder, env=env)
        for svc in host.detect_services(project):
            found.append((svc, folder))
        found.extend(_from_scripts(host, project, folder))
    return _dedupe(found)


def _from_scripts(host: PluginHost, project: Project, folder: str) -> List[Tuple[Service, str]]:
    from devlint.commands import scripts_commands

    found: List[Tuple[Service, str]] = []
    try:
        scripts = scripts_commands(project)
    except Exception:  # a broken package.json is check's business, not init's
        return found
    for commands in scripts.values():
        for command in commands:
            where = folder if command.cwd in ("", ".") else os.path.normpath(os.path.join(folder, command.cwd))
            found.extend((svc, where) for svc in host.command_services(command, project) or ())
    return found


def _dedupe(found: List[Tuple[Service, str]]) -> List[Tuple[Service, str]]:
    """One service per (kind, folder): a script and a detected file describe the same server."""
    seen: Dict[Tuple[str, str], int] = {}
    result: List[Tuple[Service, str]] = []
    for svc, folder in found:
        key = (svc.kind, os.path.normpath(folder))
        if key in seen:
            continue
        seen[key] = len(result)
        result.append((svc, folder))
    return result


def render(found: List[Tuple[Service, str]], cwd: Path) -> str:
    lines = [
        "# devlint.toml, written by `devlint init` from the files in this folder.",
        "# Ports and hosts are read from the frameworks' own files on every run (the comments",
        "# say where they come from today); set `port` or `host` here only to override them.",
        "# devlint.toml.example in devlint's repository documents every key.",
        "",
    ]
    names: Dict[str, int] = {}
    if not found:
        lines += ["# No framework files found. Declare services by hand, e.g.:", "# [services.api]",
                  "# port = 5000", ""]
    for svc, folder in found:
        base = svc.kind or "service"
        if folder not in (".", ""):
            base = os.path.basename(folder.rstrip("/")) or base
        names[base] = names.get(base, 0) + 1
        name = base if names[base] == 1 else f"{base}-{names[base]}"
        key = name if _BARE_KEY.match(name) else '"' + name.replace('"', '\\"') + '"'
        lines.append(f"[services.{key}]")
        if svc.kind:
            lines.append(f'kind = "{svc.kind}"')
        if folder not in (".", ""):
            lines.append(f'path = "{folder}"')
        if not svc.kind:
            lines.append(f"ports = [{', '.join(str(ep.port) for ep in svc.endpoints)}]")
        for key_name, value in _kind_settings(svc).items():
            lines.append(f"{key_name} = {value}")
        for ep in svc.endpoints:
            host = f"[{ep.host}]" if ":" in ep.host else ep.host
            lines.append(f"# {ep.name}: {host}:{ep.port}  (port: {ep.port_source}; host: {ep.host_source})")
        for up in svc.upstreams:
            lines.append(f"# proxy {up.context} → {up.url}  ({up.source})")
        lines.append("")
    return "\n".join(lines)


def _kind_settings(svc: Service) -> Dict[str, str]:
    """Per-kind keys worth writing down: what `firebase emulators:start` would be told."""
    settings: Dict[str, str] = {}
    project = svc.details.get("project") if svc.kind == "firebase" else None
    if isinstance(project, str) and project:
        settings["project"] = '"' + project.replace('"', '\\"') + '"'
    return settings
