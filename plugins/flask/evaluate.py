"""The literal values of ``app.run(...)`` arguments, worked out statically from the source.

Follows a few idioms only: literals, module constants, ``int()`` / ``str()``, ``or``,
``os.getenv`` / ``os.environ.get`` / ``os.environ[...]``. Environment reads see the process
environment, and, for a module that calls python-dotenv's ``load_dotenv()``, that file
(found from the script's folder like ``find_dotenv()``, honouring ``override=``), since the
arguments are evaluated before ``Flask.run`` loads ``.flaskenv`` itself (Flask 3.1
``src/flask/app.py``). Anything else is not static: a DL404 finding, and the default.
"""

from __future__ import annotations

import ast
import os
from typing import Any, List, Optional

from devlint.model import Finding, Source, Sourced, escape_braces
from devlint.project import Project
from devlint.readers import dotenv

from .environment import Entries, FlaskEnv
from .rules import RULES
from .source import SourceInfo, call_name, dotted, subscript_key, unparse
from .values import DEFAULT_HOST, DEFAULT_PORT

_MAX_DEPTH = 8


class _NotStatic(Exception):
    pass


class Evaluator:
    """Values of one module's expressions. shown: the module's path in messages; script_dir:
    its folder (where ``load_dotenv()`` starts looking); cwd: the command's folder."""

    def __init__(
        self,
        info: SourceInfo,
        project: Project,
        env: FlaskEnv,
        shown: str,
        script_dir: str,
        cwd: str,
        service: str,
    ) -> None:
        self.info, self.project, self.env, self.shown = info, project, env, shown
        self.script_dir, self.cwd, self.service = script_dir, cwd, service
        self._dotenv: Optional[Entries] = None
        self._override = False

    def value(
        self, expr: ast.expr, label: str, line: int, findings: List[Finding], what: str
    ) -> Optional[Sourced[str]]:
        """The value of expr as text ("None" for None), or None with a DL404 finding when it is
        not static. label: ``app.run(port=)``; what: ``port``, ``host`` or ``debug``."""
        fix = f"{escape_braces(self.shown)}:{line}: {escape_braces(label).replace('=)', '={port})')}"
        try:
            found = self._eval(expr, 0)
        except _NotStatic:
            default = str(DEFAULT_PORT) if what == "port" else DEFAULT_HOST if what == "host" else "off"
            findings.append(RULES(
                "DL404", f"{self.service}: {self.shown}:{getattr(expr, 'lineno', line)}: {label} is "
                         f"`{unparse(expr)}`, which devlint cannot read without running the code; "
                         f"it assumed the default ({default})",
                service=self.service,
                hint=f"Write a literal {what} there, or set {what} in devlint.toml.",
                evidence={"file": self.shown, "line": line, "expression": unparse(expr)},
            ))
            return None
        if found.value is None:
            return Sourced("None", found.source, fix)
        source = found.source
        if source.kind == "default":
            source = Source("file", self.shown, getattr(expr, "lineno", line), label)
        return Sourced(str(found.value), source, found.fix or fix)

    def _eval(self, expr: ast.expr, depth: int) -> Sourced[Any]:
        if depth > _MAX_DEPTH:
            raise _NotStatic
        if isinstance(expr, ast.Constant) and isinstance(expr.value, (int, str, bool, type(None))):
            return Sourced(expr.value)
        if isinstance(expr, ast.Name):
            if expr.id in self.info.constants:
                return self._eval(self.info.constants[expr.id], depth + 1)
            raise _NotStatic
        if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or):
            last: Sourced[Any] = Sourced(None)
            for part in expr.values:
                last = self._eval(part, depth + 1)
                if last.value:
                    return last
            return last
        if isinstance(expr, ast.Call):
            return self._call(expr, depth)
        if isinstance(expr, ast.Subscript) and self._is_environ(dotted(expr.value)):
            key = subscript_key(expr)
            found = self._environ(key) if key is not None else None
            if found is not None:
                return found
        raise _NotStatic

    def _call(self, expr: ast.Call, depth: int) -> Sourced[Any]:
        """int(x), str(x), os.getenv(KEY[, default]) and its spellings."""
        name = dotted(expr.func)
        if name in ("int", "str") and len(expr.args) == 1 and not expr.keywords:
            found = self._eval(expr.args[0], depth + 1)
            try:
                return Sourced(int(found.value) if name == "int" else str(found.value), found.source, found.fix)
            except (TypeError, ValueError):
                raise _NotStatic from None
        if self._is_env_get(name) and expr.args and not expr.keywords:
            key = self._eval(expr.args[0], depth + 1).value
            if not isinstance(key, str):
                raise _NotStatic
            found_env = self._environ(key)
            if found_env is not None:
                return found_env
            if len(expr.args) > 1:
                return self._eval(expr.args[1], depth + 1)
            return Sourced(None)
        raise _NotStatic

    def _is_environ(self, name: str) -> bool:
        return any(
            name == local + suffix
            for local, kind in self.info.os_names.items()
            for suffix in ((".environ",) if kind == "os" else ("",))
            if kind in ("os", "os.environ")
        )

    def _is_env_get(self, name: str) -> bool:
        for local, kind in self.info.os_names.items():
            if kind == "os" and name in (f"{local}.getenv", f"{local}.environ.get"):
                return True
            if kind == "os.environ" and name == f"{local}.get":
                return True
            if kind == "os.getenv" and name == local:
                return True
        return False

    def _environ(self, key: str) -> Optional[Sourced[Any]]:
        loaded = self._load_dotenv()
        entry = loaded.get(key)
        if self._override and entry is not None and entry.value is not None:
            return entry
        found = self.env.process(key)
        if found is not None:
            return found
        if entry is not None and entry.value is not None:
            return entry
        return None

    def _load_dotenv(self) -> Entries:
        if self._dotenv is not None:
            return self._dotenv
        self._dotenv = {}
        call = self.info.load_dotenv
        if call is None:
            return self._dotenv
        for kw in call.keywords:
            if kw.arg == "override" and isinstance(kw.value, ast.Constant):
                self._override = bool(kw.value.value)
        target = (
            call.args[0]
            if call.args
            else next((kw.value for kw in call.keywords if kw.arg == "dotenv_path"), None)
        )
        path: Optional[str] = None
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            candidate = os.path.join(self.project.root, self.cwd, target.value)
            path = candidate if self.project.exists(candidate) else None
        elif target is None or (isinstance(target, ast.Call) and call_name(target.func) == "find_dotenv"):
            path = dotenv.find_dotenv(self.project, ".env", self.script_dir)
        if path is not None:
            self._dotenv = self.env.read(path)
        return self._dotenv
