"""firebase.json and .firebaserc, read the way firebase-tools reads them.

firebase.json may hold comments and trailing commas (firebase-tools' own loader accepts them;
devlint.readers.jsonc keeps each value's line for the messages), and is looked for in the
working folder and its parents (firebase-tools src/detectProjectRoot.ts). A port goes through
JavaScript's ``if (portVal)`` and ``parseInt(`${portVal}`, 10)``, a host through
``host || "localhost"`` (src/emulator/controller.ts ``getListenConfig``). In .firebaserc,
``projects.<alias>`` maps an alias given with --project to a project id, and
``projects.default`` is the project when none is given (firebase-tools ``applyRC``).

A broken file or value is a finding (DL501, DL502), never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from devlint.model import Finding, Severity, Source, Sourced, describe
from devlint.project import FileProblem, Project

from .emulators import EMULATORS, SECONDARIES
from .rules import KIND, RULES

CONFIG_FILE = "firebase.json"
RC_FILE = ".firebaserc"


@dataclass
class FirebaseJson:
    """firebase.json as read: its value, where each key sits, and what was wrong with it."""

    shown: str  # the path as messages show it
    value: Dict[str, Any] = field(default_factory=dict)
    problems: List[Finding] = field(default_factory=list)
    readable: bool = True
    _doc: Any = None

    def line(self, *path: str) -> Optional[int]:
        if self._doc is None:
            return None
        found: Optional[int] = self._doc.line(*path)
        return found

    @property
    def emulators(self) -> Dict[str, Any]:
        block = self.value.get("emulators")
        return block if isinstance(block, dict) else {}

    def block(self, name: str) -> Dict[str, Any]:
        value = self.emulators.get(name)
        return value if isinstance(value, dict) else {}

    def as_written(self) -> Dict[str, Dict[str, Any]]:
        """Every object-valued key of `emulators` → {port, host} exactly as written
        (None when absent): what a reader of the file sees."""
        return {
            name: {"port": body.get("port"), "host": body.get("host")}
            for name, body in self.emulators.items()
            if isinstance(body, dict)
        }

    @property
    def ui_enabled(self) -> Optional[Any]:
        return self.block("ui").get("enabled")

    def extra_ports(self) -> Dict[str, Any]:
        """Secondary listeners configured by a port key of their own."""
        return {
            f"{extra.emulator}.{extra.key}": self.block(extra.emulator)[extra.key]
            for extra in SECONDARIES
            if extra.key in self.block(extra.emulator)
        }

    def source(self, *path: str) -> Source:
        return Source("file", self.shown, self.line(*path), ".".join(path))

    def fix(self, emulator: str, key: str = "port") -> str:
        """How to move a listener: the key to set, with "{port}" where the number goes."""
        return f"{self.shown}: emulators.{emulator}.{key} = {{port}}"

    def type_problem(self, path: Tuple[str, ...], value: Any, expected: str, service: str,
                     consequence: str, severity: Optional[Severity] = None) -> Finding:
        """DL502 for the value at path: where it is, what it should be, what firebase-tools does."""
        line = self.line(*path)
        key = ".".join(path)
        return type_problem(f"{self.shown}:{line}" if line else self.shown, key, value, expected,
                            service=service, consequence=consequence, severity=severity,
                            evidence={"file": self.shown, "line": line, "key": key})

    def host(self, emulator: str, service: str, problems: List[Finding]) -> Optional[Sourced[str]]:
        """emulators.<emulator>.host as firebase-tools reads it (``host || "localhost"``), or
        None when it falls back to the default; a non-string host is a problem."""
        raw = self.block(emulator).get("host")
        if isinstance(raw, str) and raw.strip():
            return Sourced(raw.strip(), self.source("emulators", emulator, "host"))
        if truthy(raw):
            problems.append(self.type_problem(("emulators", emulator, "host"), raw, "a host name or address",
                                              service, "firebase-tools cannot resolve it"))
        return None

    def port(self, emulator: str, key: str, default: int, service: str,
             problems: List[Finding]) -> Optional[Sourced[int]]:
        """emulators.<emulator>.<key> as firebase-tools reads a port, or None when it is not set
        or firebase-tools falls back to the default; what is odd about it goes to problems."""
        body = self.block(emulator)
        if key not in body:
            return None
        path, raw = ("emulators", emulator, key), body[key]

        def problem(expected: str, consequence: str, severity: Severity = Severity.ERROR) -> None:
            problems.append(self.type_problem(path, raw, expected, service, consequence, severity))

        if not truthy(raw):
            if raw is not None:
                problem("a port number", f"firebase-tools ignores it and uses {default}", Severity.WARNING)
            return None
        parsed = js_parse_int(raw)
        if parsed is None:
            problem("a port number", "firebase-tools reads it as NaN and cannot listen")
            return None
        if not 0 < parsed <= 65535:
            problem("a port from 1 to 65535", "the emulator cannot listen there")
            return None
        if not isinstance(raw, int) and not (isinstance(raw, str) and raw.strip().isdigit()):
            problem("a port number", f"firebase-tools reads it as {parsed} (parseInt)", Severity.WARNING)
        return Sourced(parsed, self.source(*path), self.fix(emulator, key))


def type_problem(where: str, key: str, value: Any, expected: str, *, service: str, consequence: str = "",
                 severity: Optional[Severity] = None, evidence: Optional[Mapping[str, Any]] = None,
                 syntax: str = "json", strings: bool = False) -> Finding:
    """DL502, a value of the wrong type: ``WHERE: KEY: expected X, got Y; CONSEQUENCE``, Y in the
    words of the file's syntax ("json" for firebase.json, "toml" for devlint.toml); strings: a
    list of strings was expected (a list then names its first other item)."""
    message = f"{where}: {key + ': ' if key else ''}expected {expected}, got {describe(value, syntax, strings)}"
    return RULES("DL502", message + (f"; {consequence}" if consequence else ""), service=service,
                 severity=severity, evidence=evidence)


def parse(text: str, shown: str, service: str = KIND) -> FirebaseJson:
    """Parse firebase.json text (comments and trailing commas allowed, as firebase-tools'
    own loader does). Never raises: problems become findings on the result."""
    from devlint.readers.jsonc import JsoncError, loads

    result = FirebaseJson(shown)
    try:
        doc = loads(text)
    except JsoncError as exc:
        result.readable = False
        result.problems.append(RULES(
            "DL501", f"{shown}:{exc.line}:{exc.column}: invalid JSON: {exc.msg}", service=service,
            hint="firebase-tools cannot start any emulator until firebase.json parses; fix the syntax at that line.",
            evidence={"file": shown, "line": exc.line, "column": exc.column}))
        return result
    except RecursionError:  # pragma: no cover - jsonc caps the depth itself
        result.readable = False
        result.problems.append(RULES("DL501", f"{shown}: nested too deeply", service=service,
                                     evidence={"file": shown}))
        return result
    result._doc = doc
    if not isinstance(doc.value, dict):
        line = doc.line() or 1
        result.problems.append(type_problem(f"{shown}:{line}", "", doc.value, "a JSON object at the top level",
                                            service=service, evidence={"file": shown, "line": line}))
        return result
    result.value = doc.value
    result.problems.extend(_shape_problems(result, service))
    return result


def _shape_problems(cfg: FirebaseJson, service: str) -> List[Finding]:
    """An `emulators` block that is not an object, and emulators in it that are not objects."""
    problems: List[Finding] = []
    if "emulators" in cfg.value and not isinstance(cfg.value["emulators"], dict):
        problems.append(cfg.type_problem(("emulators",), cfg.value["emulators"], "an object of emulators",
                                         service, "firebase-tools then ignores the whole block"))
    for name, body in cfg.emulators.items():
        if name in EMULATORS and not isinstance(body, dict):
            problems.append(cfg.type_problem(("emulators", name), body, 'an object like {"port": N}', service,
                                             "firebase-tools starts it on its defaults", Severity.WARNING))
    return problems


def js_parse_int(value: Any) -> Optional[int]:
    """JavaScript's parseInt(`${value}`, 10), which firebase-tools applies to ports: leading
    digits count ("5001abc" → 5001, 5000.7 → 5000), anything else is NaN (None)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, list):
        text = ",".join("" if v is None else str(v) for v in value)
    elif isinstance(value, dict):
        text = "[object Object]"
    else:
        text = str(value)
    text = text.lstrip(" \t\n\r\v\f\u00a0\ufeff")
    sign = 1
    if text[:1] in "+-" and text:
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    digits = ""
    for char in text:
        if not ("0" <= char <= "9"):
            break
        digits += char
    return sign * int(digits) if digits else None


def truthy(value: Any) -> bool:
    """JavaScript truthiness, for `if (portVal)` and `host || "localhost"`."""
    if isinstance(value, float) and value != value:  # NaN
        return False
    return value not in (None, False, 0, "") or isinstance(value, (dict, list))


# -- the files in the project ---------------------------------------------------------------


def read(project: Project, relative: str, base: str, service: str) -> Tuple[Optional[str], List[Finding], str]:
    """(text or None when absent, DL501 when it cannot be read, the path as messages show it)."""
    shown = project.display(project.path(relative, base))
    try:
        text = project.read_text(relative, base)
    except FileProblem as exc:
        return None, [RULES("DL501", f"{exc.path} {exc.reason}", service=service, evidence={"file": exc.path})], shown
    return text, [], shown


def find_config(project: Project, cwd: str) -> Optional[Tuple[str, str]]:
    """firebase-tools looks for firebase.json in the working folder and its parents.
    Returns (relative name, base folder) as Project takes them."""
    start = project.path(".", cwd).resolve()
    for folder in (start, *start.parents):
        if project.exists(CONFIG_FILE, str(folder)):
            return CONFIG_FILE, str(folder)
    return None


def rc_project(project: Project, base: str, alias: Optional[str],
               problems: Optional[List[Finding]] = None, service: str = KIND) -> Optional[Sourced[str]]:
    """The project id .firebaserc in base gives an alias passed with --project, or its `default`
    alias when none was passed (firebase-tools applyRC); None when it says nothing about it.
    A .firebaserc that is there but cannot be read is a DL501 in problems (firebase-tools
    cannot load it either), not an absence."""
    try:
        text = project.read_text(RC_FILE, base)
    except FileProblem as exc:
        if problems is not None:
            problems.append(RULES("DL501", f"{exc.path} {exc.reason}", service=service, evidence={"file": exc.path}))
        return None
    if text is None:
        return None
    from devlint.readers.jsonc import JsoncError, loads

    try:
        doc = loads(text)
    except JsoncError:
        return None
    projects = doc.value.get("projects") if isinstance(doc.value, dict) else None
    if not isinstance(projects, dict):
        return None
    key = alias if alias is not None else "default"
    value = projects.get(key)
    if not isinstance(value, str) or not value:
        return None
    shown = project.display(project.path(RC_FILE, base))
    return Sourced(value, Source("file", shown, doc.line("projects", key), f"projects.{key}"))
