"""Firebase Local Emulator Suite: every emulator's port, worked out as firebase-tools does.

`firebase emulators:start` reads firebase.json's `emulators` block and starts a dozen
servers, most of them on ports nobody wrote down (hub 4400, logging 4500, the UI 4000,
Firestore's websocket 9150 ...). Some move to the next free port by themselves, the others
refuse to start. This plugin mirrors firebase-tools (src/emulator/constants.ts,
controller.ts `filterEmulatorTargets`/`shouldStart`/`getListenConfig`, portUtils.ts
`resolveHostAndAssignPorts`, serve/hosting.ts) so devlint can check each of them, and so
every message names the firebase.json line to change.

Finding codes (DL5xx):
  DL501 error    firebase.json cannot be read or parsed (file:line:column), or is missing
  DL502 error    a value of the wrong type (port "abc", port true, emulators not an object)
  DL503 error    two emulators on the same port (warning when one of them moves by itself)
  DL504 warning  --only names an emulator firebase.json does not configure (error: unknown name)
  DL505 warning  an emulator is configured but firebase-tools will not start it
  DL506 warning  hosting on port 5001, which firebase-tools never gives to hosting
  DL507 error    no emulator to start (firebase-tools exits "No emulators to start")
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from devlint import hookimpl
from devlint.model import (
    DEFAULT,
    Command,
    Endpoint,
    Explanation,
    Finding,
    Listener,
    Service,
    Severity,
    Source,
)
from devlint.project import FileProblem, Project

KIND = "firebase"
CONFIG_FILE = "firebase.json"

# firebase-tools src/emulator/constants.ts DEFAULT_PORTS and FIND_AVAILBLE_PORT_BY_DEFAULT:
# name -> (default port, moves to another port by itself when no port was set).
EMULATORS: Dict[str, Tuple[int, bool]] = {
    "hub": (4400, True),
    "ui": (4000, True),
    "logging": (4500, True),
    "apphosting": (5002, True),
    "auth": (9099, False),
    "functions": (5001, False),
    "firestore": (8080, False),
    "database": (9000, False),
    "hosting": (5000, True),
    "pubsub": (8085, False),
    "storage": (9199, False),
    "eventarc": (9299, True),
    "dataconnect": (9399, False),
    "tasks": (9499, True),
}
# types.ts ALL_SERVICE_EMULATORS (+ extensions, which runs inside the functions emulator).
SERVICE_EMULATORS = (
    "apphosting",
    "auth",
    "functions",
    "firestore",
    "database",
    "hosting",
    "pubsub",
    "storage",
    "eventarc",
    "dataconnect",
    "tasks",
)
ONLY_NAMES = (*SERVICE_EMULATORS, "extensions")
# types.ts EMULATORS_SUPPORTED_BY_UI: the UI starts only when one of these is a target.
UI_SUPPORTED = ("auth", "database", "firestore", "functions", "storage", "extensions")
# portUtils.ts EMULATOR_CAN_LISTEN_ON_PRIMARY_ONLY is false only for these: they listen on
# every address the host resolves to; all others bind the first one only.
MULTI_LISTEN = ("hub", "ui")
FIRESTORE_WEBSOCKET_DEFAULT = 9150
DATACONNECT_POSTGRES_DEFAULT = 5432
# dns.ts pre-populates "localhost" as [127.0.0.1, ::1], IPv4 first, on every OS.
LOCALHOST_ADDRESSES = ("127.0.0.1", "::1")

DESCRIPTIONS = {
    "hub": "emulator hub",
    "ui": "Emulator UI",
    "logging": "Logging Emulator",
    "apphosting": "App Hosting Emulator",
    "auth": "Authentication Emulator",
    "functions": "Functions Emulator",
    "firestore": "Firestore Emulator",
    "database": "Database Emulator",
    "hosting": "Hosting Emulator",
    "pubsub": "Pub/Sub Emulator",
    "storage": "Storage Emulator",
    "eventarc": "Eventarc Emulator",
    "dataconnect": "Data Connect Emulator",
    "tasks": "Cloud Tasks Emulator",
}

# Command-line flags of emulators:start / emulators:exec that take a value.
_VALUE_FLAGS = (
    "--only",
    "--except",
    "--project",
    "-P",
    "--config",
    "-c",
    "--import",
    "--log-verbosity",
    "--token",
    "--account",
)
_OPTIONAL_VALUE_FLAGS = ("--export-on-exit", "--inspect-functions")
# Java jars firebase-tools downloads and runs for the JVM emulators.
_JAVA_EMULATORS = (
    "cloud-firestore-emulator",
    "cloud-storage-rules-runtime",
    "pubsub-emulator",
    "firebase-database-emulator",
)


# -- reading firebase.json -------------------------------------------------------------


@dataclass
class FirebaseJson:
    """firebase.json as read: its value, where each key sits, and what was wrong with it."""

    shown: str  # the path as messages show it
    value: Dict[str, Any] = field(default_factory=dict)
    lines: Dict[Tuple[str, ...], int] = field(default_factory=dict)
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
        extra: Dict[str, Any] = {}
        if "websocketPort" in self.block("firestore"):
            extra["firestore.websocketPort"] = self.block("firestore")["websocketPort"]
        if "postgresPort" in self.block("dataconnect"):
            extra["dataconnect.postgresPort"] = self.block("dataconnect")["postgresPort"]
        return extra

    def source(self, *path: str) -> Source:
        return Source("file", self.shown, self.line(*path), ".".join(path))


def parse(text: str, shown: str, service: str = KIND) -> FirebaseJson:
    """Parse firebase.json text (comments and trailing commas allowed, as firebase-tools'
    own loader does). Never raises: problems become findings on the result."""
    from devlint.readers.jsonc import JsoncError, loads

    result = FirebaseJson(shown)
    try:
        doc = loads(text)
    except JsoncError as exc:
        result.readable = False
        result.problems.append(
            Finding(
                "DL501",
                Severity.ERROR,
                f"{shown}:{exc.line}:{exc.column}: invalid JSON: {exc.msg}",
                service=service,
                hint="firebase-tools cannot start any emulator until firebase.json parses; "
                "fix the syntax at that line.",
                evidence={"file": shown, "line": exc.line, "column": exc.column},
            )
        )
        return result
    except RecursionError:  # pragma: no cover - jsonc caps the depth itself
        result.readable = False
        result.problems.append(
            Finding(
                "DL501",
                Severity.ERROR,
                f"{shown}: nested too deeply",
                service=service,
                evidence={"file": shown},
            )
        )
        return result
    result._doc = doc
    if not isinstance(doc.value, dict):
        result.problems.append(
            Finding(
                "DL502",
                Severity.ERROR,
                f"{shown}:{doc.line() or 1}: expected a JSON object at the top level, "
                f"got {_describe(doc.value)}",
                service=service,
                evidence={"file": shown, "line": doc.line() or 1},
            )
        )
        return result
    result.value = doc.value
    if "emulators" in doc.value and not isinstance(doc.value["emulators"], dict):
        result.problems.append(
            _type_problem(
                result,
                ("emulators",),
                doc.value["emulators"],
                "an object of emulators",
                service,
                Severity.ERROR,
                "firebase-tools then ignores the whole block",
            )
        )
    for name, body in result.emulators.items():
        if name in EMULATORS and not isinstance(body, dict):
            result.problems.append(
                _type_problem(
                    result,
                    ("emulators", name),
                    body,
                    'an object like {"port": N}',
                    service,
                    Severity.WARNING,
                    "firebase-tools starts it on its defaults",
                )
            )
    return result


def _type_problem(
    cfg: FirebaseJson,
    path: Tuple[str, ...],
    value: Any,
    expected: str,
    service: str,
    severity: Severity,
    consequence: str,
) -> Finding:
    line = cfg.line(*path)
    where = f"{cfg.shown}:{line}" if line else cfg.shown
    return Finding(
        "DL502",
        severity,
        f"{where}: {'.'.join(path)}: expected {expected}, got {_describe(value)}; {consequence}",
        service=service,
        evidence={"file": cfg.shown, "line": line, "key": ".".join(path)},
    )


def _describe(value: Any) -> str:
    import json

    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str):
        return f"the string {json.dumps(value)}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return "an object" if isinstance(value, dict) else "an array"


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


def _truthy(value: Any) -> bool:
    """JavaScript truthiness, for `if (portVal)` and `host || "localhost"`."""
    if isinstance(value, float) and value != value:  # NaN
        return False
    return value not in (None, False, 0, "") or isinstance(value, (dict, list))


# -- which emulators start, on which ports -----------------------------------------------


@dataclass
class Launch:
    """What a `firebase emulators:*` invocation asks for."""

    only: Optional[Tuple[str, ...]] = None  # --only entries as typed ("hosting:site")
    project: Optional[str] = None
    config: Optional[str] = None
    show_ui: bool = True  # emulators:start shows the UI; emulators:exec only with --ui
    project_source: Source = DEFAULT
    only_source: Source = DEFAULT


@dataclass
class Plan:
    endpoints: List[Endpoint]
    emulators: List[str]
    findings: List[Finding]


def plan(
    cfg: FirebaseJson, launch: Launch, env: Mapping[str, Optional[str]], service: str = KIND
) -> Plan:
    """The emulators firebase-tools will start and each one's listeners (controller.ts)."""
    findings: List[Finding] = []
    top = cfg.value
    targets = [e for e in ONLY_NAMES if e in top or e in cfg.emulators]
    if "functions" in targets and "extensions" not in targets:
        targets.append("extensions")  # SDK-defined extensions ride along with functions
    only_names: Optional[List[str]] = None
    if launch.only is not None:
        only_names = [entry.split(":")[0] for entry in launch.only if entry]
        for name in only_names:
            if name not in ONLY_NAMES and name not in EMULATORS:
                findings.append(
                    Finding(
                        "DL504",
                        Severity.ERROR,
                        f"{service}: --only {name} ({launch.only_source}): not an emulator; "
                        'firebase-tools exits with "is not a valid emulator name"',
                        service=service,
                        hint="Valid names: " + ", ".join(ONLY_NAMES) + ".",
                        evidence={"only": name},
                    )
                )
            elif name not in targets and name in SERVICE_EMULATORS:
                findings.append(
                    Finding(
                        "DL504",
                        Severity.WARNING,
                        f"{service}: --only {name} ({launch.only_source}), but {cfg.shown} "
                        f"configures no {name}; firebase-tools skips it "
                        f'("Not starting the {name} emulator")',
                        service=service,
                        hint=f'Add "{name}": {{}} under "emulators" in {cfg.shown}.',
                        evidence={"only": name},
                    )
                )
        targets = [t for t in targets if t in only_names]
    if not targets:
        findings.append(
            Finding(
                "DL507",
                Severity.ERROR,
                f"{service}: no emulator to start: {cfg.shown} configures none"
                + (f" of --only {','.join(launch.only or ())}" if launch.only else ""),
                service=service,
                hint='Run `firebase init emulators`, or add an "emulators" block.',
                evidence={"file": cfg.shown},
            )
        )
        return Plan([], [], findings)

    started: List[str] = ["hub"]
    functions_start = False
    if "functions" in targets or "extensions" in targets:
        functions_cfg = top.get("functions")
        extensions_cfg = top.get("extensions")
        functions_start = bool(functions_cfg) and isinstance(functions_cfg, (dict, list))
        if "extensions" in targets and isinstance(extensions_cfg, dict) and extensions_cfg:
            functions_start = True
        if "functions" in targets and not functions_start:
            findings.append(
                Finding(
                    "DL505",
                    Severity.WARNING,
                    f"{service}: the functions emulator is configured "
                    f"({cfg.source('emulators', 'functions')}) but {cfg.shown} has no top-level "
                    '"functions" block, so firebase-tools will not start it',
                    service=service,
                    hint='Run `firebase init functions`, or add "functions": '
                    '{"source": "functions"}.',
                    evidence={"emulator": "functions"},
                )
            )
    ui_enabled = cfg.ui_enabled
    ui_start = (
        launch.show_ui and ui_enabled is not False and any(t in UI_SUPPORTED for t in targets)
    )
    if ui_start:
        started.append("ui")
    # utils.envOverride("START_LOGGING_EMULATOR", "false", v => v === "true"): when the variable
    # is unset the default is the *string* "false", which is truthy, so logging always starts
    # (measured with firebase-tools 15.34.2); only a set value other than "true" turns it off.
    logging_on = env.get("START_LOGGING_EMULATOR") in (None, "", "true")
    if ui_start or logging_on:
        started.append("logging")
    for name in SERVICE_EMULATORS:
        if name in ("functions", "eventarc", "tasks"):
            continue  # started together, below, when functions has something to run
        if name not in targets:
            continue
        if name == "hosting" and not top.get("hosting"):
            findings.append(
                Finding(
                    "DL505",
                    Severity.WARNING,
                    f"{service}: the hosting emulator is configured "
                    f"({cfg.source('emulators', 'hosting')}) but {cfg.shown} has no top-level "
                    '"hosting" block, so firebase-tools will not start it',
                    service=service,
                    hint="Run `firebase init hosting`.",
                    evidence={"emulator": "hosting"},
                )
            )
            continue
        started.append(name)
    if functions_start:
        started.extend(["functions", "eventarc", "tasks"])

    wsl = bool(env.get("WSL_DISTRO_NAME"))
    endpoints: List[Endpoint] = []
    for name in started:
        endpoint, problems = _endpoint(cfg, name, wsl, service)
        findings.extend(problems)
        endpoints.append(endpoint)
        if name == "firestore":
            endpoints.append(
                _secondary(
                    cfg,
                    endpoint,
                    "firestore",
                    "websocketPort",
                    "firestore.websocket",
                    FIRESTORE_WEBSOCKET_DEFAULT,
                    service,
                    findings,
                )
            )
        if name == "dataconnect" and not env.get("FIREBASE_DATACONNECT_POSTGRESQL_STRING"):
            endpoints.append(
                _secondary(
                    cfg,
                    endpoint,
                    "dataconnect",
                    "postgresPort",
                    "dataconnect.postgres",
                    DATACONNECT_POSTGRES_DEFAULT,
                    service,
                    findings,
                )
            )
        if name == "hosting":
            endpoints.extend(_hosting_sites(cfg, endpoint, launch.only))
            if endpoint.port == 5001:
                findings.append(
                    Finding(
                        "DL506",
                        Severity.WARNING,
                        f"{service}: hosting port 5001 ({endpoint.port_source}): "
                        "firebase-tools never gives hosting port 5001 (it keeps it for functions) "
                        "and starts it on the next free port",
                        service=service,
                        hint=f"Pick another port: {endpoint.fix.format(port=5000)}.",
                        evidence={"port": 5001},
                    )
                )
    return Plan(endpoints, started, findings)


def _endpoint(
    cfg: FirebaseJson, name: str, wsl: bool, service: str
) -> Tuple[Endpoint, List[Finding]]:
    """getListenConfig: host `|| "localhost"`, port `parseInt` when truthy, else the default
    (and then the emulators that find an available port may move)."""
    problems: List[Finding] = []
    body = cfg.block(name)
    default_port, finds_port = EMULATORS[name]
    host, host_source = "localhost", Source("default", "firebase-tools default")
    raw_host = body.get("host")
    if isinstance(raw_host, str) and raw_host.strip():
        host, host_source = raw_host.strip(), cfg.source("emulators", name, "host")
    elif _truthy(raw_host):
        problems.append(
            _type_problem(
                cfg,
                ("emulators", name, "host"),
                raw_host,
                "a host name or address",
                service,
                Severity.ERROR,
                "firebase-tools cannot resolve it",
            )
        )
    port, port_source, fixed = (
        default_port,
        Source("default", "firebase-tools default"),
        not finds_port,
    )
    raw_port = body.get("port")
    if "port" in body:
        parsed = _port(cfg, ("emulators", name, "port"), raw_port, default_port, service, problems)
        if parsed is not None:
            port, port_source, fixed = parsed, cfg.source("emulators", name, "port"), True
    binds = _binds(name, host, wsl)
    if wsl and host == "localhost":
        host = "127.0.0.1"  # controller.ts: the WSL hack listens on IPv4 only
    return Endpoint(
        name=name,
        port=port,
        host=host,
        port_source=port_source,
        host_source=host_source,
        binds=binds,
        auto_moves=not fixed,
        fix=f"{cfg.shown}: emulators.{name}.port = {{port}}",
    ), problems


def _port(
    cfg: FirebaseJson,
    path: Tuple[str, ...],
    raw: Any,
    default: int,
    service: str,
    problems: List[Finding],
) -> Optional[int]:
    """A configured port as firebase-tools reads it, or None when it falls back to the default."""

    def problem(expected: str, severity: Severity, consequence: str) -> None:
        problems.append(_type_problem(cfg, path, raw, expected, service, severity, consequence))

    if not _truthy(raw):
        if raw is not None:
            problem("a port number", Severity.WARNING, f"firebase-tools ignores it and uses {default}")
        return None
    parsed = js_parse_int(raw)
    if parsed is None:
        problem("a port number", Severity.ERROR, "firebase-tools reads it as NaN and cannot listen")
        return None
    if not 0 < parsed <= 65535:
        problem("a port from 1 to 65535", Severity.ERROR, "the emulator cannot listen there")
        return None
    if not isinstance(raw, int) and not (isinstance(raw, str) and raw.strip().isdigit()):
        problem("a port number", Severity.WARNING, f"firebase-tools reads it as {parsed} (parseInt)")
    return parsed


def _binds(name: str, host: str, wsl: bool) -> Tuple[str, ...]:
    """The addresses the emulator binds when they differ from "the first address of its host"."""
    if host == "localhost":
        if wsl:
            return ("127.0.0.1",)
        return LOCALHOST_ADDRESSES if name in MULTI_LISTEN else LOCALHOST_ADDRESSES[:1]
    if host in ("::", "[::]") and name in MULTI_LISTEN:
        return ("::", "0.0.0.0")
    return ()


def _secondary(
    cfg: FirebaseJson,
    primary: Endpoint,
    emulator: str,
    key: str,
    name: str,
    default: int,
    service: str,
    findings: List[Finding],
) -> Endpoint:
    """A second listener of an emulator (Firestore's websocket, Data Connect's Postgres):
    same host, its own port key; it moves silently when that key is not set."""
    raw = cfg.block(emulator).get(key)
    port, source, fixed = default, Source("default", "firebase-tools default"), False
    if key in cfg.block(emulator):
        parsed = _port(cfg, ("emulators", emulator, key), raw, default, service, findings)
        if parsed is not None:
            port, source, fixed = parsed, cfg.source("emulators", emulator, key), True
    binds = primary.binds[:1] if primary.binds else ()
    return Endpoint(
        name=name,
        port=port,
        host=primary.host,
        port_source=source,
        host_source=primary.host_source,
        binds=binds,
        auto_moves=not fixed,
        fix=f"{cfg.shown}: emulators.{emulator}.{key} = {{port}}",
    )


def _hosting_sites(
    cfg: FirebaseJson, first: Endpoint, only: Optional[Sequence[str]]
) -> List[Endpoint]:
    """serve/hosting.ts: with several sites, site i > 0 listens on port + 4 + i (never 5001),
    moving up while a port is taken."""
    sites = cfg.value.get("hosting")
    if not isinstance(sites, list):
        return []
    wanted = [entry.split(":", 1)[1] for entry in (only or ()) if entry.startswith("hosting:")]
    chosen = [
        s
        for s in sites
        if isinstance(s, dict)
        and (not wanted or s.get("target") in wanted or s.get("site") in wanted)
    ]
    result: List[Endpoint] = []
    taken = {5001, first.port}
    for i, site in enumerate(chosen):
        if i == 0:
            continue
        port = first.port + 4 + i
        while port in taken:
            port += 1
        taken.add(port)
        label = site.get("target") or site.get("site") or str(i)
        result.append(
            Endpoint(
                name=f"hosting[{label}]",
                port=port,
                host=first.host,
                port_source=Source("default", f"hosting port {first.port} + 4 + {i}"),
                host_source=first.host_source,
                binds=first.binds,
                auto_moves=True,
                fix=first.fix,
            )
        )
    return result


# -- reading the project ---------------------------------------------------------------


def _read(
    project: Project, relative: str, base: str, service: str
) -> Tuple[Optional[str], List[Finding], str]:
    shown = project.display(project.path(relative, base))
    try:
        text = project.read_text(relative, base)
    except FileProblem as exc:
        return (
            None,
            [
                Finding(
                    "DL501",
                    Severity.ERROR,
                    f"{exc.path} {exc.reason}",
                    service=service,
                    evidence={"file": exc.path},
                )
            ],
            shown,
        )
    return text, [], shown


def _find_config(project: Project, cwd: str) -> Optional[Tuple[str, str]]:
    """firebase-tools looks for firebase.json in the working folder and its parents.
    Returns (relative name, base folder) as Project takes them."""
    start = project.path(".", cwd).resolve()
    for folder in (start, *start.parents):
        if project.exists(CONFIG_FILE, str(folder)):
            return CONFIG_FILE, str(folder)
    return None


def _rc_project(project: Project, base: str, alias: Optional[str]) -> Tuple[Optional[str], Source]:
    """.firebaserc: an alias given with --project maps to its project id; without a flag the
    `default` alias is the project (firebase-tools applyRC)."""
    try:
        text = project.read_text(".firebaserc", base)
    except FileProblem:
        return alias, DEFAULT
    if text is None:
        return alias, DEFAULT
    from devlint.readers.jsonc import JsoncError, loads

    try:
        doc = loads(text)
    except JsoncError:
        return alias, DEFAULT
    projects = doc.value.get("projects") if isinstance(doc.value, dict) else None
    if not isinstance(projects, dict):
        return alias, DEFAULT
    key = alias if alias is not None else "default"
    value = projects.get(key)
    if isinstance(value, str) and value:
        shown = project.display(project.path(".firebaserc", base))
        return value, Source("file", shown, doc.line("projects", key), f"projects.{key}")
    return alias, DEFAULT


def build(
    project: Project,
    base: str,
    launch: Launch,
    name: str = KIND,
    config_base: Optional[str] = None,
    path: str = ".",
) -> Service:
    """One firebase Service for a launch, with every emulator that will start."""
    located: Optional[Tuple[str, str]]
    located = (launch.config, config_base or base) if launch.config else _find_config(project, base)
    details: Dict[str, Any] = {
        "project": launch.project,
        "emulators": [],
        "config": None,
        "only": list(launch.only) if launch.only is not None else None,
    }
    if located is None:
        finding = Finding(
            "DL501",
            Severity.ERROR,
            f"{name}: no {CONFIG_FILE} in {project.display(project.path('.', base))} or its "
            'parents; firebase-tools stops with "Not in a Firebase app directory"',
            service=name,
            hint="Run `firebase init emulators`, or pass --config PATH.",
        )
        return Service(name=name, kind=KIND, path=path, details=details, diagnostics=(finding,))
    relative, folder = located
    text, problems, shown = _read(project, relative, folder, name)
    details["config"] = shown
    if text is None and not problems:
        problems = [
            Finding(
                "DL501",
                Severity.ERROR,
                f"{name}: {shown} does not exist",
                service=name,
                evidence={"file": shown},
            )
        ]
    if text is None:
        return Service(
            name=name, kind=KIND, path=path, details=details, diagnostics=tuple(problems)
        )
    cfg = parse(text, shown, name)
    config_dir = str(project.path(relative, folder).parent)
    project_id, project_source = launch.project, launch.project_source
    rc_id, rc_source = _rc_project(project, config_dir, launch.project)
    if rc_id != launch.project:
        project_id, project_source = rc_id, rc_source
    details["project"] = project_id
    details["project_source"] = str(project_source) if project_id else None
    if not cfg.readable:
        return Service(
            name=name, kind=KIND, path=path, details=details, diagnostics=tuple(cfg.problems)
        )
    env = {
        key: project.getenv(key)
        for key in (
            "START_LOGGING_EMULATOR",
            "WSL_DISTRO_NAME",
            "FIREBASE_DATACONNECT_POSTGRESQL_STRING",
        )
    }
    result = plan(cfg, launch, env, name)
    details["emulators"] = result.emulators
    return Service(
        name=name,
        kind=KIND,
        endpoints=tuple(result.endpoints),
        path=path,
        source=Source("file", shown),
        details=details,
        diagnostics=tuple(cfg.problems + result.findings),
    )


# -- the command line --------------------------------------------------------------------


def is_firebase(word: str) -> bool:
    base = os.path.basename(word.replace("\\", "/")).lower()
    for suffix in (".cmd", ".exe", ".js", ".ps1"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base in ("firebase", "firebase-tools")


def parse_command(argv: Sequence[str]) -> Optional[Launch]:
    """`firebase [flags] emulators:start|emulators:exec [flags] [script]` → a Launch."""
    if not argv or not is_firebase(argv[0]):
        return None
    launch = Launch()
    subcommand: Optional[str] = None
    words = list(argv[1:])
    i = 0
    while i < len(words):
        word = words[i]
        flag, eq, inline = word.partition("=")
        if word.startswith("-") and flag in (*_VALUE_FLAGS, *_OPTIONAL_VALUE_FLAGS):
            if eq:
                value: Optional[str] = inline
            elif flag in _OPTIONAL_VALUE_FLAGS:
                value = (
                    words[i + 1]
                    if i + 1 < len(words) and not words[i + 1].startswith("-")
                    else None
                )
                i += 1 if value is not None else 0
            else:
                value = words[i + 1] if i + 1 < len(words) else ""
                i += 1
            if flag == "--only" and value is not None:
                launch.only = tuple(part.strip() for part in value.split(",") if part.strip())
                launch.only_source = Source("flag", f"--only {value}")
            elif flag in ("--project", "-P") and value:
                launch.project, launch.project_source = value, Source("flag", f"{flag} {value}")
            elif flag in ("--config", "-c") and value:
                launch.config = value
        elif not word.startswith("-") and subcommand is None:
            subcommand = word
        i += 1
    if subcommand not in ("emulators:start", "emulators:exec"):
        return None
    if subcommand == "emulators:exec":
        launch.show_ui = "--ui" in words  # exec shows the UI only when asked
    return launch


def exec_script(argv: Sequence[str]) -> Optional[str]:
    """The script of `firebase emulators:exec [flags] SCRIPT` (firebase-tools runs it in a shell
    once the emulators are up), or None for any other command or when no script is given."""
    if not argv or not is_firebase(argv[0]) or "emulators:exec" not in argv:
        return None
    words = list(argv)
    i = words.index("emulators:exec") + 1
    while i < len(words):
        word = words[i]
        if word == "--":
            return " ".join(words[i + 1:]) or None
        if word.startswith("-"):
            takes = "=" not in word and word in (*_VALUE_FLAGS, *_OPTIONAL_VALUE_FLAGS) and i + 1 < len(words)
            if takes and (word not in _OPTIONAL_VALUE_FLAGS or not words[i + 1].startswith("-")):
                i += 1
            i += 1
            continue
        return word
    return None


def _settings_launch(service: Service) -> Tuple[Launch, List[Finding]]:
    """devlint.toml keys of a firebase service → a Launch (types checked here: the core
    validates only its own keys)."""
    settings = service.settings
    launch, problems = Launch(), []

    def source(key: str) -> Source:
        return Source("file", service.source.where, service.source.line, f"services.{service.name}.{key}")

    def bad(key: str, expected: str) -> None:
        problems.append(
            Finding(
                "DL502",
                Severity.ERROR,
                f"{service.source}: services.{service.name}.{key}: expected {expected}, "
                f"got {_describe(settings[key])}",
                service=service.name,
            )
        )

    only = settings.get("only")
    if isinstance(only, str):
        only = [part.strip() for part in only.split(",") if part.strip()]
    if only is not None:
        if isinstance(only, list) and all(isinstance(x, str) for x in only):
            launch.only = tuple(only)
            launch.only_source = source("only")
        else:
            bad("only", "a list of emulator names")
    project_id = settings.get("project")
    if project_id is not None:
        if isinstance(project_id, str) and project_id:
            launch.project = project_id
            launch.project_source = source("project")
        else:
            bad("project", "a project id string")
    config = settings.get("config")
    if config is not None:
        if isinstance(config, str) and config:
            launch.config = config
        else:
            bad("config", "a path string")
    return launch, problems


# -- hooks -------------------------------------------------------------------------------------


@hookimpl
def devlint_service_kinds() -> Mapping[str, Mapping[str, str]]:
    return {
        KIND: {
            "only": 'emulators to start, like --only (a list: ["auth", "hosting"]); '
            "default: all configured",
            "project": "the project id, like --project (default: .firebaserc's default alias)",
            "config": "path of firebase.json, like --config "
            "(default: firebase.json in the service's path)",
        }
    }


@hookimpl
def devlint_package_binaries() -> Mapping[str, str]:
    return {"firebase-tools": "firebase"}


@hookimpl
def devlint_inner_command(command: Command) -> Optional[str]:
    return exec_script(command.argv)


@hookimpl
def devlint_init_settings(service: Service, from_script: bool) -> Optional[Mapping[str, Any]]:
    """The project id `firebase emulators:start` is told (a script's --project already says it)."""
    project = service.details.get("project")
    if from_script or not isinstance(project, str) or not project:
        return None
    return {"project": project}


@hookimpl
def devlint_command_services(command: Command, project: Project) -> Optional[Sequence[Service]]:
    launch = parse_command(command.argv)
    if launch is None:
        return None
    return [build(project, command.cwd, launch, path=command.cwd)]


@hookimpl
def devlint_resolve_service(service: Service, project: Project) -> Optional[Service]:
    if service.kind != KIND:
        return None
    launch, problems = _settings_launch(service)
    if launch.config is None:
        launch.config = CONFIG_FILE
    built = build(project, service.path, launch, name=service.name, path=service.path)
    from dataclasses import replace

    return replace(
        built,
        source=service.source,
        settings=service.settings,
        endpoints=service.endpoints or built.endpoints,
        diagnostics=tuple(problems) + built.diagnostics,
    )


@hookimpl
def devlint_detect_services(project: Project) -> Optional[Sequence[Service]]:
    text, problems, shown = _read(project, CONFIG_FILE, ".", KIND)
    if problems:
        return [
            Service(name=KIND, kind=KIND, details={"config": shown}, diagnostics=tuple(problems))
        ]
    if text is None or '"emulators"' not in text:
        return None
    cfg = parse(text, shown)
    if cfg.readable and "emulators" not in cfg.value:
        return None
    return [build(project, ".", Launch(config=CONFIG_FILE))]


@hookimpl
def devlint_check_service(service: Service, project: Project) -> Optional[Iterable[Finding]]:
    if service.kind != KIND:
        return None
    return list(duplicate_ports(service))


def duplicate_ports(service: Service) -> Iterable[Finding]:
    """Two emulators on one port: firebase-tools hands the port to whichever it assigns
    first and moves the other one up, silently, even when its port was set."""
    by_port: Dict[int, List[Endpoint]] = {}
    for endpoint in service.endpoints:
        by_port.setdefault(endpoint.port, []).append(endpoint)
    for port, users in sorted(by_port.items()):
        if len(users) < 2:
            continue
        fixed = [ep for ep in users if not ep.auto_moves]
        movers = [ep for ep in users if ep.auto_moves]
        where = "; ".join(f"{ep.name} ({ep.port_source})" for ep in users)
        severity = Severity.ERROR if len(fixed) >= 2 else Severity.WARNING
        if severity is Severity.ERROR:
            hint = (
                f"Give each its own port, e.g. {fixed[-1].fix.format(port=port + 1)}"
                if fixed[-1].fix
                else "Give each its own port."
            )
        else:
            who = ", ".join(ep.name for ep in movers)
            hint = (
                f"{who} will move to another port by itself, so its clients and the UI links "
                f"may not find it where expected; set distinct ports"
                + (f", e.g. {movers[0].fix.format(port=port + 1)}" if movers[0].fix else "")
                + "."
            )
        yield Finding(
            "DL503",
            severity,
            f"{service.name}: port {port} is set for {len(users)} emulators: {where}",
            service=service.name,
            hint=hint,
            evidence={
                "port": port,
                "emulators": [ep.name for ep in users],
                "lines": [ep.port_source.line for ep in users],
            },
        )


@hookimpl
def devlint_explain_listener(
    listener: Listener, service: Service, endpoint: Endpoint, platform: str
) -> Optional[Explanation]:
    what = emulator_process(listener.cmdline)
    if what is None:
        return None
    project_id = service.details.get("project") if service.kind == KIND else None
    hub = hub_file_for(listener, project_id if isinstance(project_id, str) else None)
    # why and fix end without a full stop: the report joins them as "title: why; fix."
    why = f"{listener.owner()} is {what} still listening on {listener.where()}" + (
        f"; {hub}" if hub else ""
    )
    ours = service.kind == KIND
    if ours:
        why += ". It looks like an emulator suite from an earlier run that was not stopped"
        fix = (
            f"stop it (Ctrl-C in its terminal, or `kill {listener.pid}`), "
            "or run devlint with --kill"
            if listener.pid
            else "stop the earlier `firebase emulators:start` (Ctrl-C in its terminal)"
        )
    else:
        fix = "stop that emulator suite, or move one of them to another port" + (
            f" ({endpoint.fix.format(port=endpoint.port + 1)})" if endpoint.fix else ""
        )
    # A dev server of the user's own, whichever stack it belongs to: --kill may offer to stop it.
    return Explanation(title=f"Firebase emulator ({what})", why=why, fix=fix, stale=True)


def emulator_process(cmdline: Optional[Sequence[str]]) -> Optional[str]:
    """What a process is, when its command line is firebase-tools or one of its emulators."""
    if not cmdline:
        return None
    words = [str(w) for w in cmdline]
    joined = " ".join(words).replace("\\", "/")
    for jar in _JAVA_EMULATORS:
        if jar in joined:
            return f"the Java {jar} of firebase-tools"
    if "firebase-tools" in joined or any(is_firebase(w) for w in words):
        for word in words:
            if word.startswith("emulators:"):
                return f"firebase-tools (`firebase {word}`)"
        if "/.cache/firebase/emulators/" in joined or "firebase-tools" in joined:
            return "a firebase-tools process"
    if "/.cache/firebase/emulators/" in joined:
        return "a downloaded firebase emulator"
    return None


def hub_file_for(listener: Listener, project_id: Optional[str] = None) -> Optional[str]:
    """The hub locator file (hub-<project>.json in the temp folder, written while an emulator
    suite runs and removed when it stops cleanly) that names this listener's port, or that
    belongs to the service's project, as a sentence; None when there is none."""
    import glob
    import json
    import stat
    import tempfile

    folder = tempfile.gettempdir()
    for path in sorted(glob.glob(os.path.join(folder, "hub-*.json")))[:50]:
        # the temp folder is shared: read only regular files of our own, without blocking
        # on a FIFO, and survive whatever they hold
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
            with open(fd, encoding="utf-8") as handle:
                st = os.fstat(handle.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_size > 1 << 20 or (
                        hasattr(os, "getuid") and st.st_uid != os.getuid()):
                    continue
                data = json.load(handle)
        except (OSError, ValueError, RecursionError):
            continue
        if not isinstance(data, dict):
            continue
        ports = set()
        if isinstance(data.get("port"), int):
            ports.add(data["port"])
        for origin in data.get("origins") or ():
            if isinstance(origin, str) and origin.rsplit(":", 1)[-1].isdigit():
                ports.add(int(origin.rsplit(":", 1)[-1]))
        file_project = os.path.basename(path)[len("hub-") : -len(".json")]
        if listener.port in ports or (listener.pid is not None and data.get("pid") == listener.pid):
            return (
                f"{path} (written by firebase-tools while a suite runs) says the emulator hub "
                f"of project {file_project!r} is on port {', '.join(str(p) for p in sorted(ports))}"
            )
        if project_id is not None and file_project == project_id and ports:
            return (
                f"{path} shows an emulator suite of project {project_id!r} still running "
                f"(hub on port {', '.join(str(p) for p in sorted(ports))})"
            )
    return None
