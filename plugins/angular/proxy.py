"""The dev server's proxy config: every route's target as an Upstream, with its file and line.

One concern: a ``proxyConfig`` file → the servers ng serve proxies to, and the DL605-DL607
findings for what the dev server would reject or ignore. Nothing is run: ``.json`` is read as
JSONC, ``.js/.mjs/.cjs`` with the static reader ``devlint.readers.js`` (a computed value is
named with its line, not guessed).

Facts from the Angular CLI (21.x): ``@angular/build`` ``src/utils/load-proxy-config.ts`` (JSON
with comments via jsonc-parser, JavaScript via import; the object form ``{"/api": {...}}`` and the
array form ``[{"context": [...], ...}]``, whose entries ``@angular/build`` uses only when
``context`` is a list; a missing file or a parse error stops ng serve) and http-proxy's target
forms (a URL, or ``{host, port, protocol}``; a bare string route as Vite and webpack-dev-server 4
take it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional
from urllib.parse import urlsplit

from devlint.addresses import bracketed
from devlint.model import Finding, Source, Upstream, describe
from devlint.project import MAX_FILE_BYTES, MAX_PARSED_BYTES, FileProblem, Project
from devlint.readers.js import Opaque, read_export
from devlint.readers.jsonc import JsoncError, PathKey, loads

from .rules import KIND, RULES
from .workspace import invalid_json

_SCHEME_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

LineOf = Callable[[PathKey], Optional[int]]


@dataclass
class ProxyRead:
    """What one proxy config file says: its form, its targets and its problems."""

    shown: str
    format: Optional[str] = None  # "object" | "array"
    upstreams: List[Upstream] = field(default_factory=list)
    findings: List[Finding] = field(default_factory=list)
    routes: List[Dict[str, Any]] = field(default_factory=list)  # for tests and `devlint config`


def read_proxy(project: Project, relative: str, base: str, service: str = KIND,
               referenced: Optional[Source] = None, builder: Optional[str] = None) -> ProxyRead:
    """Every target of a proxy config file, each with its file, line and key. Never runs it."""
    full = project.path(relative, base)
    shown = project.display(full)
    read = ProxyRead(shown)
    by = f" ({referenced})" if referenced is not None else ""
    try:
        limit = MAX_PARSED_BYTES if relative.endswith((".js", ".mjs", ".cjs")) else MAX_FILE_BYTES
        text = project.read_text(relative, base, limit)
    except FileProblem as exc:
        read.findings.append(RULES("DL605", f"{service}: proxy config {exc.path}{by} {exc.reason}",
                                   service=service, evidence={"file": exc.path}))
        return read
    if text is None:
        read.findings.append(RULES(
            "DL605", f"{service}: proxy config {shown}{by} does not exist",
            service=service, hint="ng serve stops with \"Proxy configuration file ... does not exist\". "
            "Fix the path (it is relative to the folder of angular.json).", evidence={"file": shown}))
        return read
    if full.suffix.lower() == ".json":
        parse_proxy_json(text, shown, service, read, builder)
    else:
        parse_proxy_js(text, shown, service, read, builder)
    return read


def parse_proxy_json(text: str, shown: str, service: str, read: ProxyRead,
                     builder: Optional[str] = None) -> ProxyRead:
    try:
        doc = loads(text)
    except JsoncError as exc:
        read.findings.append(invalid_json("DL605", shown, exc, service, "ng serve stops with \"Proxy "
                                          "configuration file ... contains parse errors\"."))
        return read
    _Routes(read, lambda path: doc.line(*path), service, builder).read(doc.value)
    return read


def parse_proxy_js(text: str, shown: str, service: str, read: ProxyRead,
                   builder: Optional[str] = None) -> ProxyRead:
    exported, reader, problem = read_export(text)
    if problem is not None:
        read.findings.append(RULES(
            "DL606", f"{shown}:{problem.line}: {problem.message}; devlint does not run proxy "
            "files, so it cannot check these proxy targets", service=service,
            hint="Use a proxy.conf.json, or literal targets, to have them checked.",
            evidence={"file": shown, "line": problem.line}))
        if exported is None:
            return read
    _Routes(read, lambda path: reader.line(*path), service, builder).read(exported)
    return read


_SHOWN_CONTEXTS = 8  # paths of one array entry named in messages


class _Routes:
    """One proxy config's value (JSON or the JavaScript reader's) → routes, upstreams, findings."""

    def __init__(self, read: ProxyRead, line_of: LineOf, service: str, builder: Optional[str]) -> None:
        self.out = read
        self.shown = read.shown
        self.line_of = line_of
        self.service = service
        self.builder = builder

    def report(self, path: PathKey, message: str, code: str = "DL606", hint: str = "") -> None:
        """A finding about the value at path, named by file and line."""
        line = self.line_of(path)
        where = f"{self.shown}:{line}" if line else self.shown
        self.add(code, f"{where}: {message}", {"file": self.shown, "line": line}, hint)

    def add(self, code: str, message: str, evidence: Mapping[str, Any], hint: str = "") -> None:
        self.out.findings.append(RULES(code, message, service=self.service, hint=hint, evidence=evidence))

    def read(self, value: Any) -> None:
        if isinstance(value, Opaque):
            self.report((), f"the exported proxy config is computed ({value}); devlint cannot read it without "
                        "running the file")
        elif isinstance(value, dict):
            self.out.format = "object"
            for context, entry in value.items():
                self.object_entry(str(context), entry)
        elif isinstance(value, list):
            self.out.format = "array"
            for index, entry in enumerate(value):
                self.array_entry(index, entry)
        elif value is not None:
            self.report((), f"the proxy config is {describe(value)}, not an object or array of routes", "DL607")

    def object_entry(self, context: str, entry: Any) -> None:
        """`"/api": {...}` of the object form."""
        path: PathKey = (context,)
        if isinstance(entry, Opaque):
            self.report(path, f"proxy {context}: its options are computed ({entry})")
        elif isinstance(entry, str):  # Vite and webpack-dev-server 4 take a bare target string
            self.target(entry, path, context)
        elif isinstance(entry, dict):
            self.entry(entry, path, context)
        else:
            self.report(path, f"{context!r} is {describe(entry)}, not a proxy entry (an object with a "
                        "target); the dev server cannot use it", "DL607",
                        "Move options such as changeOrigin inside a route's object.")

    def array_entry(self, index: int, entry: Any) -> None:
        """`{"context": [...], "target": ...}` of the array form."""
        path: PathKey = (index,)
        if isinstance(entry, Opaque):
            self.report(path, f"proxy entry {index} is computed ({entry})")
            return
        if not isinstance(entry, dict):
            self.report(path, f"proxy entry {index} is {describe(entry)}, not an object; it is ignored", "DL607")
            return
        contexts = self.contexts(index, entry.get("context"))
        if contexts is not None:
            self.entry(entry, path, contexts)

    def contexts(self, index: int, context: Any) -> Optional[str]:
        """The paths an array entry proxies, as messages show them (the first _SHOWN_CONTEXTS
        and how many more: one list may be shared by thousands of entries through a const, so
        the text must not grow with it), or None when the dev server ignores the entry."""
        if isinstance(context, Opaque):
            self.report((index, "context"), f"proxy entry {index}: its context is computed ({context})")
            return context.text
        if isinstance(context, str):
            if self.builder and self.builder.startswith("@angular/build:"):
                self.report((index, "context"), f"proxy entry {index}: context is a string; {self.builder} uses "
                            "array entries only when context is a list, so this one is ignored",
                            "DL607", f"Write \"context\": [{context!r}].".replace("'", '"'))
                return None
            return context
        if isinstance(context, list) and context:
            shown = [c.text if isinstance(c, Opaque) else str(c) for c in context[:_SHOWN_CONTEXTS]]
            more = len(context) - len(shown)
            return ", ".join(shown) + (f" and {more} more" if more else "")
        self.report((index,), f"proxy entry {index} has no context (the paths it proxies); it is ignored", "DL607")
        return None

    def entry(self, entry: Dict[str, Any], path: PathKey, context: str) -> None:
        target = entry.get("target")
        if target is not None and target != "":
            self.target(target, (*path, "target"), context)
            return
        line = self.line_of(path)
        evidence = {"file": self.shown, "line": line}
        if "router" in entry:
            self.add("DL606", f"{self.shown}:{line}: proxy {context}: a router function picks the target at run "
                     "time", evidence)
        else:
            self.add("DL607", f"{self.shown}:{line}: proxy {context} has no target", evidence,
                     "Add \"target\": \"http://localhost:PORT\".")

    def target(self, target: Any, path: PathKey, context: str) -> None:
        line = self.line_of(path)
        key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "[")
        source = Source("file", self.shown, line, key)

        def problem(message: str, code: str = "DL607", hint: str = "") -> None:
            self.add(code, f"{self.shown}:{line}: proxy {context}: {message}",
                     {"file": self.shown, "line": line, "key": key}, hint)

        if isinstance(target, Opaque):
            at = f" at line {target.line}" if target.line != line else ""
            problem(f"the target is computed ({target}{at}); devlint cannot read it without running the file",
                    "DL606", "Write the target as a literal to have it checked.")
        elif isinstance(target, dict):  # http-proxy's {host, port, protocol}
            self.target_object(target, source, context, problem)
        elif not isinstance(target, str):
            problem(f"the target is {describe(target)}, not a URL")
        else:
            self.target_url(target.strip(), source, context, problem)

    def target_object(self, target: Dict[str, Any], source: Source, context: str,
                      problem: Callable[..., None]) -> None:
        host, port, protocol = target.get("host"), target.get("port"), target.get("protocol", "http:")
        for part in (host, port, protocol):
            if isinstance(part, Opaque):
                problem(f"the target's {part.text} is computed; devlint cannot read it", "DL606")
                return
        if not isinstance(host, str) or not host:
            problem("the target object has no host")
            return
        scheme = str(protocol).rstrip(":").lower() or "http"
        if port in (None, 0, "", False):  # http-proxy: `target.port || (https ? 443 : 80)`
            number, inferred = _SCHEME_PORTS.get(scheme, 80), True
        elif isinstance(port, int) and not isinstance(port, bool) and 0 < port <= 65535:
            number, inferred = port, False  # 4304.0 is read as 4304, as JavaScript does
        elif isinstance(port, str) and port.strip().isdigit() and 0 < int(port) <= 65535:
            number, inferred = int(port), False
        else:
            problem(f"the target's port {describe(port)} is not a port from 1 to 65535; every proxied request "
                    "fails (Node: ERR_SOCKET_BAD_PORT)", hint="Write the port as a whole number, e.g. 5000.")
            return
        shown_host = host if host.startswith("[") else bracketed(host)
        self.upstream(f"{scheme}://{shown_host}:{number}", host, number, source, context, scheme, inferred)

    def target_url(self, text: str, source: Source, context: str, problem: Callable[..., None]) -> None:
        if "://" not in text:
            problem(f"the target {text!r} has no scheme; http-proxy cannot connect to it",
                    hint=f"Write \"http://{text}\".")
            return
        try:
            parts = urlsplit(text)
            explicit = parts.port
        except ValueError:
            problem(f"the target {text!r} is not a valid URL (bad port)")
            return
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        if not host:
            problem(f"the target {text!r} has no host")
        elif scheme not in _SCHEME_PORTS:
            problem(f"the target {text!r} has the scheme {scheme}:, not http(s) or ws(s)")
        else:
            number = explicit if explicit is not None else _SCHEME_PORTS[scheme]
            self.upstream(text, host, number, source, context, scheme, explicit is None)

    def upstream(self, url: str, host: str, port: int, source: Source, context: str, scheme: str,
                 inferred: bool) -> None:
        self.out.upstreams.append(Upstream(url=url, host=host, port=port, source=source, context=context))
        self.out.routes.append({"context": context, "target": url, "host": host, "port": port, "scheme": scheme,
                                "port_inferred_from_scheme": inferred})
