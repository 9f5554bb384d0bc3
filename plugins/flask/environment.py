"""The environment `flask run` sees: the process's variables, then Flask's dotenv files.

Facts: Flask 3.1 ``src/flask/cli.py`` (``load_dotenv``: ``.flaskenv`` < ``.env`` <
``-e/--env-file``, merged, then set only where the process has no such variable, even an
empty one; ``FLASK_SKIP_DOTENV`` turns the default files off; click's auto environment
variables ``FLASK_RUN_*``, where an empty value counts as unset). The files are read by
python-dotenv's rules for the release next to the ``flask`` that runs
(``devlint.readers.dotenv``); files are found like ``find_dotenv(usecwd=True)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from devlint.model import Command, Finding, Source, Sourced, escape_braces
from devlint.project import MAX_PARSED_BYTES, FileProblem, Project
from devlint.readers import dotenv

from .rules import KIND, RULES
from .values import quote

Entries = Dict[str, Sourced[Optional[str]]]


class FlaskEnv:
    """Process environment (the script's variables first), then Flask's dotenv files.

    env_file: the ``-e/--env-file`` value (or FLASK_ENV_FILE); findings: what reading the
    files found (DL400, DL405, DL406), for the caller to report.
    """

    def __init__(
        self,
        project: Project,
        cwd: str,
        command: Optional[Command] = None,
        env_file: Optional[Sourced[str]] = None,
        service: str = KIND,
    ) -> None:
        self.project = project
        self.cwd = cwd
        self.command = command
        self.env_file = env_file
        self.service = service
        self.findings: List[Finding] = []
        self._data: Optional[Entries] = None
        self._dotenv_version: Optional[dotenv.Version] = None

    # process environment ------------------------------------------------------------
    def process(self, name: str) -> Optional[Sourced[str]]:
        """The variable as the process has it: the command's own assignment, else the environment."""
        if self.command is not None and name in self.command.env:
            text = self.command.text or quote(self.command.argv)
            return Sourced(
                self.command.env[name],
                Source("command", text, key=name),
                f"{name}={{port}} in `{escape_braces(text)}`",
            )
        value = self.project.getenv(name)
        if value is None:
            return None
        return Sourced(value, Source("env", name), f"{name}={{port}} in the environment")

    def process_value(self, name: str) -> Optional[str]:
        found = self.process(name)
        return found.value if found else None

    # dotenv files ------------------------------------------------------------------------
    def _load(self) -> Entries:
        if self._data is not None:
            return self._data
        data: Entries = {}
        skip = self.process_value("FLASK_SKIP_DOTENV")
        if not skip or skip.lower() in ("0", "false", "no"):
            for name in (".flaskenv", ".env"):
                path = dotenv.find_dotenv(self.project, name, self.cwd)
                if path is not None:
                    data.update(self.read(path))
        if self.env_file is not None:
            full = os.path.join(self.project.root, self.cwd, self.env_file.value)
            if self.project.exists(full):
                data.update(self.read(full))
            else:
                self.findings.append(RULES(
                    "DL400", f"{self.service}: env file {self.env_file.value!r} ({self.env_file.source}) "
                             "does not exist",
                    service=self.service,
                    hint="flask stops with \"Error: Invalid value for '-e' / '--env-file'\"; fix the path.",
                    evidence={"file": self.env_file.value},
                ))
        self._data = data
        return data

    def dotenv_version(self) -> dotenv.Version:
        """The python-dotenv release the command's Python has (its rules changed in 1.2.3 and 1.2.4)."""
        if self._dotenv_version is None:
            program = self.command.argv[0] if self.command is not None and self.command.argv else "flask"
            found = dotenv.installed_version(self.project, program, self.cwd, self.process_value("PATH"))
            self._dotenv_version = found or dotenv.LATEST
        return self._dotenv_version

    def read(self, full: str) -> Entries:
        """One dotenv file's variables, each with its line and the edit that changes it."""
        parsed = read_dotenv(self.project, full, self.process_value, self.service, self.dotenv_version())
        self.findings.extend(parsed.findings)
        shown = parsed.shown
        return {
            key: Sourced(value, Source("file", shown, parsed.lines.get(key), key),
                         f"{escape_braces(shown)}: {escape_braces(key)}={{port}}")
            for key, value in parsed.values.items()
        }

    # what flask sees ----------------------------------------------------------------------
    def get(self, name: str) -> Optional[Sourced[str]]:
        """The variable after load_dotenv: the process's own value wins, even when empty."""
        found = self.process(name)
        if found is not None:
            return found
        entry = self._load().get(name)
        if entry is None or entry.value is None:
            return None
        return Sourced(entry.value, entry.source, entry.fix)

    def option(self, name: str) -> Optional[Sourced[str]]:
        """Like get, for a click option's auto envvar: an empty value counts as unset."""
        found = self.get(name)
        return found if found is not None and found.value != "" else None


@dataclass
class DotenvRead:
    """One dotenv file as python-dotenv reads it: shown (its path in messages), values and
    lines by name, and findings (DL400 unreadable, DL405 skipped line, DL406 BOM)."""

    shown: str
    values: Dict[str, Optional[str]] = field(default_factory=dict)
    lines: Dict[str, int] = field(default_factory=dict)
    findings: List[Finding] = field(default_factory=list)


def read_dotenv(
    project: Project, full: str, environ: Callable[[str], Optional[str]], service: str = KIND,
    version: Optional[Tuple[int, ...]] = None,
) -> DotenvRead:
    """dotenv_values(full) with lines and findings, as the given python-dotenv release reads
    it (default: the latest); an unreadable file reads as empty."""
    version = version or dotenv.LATEST
    shown = project.display(Path(full))
    result = DotenvRead(shown)
    try:
        text = project.read_text(full, limit=MAX_PARSED_BYTES)
    except FileProblem as problem:
        if problem.too_large:  # Flask reads it; devlint does not parse one this large (MAX_PARSED_BYTES)
            result.findings.append(RULES(
                "DL400", f"{service}: {problem.path} {problem.reason}, so the port and host Flask takes "
                         "from it are not known: nothing was checked for them",
                service=service,
                hint=f"Keep {shown} small (a dotenv file is a few lines of KEY=value).",
                evidence={"file": problem.path}))
            return result
        result.findings.append(RULES(
            "DL400", f"{service}: {problem.path} {problem.reason}",
            service=service,
            hint=f"flask run stops with a traceback while loading {shown}; "
                 + ("save it as UTF-8." if "UTF-8" in problem.reason else "make it a readable text file."),
            evidence={"file": problem.path},
        ))
        return result
    if text is None:
        return result
    read = dotenv.file_values(full, text, environ, version)
    if read.bom_key is not None:
        first, release = read.bom_key, ".".join(map(str, version))
        result.findings.append(RULES(
            "DL406", f"{service}: {shown}:1 starts with a UTF-8 byte-order mark, so python-dotenv "
                     f"{release} reads the first name as '\\ufeff{first}' and Flask ignores {first}",
            service=service,
            hint=f"Save {shown} as UTF-8 without a BOM (python-dotenv 1.2.3 and later skip it).",
            evidence={"file": shown, "line": 1, "key": first},
        ))
    for line in read.skipped:
        result.findings.append(RULES(
            "DL405", f"{service}: {shown}:{line} cannot be parsed by python-dotenv; Flask skips it",
            service=service,
            hint="Write it as KEY=value (quote values with spaces or #).",
            evidence={"file": shown, "line": line},
        ))
    result.values, result.lines = read.values, read.lines
    return result
