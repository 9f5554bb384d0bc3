"""A firebase Service from a project: find firebase.json, read it and .firebaserc, and plan.

The one place that reads the project (through ``devlint.project.Project``, so the plan cache
sees every file and variable it depends on) and assembles what config.py, settings.py and
plan.py work out into the Service the core checks: a command's service, a devlint.toml
service of kind "firebase", or the one found by zero-config detection.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List, Optional

from devlint.model import Finding, Service, Source, Sourced
from devlint.project import Project

from .cli import Launch
from .config import CONFIG_FILE, find_config, parse, rc_project, read
from .emulators import ENV_VARS
from .plan import plan
from .rules import KIND, RULES
from .settings import launch_from_settings


def build(project: Project, base: str, launch: Launch, name: str = KIND, path: str = ".") -> Service:
    """One firebase Service for a launch from folder base, with every emulator that will start;
    what stops firebase-tools (no firebase.json, a broken one) is a diagnostic on it."""
    details: Dict[str, Any] = {
        "project": launch.project.value if launch.project else None,
        "emulators": [],
        "config": None,
        "only": list(launch.only.value) if launch.only is not None else None,
    }
    located = (launch.config, base) if launch.config else find_config(project, base)
    if located is None:
        missing = RULES(
            "DL501", f"{name}: no {CONFIG_FILE} in {project.display(project.path('.', base))} or its parents; "
            'firebase-tools stops with "Not in a Firebase app directory"',
            service=name, hint="Run `firebase init emulators`, or pass --config PATH.")
        return Service(name=name, kind=KIND, path=path, details=details, diagnostics=(missing,))
    relative, folder = located
    text, problems, shown = read(project, relative, folder, name)
    details["config"] = shown
    if text is None:
        problems = problems or [RULES("DL501", f"{name}: {shown} does not exist", service=name,
                                      evidence={"file": shown})]
        return Service(name=name, kind=KIND, path=path, details=details, diagnostics=tuple(problems))
    cfg = parse(text, shown, name)
    rc_problems: List[Finding] = []
    chosen = _project_id(project, launch, str(project.path(relative, folder).parent), rc_problems, name)
    details["project"] = chosen.value if chosen else None
    details["project_source"] = str(chosen.source) if chosen else None
    if not cfg.readable:
        return Service(name=name, kind=KIND, path=path, details=details,
                       diagnostics=tuple(cfg.problems + rc_problems))
    planned = plan(cfg, launch, {key: project.getenv(key) for key in ENV_VARS}, name)
    details["emulators"] = planned.emulators
    return Service(name=name, kind=KIND, endpoints=tuple(planned.endpoints), path=path,
                   source=Source("file", shown), details=details,
                   diagnostics=tuple(cfg.problems + rc_problems + planned.findings))


def _project_id(project: Project, launch: Launch, config_dir: str, problems: List[Finding],
                name: str) -> Optional[Sourced[str]]:
    """The project firebase-tools runs: what .firebaserc next to firebase.json maps the
    --project alias to (or its default alias without one), else --project as given. An
    unreadable .firebaserc goes to problems (DL501)."""
    alias = launch.project.value if launch.project else None
    from_rc = rc_project(project, config_dir, alias, problems, name)
    if from_rc is not None and from_rc.value != alias:
        return from_rc
    return launch.project


def from_settings(service: Service, project: Project) -> Service:
    """A devlint.toml service of kind firebase, filled in from firebase.json: ports the user
    set in devlint.toml win; the settings' problems come first."""
    launch, problems = launch_from_settings(service)
    if launch.config is None:
        launch.config = CONFIG_FILE
    built = build(project, service.path, launch, name=service.name, path=service.path)
    return replace(built, source=service.source, settings=service.settings,
                   endpoints=service.endpoints or built.endpoints, diagnostics=tuple(problems) + built.diagnostics)


def detect(project: Project) -> Optional[List[Service]]:
    """Zero-config: the emulator suite of a firebase.json with an "emulators" block at the
    project's root (a broken firebase.json is reported, not skipped)."""
    text, problems, shown = read(project, CONFIG_FILE, ".", KIND)
    if problems:
        return [Service(name=KIND, kind=KIND, details={"config": shown}, diagnostics=tuple(problems))]
    if text is None or '"emulators"' not in text:
        return None
    cfg = parse(text, shown)
    if cfg.readable and "emulators" not in cfg.value:
        return None
    return [build(project, ".", Launch(config=CONFIG_FILE))]
