"""What an app's Python source says, read with ``ast`` only (never imported or run).

Which ``app.run(...)`` / ``socketio.run(app, ...)`` calls there are and their arguments
(Flask 3.1 ``src/flask/app.py`` ``Flask.run(host, port, debug, load_dotenv)``,
Flask-SocketIO ``SocketIO.run(app, host, port)``), whether one is under
``if __name__ == "__main__"``, module constants, ``SERVER_NAME`` set in ``app.config``, a
``load_dotenv()`` call, how ``os`` / ``os.environ`` / ``os.getenv`` are named, and the first
flask import. Plus the small ``ast`` helpers the evaluator and the flask-cors reader share.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from devlint.project import FileProblem, Project

# ast.parse: bad syntax, NUL bytes (ValueError before 3.12), absurd nesting.
PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)

_APP_RUN_PARAMS = ("host", "port", "debug", "load_dotenv")
_SOCKETIO_RUN_PARAMS = ("app", "host", "port")
_FLASK_MODULES = ("flask", "flask_socketio")


@dataclass
class RunCall:
    """One ``receiver.run(...)`` call: its arguments by parameter name."""

    receiver: str
    line: int
    args: Dict[str, ast.expr]
    in_main: bool


@dataclass
class SourceInfo:
    runs: List[RunCall] = field(default_factory=list)
    constants: Dict[str, ast.expr] = field(default_factory=dict)
    server_name: Optional[Tuple[str, int]] = None
    imports_flask: Optional[int] = None  # the line of the first flask import
    load_dotenv: Optional[ast.Call] = None
    os_names: Dict[str, str] = field(default_factory=dict)  # local name → os / os.environ / os.getenv


@dataclass
class _Names:
    """Local names seen on the first walk: what is a Flask app, a SocketIO, a module."""

    flask_classes: set[str] = field(default_factory=lambda: {"Flask"})
    socketio_classes: set[str] = field(default_factory=lambda: {"SocketIO"})
    modules: set[str] = field(default_factory=set)
    apps: set[str] = field(default_factory=set)
    socketios: set[str] = field(default_factory=set)
    assigned: Dict[str, int] = field(default_factory=dict)  # name → how many assignments


def parse_quietly(project: Project, path: str, shown: str) -> Optional[ast.Module]:
    """The module at path, or None when it is absent, unreadable or not valid Python."""
    try:
        return parse_or_problem(project, path, shown)
    except FileProblem:
        return None


def parse_or_problem(project: Project, path: str, shown: str) -> Optional[ast.Module]:
    """The module at path, or None when it is absent or not valid Python.
    Raises FileProblem when it is there but cannot be read (Project.read_text)."""
    text = project.read_text(path)
    if text is None:
        return None
    try:
        return ast.parse(text, filename=shown)
    except PARSE_ERRORS:
        return None


def analyse(tree: ast.Module) -> SourceInfo:
    """What devlint needs from a module: app.run calls, constants, SERVER_NAME, imports."""
    info = SourceInfo()
    names = _Names()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            _on_import(node, info, names)
        elif isinstance(node, ast.ImportFrom):
            _on_import_from(node, info, names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            _on_assign(node, info, names)
    info.constants = {name: value for name, value in module_constants(tree).items()
                      if names.assigned.get(name, 0) <= 1}
    main_lines = _main_guard_lines(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            _on_call(node, info, names, main_lines)
    return info


def _on_import(node: ast.Import, info: SourceInfo, names: _Names) -> None:
    for alias in node.names:
        local = alias.asname or alias.name.split(".")[0]
        names.modules.add(local)
        if alias.name.split(".")[0] in _FLASK_MODULES:
            info.imports_flask = info.imports_flask or node.lineno
        if alias.name == "os":
            info.os_names[local] = "os"


def _on_import_from(node: ast.ImportFrom, info: SourceInfo, names: _Names) -> None:
    mod = node.module or ""
    if mod.split(".")[0] in _FLASK_MODULES:
        info.imports_flask = info.imports_flask or node.lineno
    for alias in node.names:
        local = alias.asname or alias.name
        if mod == "flask" and alias.name == "Flask":
            names.flask_classes.add(local)
        elif mod == "flask_socketio" and alias.name == "SocketIO":
            names.socketio_classes.add(local)
        elif mod == "os" and alias.name in ("environ", "getenv"):
            info.os_names[local] = f"os.{alias.name}"
        elif _looks_like_app(local):
            names.apps.add(local)


def _on_assign(node: ast.Assign | ast.AnnAssign, info: SourceInfo, names: _Names) -> None:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    value = node.value
    for target in targets:
        if isinstance(target, ast.Name):
            names.assigned[target.id] = names.assigned.get(target.id, 0) + 1
            if isinstance(value, ast.Call):
                cname = call_name(value.func)
                if cname in names.flask_classes or cname in ("Flask", "create_app", "make_app") \
                        or "app" in cname.lower():
                    names.apps.add(target.id)
                elif cname in names.socketio_classes:
                    names.socketios.add(target.id)
        if (
            isinstance(target, ast.Subscript)
            and is_config(target.value)
            and subscript_key(target) == "SERVER_NAME"
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            info.server_name = (value.value, node.lineno)


def _on_call(node: ast.Call, info: SourceInfo, names: _Names, main_lines: List[Tuple[int, int]]) -> None:
    func = node.func
    if call_name(func) == "load_dotenv" and info.load_dotenv is None:
        info.load_dotenv = node
    if isinstance(func, ast.Attribute) and func.attr == "update" and is_config(func.value):
        for kw in node.keywords:
            if kw.arg == "SERVER_NAME" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                info.server_name = (kw.value.value, node.lineno)
    run = _run_call(node, names, main_lines)
    if run is not None:
        info.runs.append(run)


def _run_call(node: ast.Call, names: _Names, main_lines: List[Tuple[int, int]]) -> Optional[RunCall]:
    """``app.run(...)`` or ``socketio.run(...)`` with its arguments by name, else None."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr == "run" and isinstance(func.value, ast.Name)):
        return None
    receiver = func.value.id
    if receiver in names.socketios:
        params: Sequence[str] = _SOCKETIO_RUN_PARAMS
    elif receiver in names.apps and receiver not in names.modules:
        params = _APP_RUN_PARAMS
    else:
        return None
    args: Dict[str, ast.expr] = {}
    for index, positional in enumerate(node.args):
        if index < len(params) and not isinstance(positional, ast.Starred):
            args[params[index]] = positional
    for kw in node.keywords:
        if kw.arg:
            args[kw.arg] = kw.value
    return RunCall(receiver, node.lineno, args, any(a <= node.lineno <= b for a, b in main_lines))


def module_constants(tree: ast.Module) -> Dict[str, ast.expr]:
    """``NAME = value`` statements at module level (the last one of a name wins)."""
    found: Dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            found[stmt.targets[0].id] = stmt.value
    return found


def _looks_like_app(name: str) -> bool:
    lowered = name.lower()
    return "app" in lowered or lowered in ("server", "application")


def _main_guard_lines(tree: ast.Module) -> List[Tuple[int, int]]:
    spans = []
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and any(
            isinstance(n, ast.Constant) and n.value == "__main__" for n in ast.walk(stmt.test)
        ):
            spans.append((stmt.lineno, getattr(stmt, "end_lineno", None) or 10**9))
    return spans


# -- ast helpers ---------------------------------------------------------------------------------


def call_name(func: ast.expr) -> str:
    """The called name: ``run`` for ``app.run``, ``CORS`` for ``CORS``; "" otherwise."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def dotted(expr: ast.expr) -> str:
    """``os.environ.get`` for that attribute chain of names; "" for anything else."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        inner = dotted(expr.value)
        return f"{inner}.{expr.attr}" if inner else ""
    return ""


def unparse(expr: ast.expr) -> str:
    """An expression's code for messages, cut to 80 characters."""
    try:
        text = ast.unparse(expr)
    except Exception:  # pragma: no cover - ast.unparse handles every expression node
        return "..."
    return text if len(text) <= 80 else text[:77] + "..."


def is_config(expr: ast.expr) -> bool:
    """Whether expr is ``<something>.config`` (a Flask app's config)."""
    return isinstance(expr, ast.Attribute) and expr.attr == "config"


def subscript_key(node: ast.Subscript) -> Optional[str]:
    """The literal string key of ``x["KEY"]``, else None."""
    key = node.slice
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        return key.value
    return None
