"""The data that flows through a run: config → services → snapshot → findings.

Everything here is a frozen dataclass or an enum so that no step can reach back and
change what an earlier step produced. Plugins build these; the core reads them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Dict, Generic, Iterable, Iterator, Mapping, Optional, Tuple, TypeVar


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()


class ExitCode(enum.IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    NOT_EXECUTABLE = 126
    NOT_FOUND = 127
    INTERRUPTED = 130
    TERMINATED = 143


@dataclass(frozen=True)
class Source:
    """Where a value came from, so every message can point at the line to change.

    kind is one of: "file" (where = path, line, key), "env" (where = variable name),
    "flag" (where = the flag as typed), "command" (the command line), "default".
    """

    kind: str
    where: str = ""
    line: Optional[int] = None
    key: Optional[str] = None

    def __str__(self) -> str:
        if self.kind == "file":
            text = self.where + (f":{self.line}" if self.line else "")
            return f"{text} {self.key}" if self.key else text
        if self.kind == "env":
            return f"environment {self.where}"
        if self.kind == "flag":
            return f"flag {self.where}"
        if self.kind == "command":
            return f"command `{self.where}`"
        return f"default ({self.where})" if self.where else "default"


DEFAULT = Source("default")

T = TypeVar("T")


@dataclass(frozen=True)
class Sourced(Generic[T]):
    """A value as the framework will see it, where it came from, and how to change it.

    fix: the edit that changes it, as text with "{port}" where a new port goes (other braces
    doubled, since it is formatted with str.format): ".flaskenv: FLASK_RUN_PORT={port}".
    Plugins build these while reading a framework's files; endpoints carry their port's and
    host's sources.
    """

    value: T
    source: Source = DEFAULT
    fix: str = ""


def escape_braces(text: str) -> str:
    """Text made safe to put into a fix template (``Sourced.fix``, ``Endpoint.fix``), which
    is formatted with ``str.format(port=...)``: braces doubled."""
    return text.replace("{", "{{").replace("}", "}}")


def describe(value: Any, syntax: str = "json", strings: bool = False) -> str:
    """A value from a user's file as messages name it, in the words of the file's syntax:
    JSON (``the string "5000"``, ``true``, ``an object``, ``an array``) or TOML (``the string
    '5000'``, ``the boolean true``, ``a table``, ``a list``); numbers are ``the number 5``.
    Anything else by its ``str()`` (a JS expression devlint could not evaluate prints as its code).
    strings: a list of strings was expected, so a list names its first other item
    (``a list containing the number 5``).
    """
    import json

    toml = syntax == "toml"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}" if toml else json.dumps(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {value!r}" if toml else f"the string {json.dumps(value)}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a table" if toml else "an object"
    if isinstance(value, (list, tuple)):
        odd = next((item for item in value if not isinstance(item, str)), None) if strings else None
        inside = f" containing {describe(odd, syntax)}" if odd is not None else ""
        return ("a list" if toml else "an array") + inside
    return type(value).__name__ if toml else str(value)


@dataclass(frozen=True)
class Endpoint:
    """One port a service's server will listen on.

    binds: the addresses the server itself will bind; empty means "derive from host"
    (the core resolves it the way the server would). auto_moves: the server picks
    another port by itself when this one is busy (Firebase UI, hub, ...), so a busy
    port is a warning, not an error. fix: how to change the port, with "{port}" where
    the new number goes (".flaskenv: FLASK_RUN_PORT={port}").
    """

    name: str
    port: int
    host: str = "localhost"
    port_source: Source = DEFAULT
    host_source: Source = DEFAULT
    binds: Tuple[str, ...] = ()
    auto_moves: bool = False
    fix: str = ""


@dataclass(frozen=True)
class Upstream:
    """A server this service connects to as a client (an Angular proxy target)."""

    url: str
    host: str
    port: int
    source: Source = DEFAULT
    context: str = ""


@dataclass(frozen=True)
class Finding:
    """One problem, as the user sees it: ``severity code message`` and a hint line.

    code: a rule-table code (``DL102``); every code is declared once, in the core's
    (devlint/rules.py) or a plugin's ``RuleTable``, with its default severity, title and
    evidence keys. service: the service's name ("" for the whole stack). hint: what to do.
    evidence: the facts behind it, as JSON-able data for ``--format json``, made only where
    the finding is built; its keys come from the code's ``Rule.evidence`` (a finding carries
    those its case knows, e.g. a missing file has no line; the test suite rejects any other
    key). The port findings (DL101-103) carry ``verdict``, ``endpoint``, ``port``,
    ``port_source``, ``binds``, ``clients``, ``lost``, ``suggested_port`` and ``listeners``
    (see devlint/rules.py); static findings mostly ``file``, ``line``, ``key``.
    """

    code: str
    severity: Severity
    message: str
    service: str = ""
    hint: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """A finding code, declared once.

    severity: the default; also: the other severities this code may carry (DL202 is a
    warning when the stack has no other service). title: one line. evidence: the keys its
    findings' evidence carries (Finding.evidence). doc: where it is documented
    (``README.md#flask-dl4xx``; the table's ``doc`` when not set). The README's code tables
    are checked against the rule tables (tests/test_docs.py).
    """

    code: str
    severity: Severity
    title: str
    evidence: Tuple[str, ...] = ()
    also: Tuple[Severity, ...] = ()
    doc: str = ""


class RuleTable(Mapping[str, Rule]):
    """The codes one plugin (or the core) owns, and the one way to build their findings.

    ``rules("DL401", message, service=..., hint=..., evidence=...)`` makes a Finding with the
    rule's severity; ``severity=`` picks one of the rule's ``also`` severities. Raises KeyError
    for a code the table does not declare. With DEVLINT_STRICT_RULES set (the test suite sets
    it), a severity the rule does not allow or an evidence key it does not declare raises
    ValueError: every path the tests take is held to the declarations.
    """

    def __init__(self, owner: str, rules: Iterable[Rule], doc: str = "README.md#finding-codes") -> None:
        from dataclasses import replace

        self.owner = owner
        self._rules: Dict[str, Rule] = {}
        for rule in rules:
            if rule.code in self._rules:
                raise ValueError(f"{owner}: {rule.code} declared twice")
            self._rules[rule.code] = rule if rule.doc else replace(rule, doc=doc)

    def __getitem__(self, code: str) -> Rule:
        return self._rules[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __call__(self, code: str, message: str, *, service: str = "", hint: str = "",
                 evidence: Optional[Mapping[str, Any]] = None, severity: Optional[Severity] = None) -> Finding:
        rule = self._rules[code]
        data = dict(evidence or {})
        if _strict_rules():
            if severity is not None and severity not in (rule.severity, *rule.also):
                raise ValueError(f"{code} may not be {severity} (declared: {rule.severity}, also {rule.also})")
            if set(data) - set(rule.evidence):
                raise ValueError(f"{code}: evidence keys {sorted(set(data) - set(rule.evidence))} are not declared")
        return Finding(code, rule.severity if severity is None else severity, message, service=service,
                       hint=hint, evidence=data)


def _strict_rules() -> bool:
    import os

    return bool(os.environ.get("DEVLINT_STRICT_RULES"))


@dataclass(frozen=True)
class Service:
    """A dev server of the stack, with everything the checks need to know about it.

    origin: the URL a browser loads this service from (frontends), used for CORS checks.
    cors_origins: the origins a backend allows; None when unknown, ("*",) for any.
    settings: the service's table from devlint.toml (plugin-specific keys).
    details: plugin data that later hooks of the same plugin need (JSON-able).
    diagnostics: problems found while reading the service's files (a broken
    firebase.json is a finding, not a crash).
    """

    name: str
    kind: str = ""
    endpoints: Tuple[Endpoint, ...] = ()
    upstreams: Tuple[Upstream, ...] = ()
    origin: Optional[str] = None
    cors_origins: Optional[Tuple[str, ...]] = None
    cors_source: Source = DEFAULT
    path: str = "."
    source: Source = DEFAULT
    settings: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    diagnostics: Tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Listener:
    """A TCP socket on a checked port, with its owner where the OS lets us see it.

    Usually in LISTEN state. state "bound" (bound, not listening: a port reservation, a
    socket between bind() and listen()) and "connected" (a connection whose local end is
    this address and port; remote/remote_port its other end) are sockets that make a
    server's bind fail but answer nobody (Snapshot.others): they hold, never shadow.
    """

    address: str
    port: int
    family: int  # 4 or 6
    v6only: Optional[bool] = None  # None: the backend cannot tell (psutil)
    pid: Optional[int] = None
    process: Optional[str] = None
    cmdline: Optional[Tuple[str, ...]] = None
    uid: Optional[int] = None
    user: Optional[str] = None
    inode: Optional[int] = None
    state: str = "listen"  # "listen", "bound" or "connected"
    remote: Optional[str] = None
    remote_port: Optional[int] = None

    def where(self) -> str:
        """``127.0.0.1:5000``, ``[::]:5000``."""
        from devlint.addresses import bracketed

        return f"{bracketed(self.address)}:{self.port}"

    def owner(self) -> str:
        if self.pid is None:
            who = f"uid {self.uid}" if self.uid is not None else "an unknown owner"
            if self.user:
                who = f"user {self.user} (uid {self.uid})"
            return f"a process of {who} (pid not visible)"
        name = self.process or "?"
        return f"pid {self.pid} ({name})"

    def describe(self) -> str:
        """One line for messages: owner, address, family (v6only or dual-stack for ``[::]``
        when known) and the command line, shortened to 120 characters."""
        family = "IPv6" if self.family == 6 else "IPv4"
        if self.family == 6 and self.address == "::" and self.v6only is not None:
            family += ", v6only" if self.v6only else ", dual-stack"
        if self.state == "connected":
            from devlint.addresses import bracketed

            far = f"{bracketed(self.remote or '?')}:{self.remote_port}"
            text = f"{self.owner()}: a connection from {self.where()} to {far} ({family}, not listening)"
        elif self.state == "bound":
            text = f"{self.owner()} on {self.where()} ({family}, bound, not listening)"
        else:
            text = f"{self.owner()} on {self.where()} ({family})"
        if self.cmdline:
            command = " ".join(" ".join(self.cmdline).split())  # one line, even for `python -c "..."`
            text += f": `{command[:117] + '...' if len(command) > 120 else command}`"
        return text

    def data(self) -> Dict[str, Any]:
        """The listener as JSON-able data (``who --format json``, port findings' evidence)."""
        return {
            "address": self.address, "port": self.port, "family": self.family, "v6only": self.v6only,
            "pid": self.pid, "process": self.process, "cmdline": list(self.cmdline) if self.cmdline else None,
            "uid": self.uid, "user": self.user, "state": self.state,
            "remote": f"{self.remote}:{self.remote_port}" if self.remote is not None else None,
        }


@dataclass(frozen=True)
class Verdict:
    """The answer for one endpoint against one snapshot (devlint.verdict.judge).

    status: "clear", "held" (the server's own bind will fail) or "shadowed" (the bind
    succeeds, but clients reach another process). listeners: the sockets in the way (for
    held, possibly sockets that are not listening; empty when a bind probe failed and the
    snapshot shows no holder: "holder unknown"). binds:
    the addresses the server will bind; clients: the addresses its clients connect to;
    lost: the client addresses another process answers (shadowed only).
    """

    status: str
    listeners: Tuple[Listener, ...] = ()
    binds: Tuple[str, ...] = ()
    clients: Tuple[str, ...] = ()
    lost: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """One scan of the machine's listeners on the ports of interest.

    listeners: LISTEN sockets. others: sockets on those ports that are not listening but
    take part in bind conflicts (bound only, connections; not TIME_WAIT). sees_bound: whether
    the backend can list bound-only sockets (netlink on Linux >= 6.5); when not, a socket
    bound without listening is invisible and only a bind probe can reveal it. loopbacks:
    the loopback addresses clients of localhost can reach here (Linux: ::1 only when
    /proc/net/if_inet6 lists it on some interface; elsewhere assumed).
    """

    listeners: Tuple[Listener, ...]
    platform: str  # "linux", "darwin", "win32", ...
    backend: str = ""
    partial: bool = False  # some owners could not be looked up
    others: Tuple[Listener, ...] = ()
    sees_bound: bool = False
    loopbacks: Tuple[str, ...] = ("127.0.0.1", "::1")  # those this machine has (no ::1: IPv6 off on lo)

    @property
    def probeable(self) -> bool:
        """Whether bind probes may confirm verdicts on this snapshot: it is this machine's,
        on Linux (elsewhere SO_REUSEADDR means other things: on Windows it binds over a
        holder)."""
        import sys

        return self.platform == sys.platform and sys.platform.startswith("linux")

    def must_judge(self, port: int) -> bool:
        """Whether an endpoint on port needs the verdict rules: a socket is on it, or the
        snapshot cannot list bound-only sockets and a bind probe can look. Otherwise the
        port is clear without them."""
        return bool(self.on_port(port) or self.others_on(port)) or (not self.sees_bound and self.probeable)

    def others_on(self, port: int) -> Tuple[Listener, ...]:
        """The non-listening sockets on a port (others)."""
        return tuple(lst for lst in self.others if lst.port == port)

    def on_port(self, port: int) -> Tuple[Listener, ...]:
        return tuple(lst for lst in self.listeners if lst.port == port)


@dataclass(frozen=True)
class Command:
    """One simple command a launch will run, after npm scripts and wrappers are unwrapped.

    argv: the words, with `npx`, `cross-env VAR=x`, `VAR=x` prefixes and `devlint run --`
    removed. cwd: the folder it runs in, relative to the project root ("cd api && ...").
    env: variables the script sets for it. text: the command as the user wrote it.
    """

    argv: Tuple[str, ...]
    cwd: str = "."
    env: Mapping[str, str] = field(default_factory=dict)
    text: str = ""


@dataclass(frozen=True)
class Explanation:
    """What a plugin knows about a listener: a known culprit or a stale dev server."""

    title: str  # "macOS AirPlay Receiver (ControlCenter)"
    why: str  # why it breaks the stack
    fix: str  # what to do
    stale: bool = False  # a dev server of the user's own tooling (flask run, ng serve …): --kill may stop it

    def text(self) -> str:
        """"title: why; fix." as hints show it."""
        return f"{self.title}: {self.why}; {self.fix}."
