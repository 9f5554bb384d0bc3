"""Zero-config: whether the project root holds a Flask app, without a devlint.toml.

Facts: Flask 3.1 ``src/flask/cli.py`` (``flask run`` loads ``.flaskenv``; without
``--app``/``FLASK_APP`` it looks for ``wsgi.py`` then ``app.py``). A ``.flaskenv`` that names
the app or sets ``FLASK_RUN_*``, or a ``wsgi.py``/``app.py`` importing flask, is a Flask
service started with ``flask run``.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Optional

from devlint.model import Command, Service, Source
from devlint.project import Project

from .cli import FlaskArgs
from .environment import read_dotenv
from .services import flask_run_service
from .source import analyse, parse_quietly


def detect(project: Project) -> Optional[Service]:
    """Zero-config: a .flaskenv naming the app or FLASK_RUN_*, or app.py/wsgi.py importing flask."""
    source = _flaskenv_source(project) or _import_source(project)
    if source is None:
        return None
    command = Command(("flask", "run"), cwd=".", text="flask run")
    found = flask_run_service(FlaskArgs(), command, project)
    return replace(found, source=source)


def _flaskenv_source(project: Project) -> Optional[Source]:
    """The first FLASK_APP / FLASK_RUN_* line of the root's .flaskenv."""
    full = os.path.join(project.root, ".flaskenv")
    if not project.exists(full):
        return None
    parsed = read_dotenv(project, full, project.getenv)
    keys = [k for k in parsed.values if k == "FLASK_APP" or k.startswith("FLASK_RUN_")]
    return Source("file", ".flaskenv", parsed.lines.get(keys[0]), keys[0]) if keys else None


def _import_source(project: Project) -> Optional[Source]:
    """The first flask import of wsgi.py or app.py at the root."""
    for name in ("wsgi.py", "app.py"):
        tree = parse_quietly(project, name, name)
        if tree is None:
            continue
        info = analyse(tree)
        if info.imports_flask:
            return Source("file", name, info.imports_flask, "import flask")
    return None
