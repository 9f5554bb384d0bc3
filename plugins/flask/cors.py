"""The origins flask-cors lets in, read statically from the app's files.

Facts: flask-cors 4/5 (``flask_cors/extension.py`` ``CORS(app, origins=, resources=)`` and
``init_app``, ``flask_cors/decorator.py`` ``@cross_origin(origins=)``, the ``CORS_ORIGINS``
config key; ``origins`` defaults to ``"*"``, and a ``resources`` dict gives per-path
options), and Flask's app discovery (``src/flask/cli.py`` ``find_best_app``: ``--app``
names a module, ``module:factory`` or a path; without it ``wsgi.py`` then ``app.py``).
The app's file and the local modules it imports are read with ``ast``; anything not
literal makes the origins unknown (DL408), so no CORS check runs on a guess.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from devlint.model import DEFAULT, Finding, Source
from devlint.project import FileProblem, Project

from .rules import RULES
from .source import PARSE_ERRORS, call_name, dotted, is_config, module_constants, subscript_key, unparse

CorsResult = Tuple[Optional[Tuple[str, ...]], Source, List[Finding]]
_MAX_FILES = 12


def app_files(project: Project, cwd: str, app: Optional[str]) -> List[str]:
    """The files FLASK_APP / --app names, or Flask's defaults wsgi.py and app.py."""
    import re

    base = os.path.join(project.root, cwd)
    if not app:
        return [os.path.join(base, name) for name in ("wsgi.py", "app.py")]
    target = re.split(r":(?![\\/])", app, maxsplit=1)[0]
    if target.endswith(".py"):
        return [os.path.join(base, target)]
    if target in (".", ""):
        return [os.path.join(base, "__init__.py")]
    rel = target.replace(".", "/")
    return [os.path.join(base, rel + ".py"), os.path.join(base, rel, "__init__.py")]


def cors_for_app(project: Project, cwd: str, app: Optional[str], service: str) -> CorsResult:
    """The flask-cors origins of the app `flask run` loads (see cors_from_files)."""
    return cors_from_files(project, app_files(project, cwd, app), service)


def cors_from_files(project: Project, candidates: Sequence[str], service: str) -> CorsResult:
    """flask-cors origins of the app: the first of candidates that exists, and the local
    modules it imports. (origins or None when unknown, where they are set, findings)."""
    findings: List[Finding] = []
    trees = _app_trees(project, candidates, service, findings)
    collector = _CorsCollector()
    for tree, _ in trees:  # `cors = CORS()` may live in another module than init_app
        collector.prepare(tree)
    for tree, shown in trees:
        collector.visit(tree, shown)
    origins, source, unreadable = collector.result()
    if unreadable is not None:
        shown, line, text = unreadable
        findings.append(RULES(
            "DL408", f"{service}: flask-cors origins at {shown}:{line} (`{text}`) cannot be read "
                     "without running the code; devlint does not check CORS for this service",
            service=service,
            hint="Use a literal list of origins to let devlint check them.",
            evidence={"file": shown, "line": line},
        ))
    return origins, source, findings


def _app_trees(project: Project, candidates: Sequence[str], service: str,
               findings: List[Finding]) -> List[Tuple[ast.Module, str]]:
    """The parsed app file and the local modules it imports (one level), with their shown paths."""
    queue: List[Tuple[str, int]] = []
    for path in candidates:
        if project.exists(path):
            queue.append((path, 0))
            break
    seen: set[str] = set()
    trees: List[Tuple[ast.Module, str]] = []
    while queue and len(seen) < _MAX_FILES:
        path, depth = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        shown = project.display(Path(path))
        tree = _parse(project, path, shown, service, findings)
        if tree is None:
            continue
        trees.append((tree, shown))
        if depth == 0:
            for module, level in _local_imports(tree):
                found = _module_file(project, os.path.dirname(path), module, level)
                if found:
                    queue.append((found, 1))
    return trees


def _parse(project: Project, path: str, shown: str, service: str, findings: List[Finding]) -> Optional[ast.Module]:
    """One module, or None with a finding (DL400 unreadable, DL404 not valid Python)."""
    try:
        text = project.read_text(path)
    except FileProblem as problem:
        findings.append(RULES(
            "DL400", f"{service}: {problem.path} {problem.reason}",
            service=service,
            hint="Python cannot import it either (without a coding declaration); save it as UTF-8.",
            evidence={"file": problem.path},
        ))
        return None
    if text is None:
        return None
    try:
        return ast.parse(text, filename=shown)
    except PARSE_ERRORS as exc:
        line = getattr(exc, "lineno", None)
        findings.append(RULES(
            "DL404", f"{service}: {shown}{f':{line}' if line else ''} cannot be parsed ({type(exc).__name__}: "
                     f"{getattr(exc, 'msg', exc)}); devlint skipped its CORS settings",
            service=service,
            evidence={"file": shown, "line": line},
        ))
        return None


def _local_imports(tree: ast.Module) -> List[Tuple[str, int]]:
    found: List[Tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.module:
                found.append((node.module, node.level))
            elif node.level:
                found.extend((alias.name, node.level) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, 0) for alias in node.names)
    return found


def _module_file(project: Project, folder: str, module: str, level: int) -> Optional[str]:
    base = folder
    for _ in range(max(level - 1, 0)):
        base = os.path.dirname(base)
    rel = module.replace(".", "/")
    for candidate in (os.path.join(base, rel + ".py"), os.path.join(base, rel, "__init__.py")):
        if project.exists(candidate):
            return candidate
    return None


def _is_named(expr: ast.expr, names: set[str], modules: set[str], attr: str) -> bool:
    name = dotted(expr)
    return name in names or any(name == f"{m}.{attr}" for m in modules)


def _flask_cors_names(tree: ast.Module) -> Tuple[set[str], set[str], set[str], bool]:
    """The local names of CORS and cross_origin, of the flask_cors module, and whether the
    module imports flask_cors at all."""
    cors_names, cross_names, modules = {"CORS"}, {"cross_origin"}, {"flask_cors"}
    uses = False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "flask_cors":
            uses = True
            for alias in node.names:
                if alias.name == "CORS":
                    cors_names.add(alias.asname or "CORS")
                elif alias.name == "cross_origin":
                    cross_names.add(alias.asname or "cross_origin")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "flask_cors":
                    uses = True
                    modules.add(alias.asname or "flask_cors")
    return cors_names, cross_names, modules, uses


class _CorsCollector:
    """CORS(app, ...), cors.init_app(app, ...), @cross_origin(...) with literal options."""

    def __init__(self) -> None:
        self.origins: List[str] = []
        self.source: Optional[Source] = None
        self.unreadable: Optional[Tuple[str, int, str]] = None
        self.pending: Dict[str, Dict[str, ast.expr]] = {}  # cors = CORS(origins=...) → init_app later
        self.config_origins: Optional[ast.expr] = None
        self.applied = False

    def prepare(self, tree: ast.Module) -> None:
        """First pass: CORS() objects configured later with init_app, CORS_ORIGINS config."""
        cors_names, _, modules, uses = _flask_cors_names(tree)
        for node in ast.walk(tree):
            if (
                uses
                and isinstance(node, (ast.Assign, ast.AnnAssign))
                and isinstance(node.value, ast.Call)
                and _is_named(node.value.func, cors_names, modules, "CORS")
            ):
                call = node.value
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if not call.args and not any(kw.arg == "app" for kw in call.keywords):
                    for target in targets:
                        if isinstance(target, ast.Name):
                            self.pending[target.id] = {kw.arg: kw.value for kw in call.keywords if kw.arg}
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Subscript)
                and is_config(node.targets[0].value)
                and subscript_key(node.targets[0]) == "CORS_ORIGINS"
            ):
                self.config_origins = node.value

    def visit(self, tree: ast.Module, shown: str) -> None:
        """Second pass: where CORS is applied to the app, and with which origins."""
        cors_names, cross_names, modules, uses = _flask_cors_names(tree)
        if not uses and not self.pending:
            return
        consts = module_constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for deco in node.decorator_list:
                    if uses and _is_named(deco, cross_names, modules, "cross_origin"):
                        self.add({}, shown, deco.lineno, consts, "@cross_origin")
            if not isinstance(node, ast.Call):
                continue
            if uses and _is_named(node.func, cors_names, modules, "CORS") and (
                    node.args or any(kw.arg == "app" for kw in node.keywords)):
                self.call(node, {}, shown, consts, "CORS")
            elif (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "init_app"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in self.pending
            ):
                self.call(node, self.pending[node.func.value.id], shown, consts, "init_app")
            elif uses and _is_named(node.func, cross_names, modules, "cross_origin"):
                self.call(node, {}, shown, consts, "cross_origin")

    def call(self, node: ast.Call, defaults: Mapping[str, ast.expr], shown: str,
             consts: Mapping[str, ast.expr], label: str) -> None:
        """A call that applies CORS: its keyword options over defaults (init_app's CORS())."""
        options: Dict[str, ast.expr] = dict(defaults)
        for kw in node.keywords:
            if kw.arg is None:
                self._unreadable(shown, node.lineno, "**" + unparse(kw.value))
                return
            options[kw.arg] = kw.value
        self.add(options, shown, node.lineno, consts, label)

    def add(self, options: Mapping[str, ast.expr], shown: str, line: int,
            consts: Mapping[str, ast.expr], label: str) -> None:
        """The origins one application of CORS lets in (per resource where resources= is a dict)."""
        self.applied = True
        if self.source is None:
            self.source = Source("file", shown, line, f"{label}(origins=)")
        default = options.get("origins", self.config_origins)
        resources = options.get("resources")
        if isinstance(resources, ast.Dict):
            for value in resources.values:
                if not isinstance(value, ast.Dict):
                    self._unreadable(shown, line, unparse(value))
                    return
                keys = [k.value if isinstance(k, ast.Constant) else None for k in value.keys]
                if None in keys:
                    self._unreadable(shown, line, unparse(value))
                    return
                origins = value.values[keys.index("origins")] if "origins" in keys else default
                self._origins(origins, shown, line, consts)
            return
        if resources is not None and not isinstance(resources, (ast.Constant, ast.List, ast.Tuple)):
            self._unreadable(shown, line, unparse(resources))
            return
        self._origins(default, shown, line, consts)

    def _origins(self, expr: Optional[ast.expr], shown: str, line: int, consts: Mapping[str, ast.expr]) -> None:
        if expr is None:
            self._extend(["*"])
            return
        seen = 0
        while isinstance(expr, ast.Name) and expr.id in consts and seen < 5:
            expr, seen = consts[expr.id], seen + 1
        items = list(expr.elts) if isinstance(expr, (ast.List, ast.Tuple, ast.Set)) else [expr]
        found: List[str] = []
        for item in items:
            if isinstance(item, ast.Call) and call_name(item.func) == "compile" and item.args:
                item = item.args[0]
            if isinstance(item, ast.Constant) and isinstance(item.value, str):
                found.append(item.value)
            else:
                self._unreadable(shown, getattr(item, "lineno", line), unparse(expr))
                return
        self._extend(found)

    def _extend(self, origins: Iterable[str]) -> None:
        for origin in origins:
            if origin not in self.origins:
                self.origins.append(origin)

    def _unreadable(self, shown: str, line: int, text: str) -> None:
        if self.unreadable is None:
            self.unreadable = (shown, line, text)

    def result(self) -> Tuple[Optional[Tuple[str, ...]], Source, Optional[Tuple[str, int, str]]]:
        """(origins, where they are set, the first unreadable spot); origins None when unknown
        or when CORS is not applied at all."""
        if self.unreadable is not None or not self.applied:
            return None, DEFAULT, self.unreadable
        return tuple(self.origins), self.source or DEFAULT, None
