"""devlint runs in untrusted checkouts: it reads the project's files and never runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from tests.listeners import free_port

TRAP = "import pathlib; pathlib.Path({marker!r}).write_text('ran {name}')\n"


def booby_trapped_project(root: Path, markers: Path) -> List[Path]:
    """A project whose every executable-looking file leaves a marker when run."""
    port = free_port()
    (root / ".git").mkdir()
    (root / "backend").mkdir()
    (root / "frontend").mkdir()
    traps: List[Path] = []

    def trap(relative: str, template: str = TRAP) -> None:
        marker = markers / relative.replace("/", "_")
        traps.append(marker)
        (root / relative).write_text(template.format(marker=str(marker), name=relative))

    for name in ("backend/app.py", "backend/wsgi.py", "app.py", "conftest.py", "sitecustomize.py",
                 "usercustomize.py", "psutil.py", "pluggy.py", "colorama.py", "tomli.py", "devlint_plugins.py",
                 "backend/flask.py", "backend/conftest.py"):
        trap(name)
    trap("backend/evil.pth", "import pathlib; pathlib.Path({marker!r}).write_text('pth')\n")
    trap("frontend/proxy.conf.js",
         "require('fs').writeFileSync({marker!r}, 'ran');\nmodule.exports = {{'/api': {{target: "
         f"'http://localhost:{port}'}}}};\n")
    (root / "backend" / "app.py").write_text(
        (root / "backend" / "app.py").read_text()
        + f"from flask import Flask\napp = Flask(__name__)\nif __name__ == '__main__':\n    app.run(port={port})\n")
    (root / "backend" / ".flaskenv").write_text(f"FLASK_APP=app\nFLASK_RUN_PORT={port}\n")
    (root / "frontend" / "angular.json").write_text(
        '{"version": 1, "projects": {"web": {"projectType": "application", "architect": {"serve": {'
        '"builder": "@angular/build:dev-server", "options": {"port": %d, "proxyConfig": "proxy.conf.js"}}}}}}'
        % free_port())
    (root / "frontend" / "package.json").write_text('{"scripts": {"start": "ng serve"}}')
    (root / "devlint.toml").write_text(
        '[services.api]\nkind = "flask"\npath = "backend"\n\n[services.web]\nkind = "angular"\npath = "frontend"\n')
    return traps


def devlint_commands() -> List[List[str]]:
    commands = [[sys.executable, "-m", "devlint"]]
    script = shutil.which("devlint", path=os.path.dirname(sys.executable))
    if script:
        commands.append([script])
    return commands


@pytest.mark.parametrize("entry", devlint_commands(), ids=lambda c: "python -m devlint" if len(c) > 1 else "devlint")
def test_no_project_code_runs(tmp_path: Path, entry: List[str]) -> None:
    root, markers = tmp_path / "project", tmp_path / "markers"
    root.mkdir()
    markers.mkdir()
    traps = booby_trapped_project(root, markers)
    env = dict(os.environ, DEVLINT_NO_CACHE="1", PYTHONDONTWRITEBYTECODE="1")
    runs = [["check"], ["config"], ["init", "--dry-run"], ["run", "--", "true"],
            ["run", "--", "python3", "app.py"], ["run", "--", "npm", "start"]]
    for args in runs:
        for cwd in (root, root / "backend", root / "frontend"):
            result = subprocess.run([*entry, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
            assert "Traceback" not in result.stderr, result.stderr
            assert result.returncode in (0, 1), (args, cwd, result.stderr)
    ran = [trap.name for trap in traps if trap.exists()]
    assert ran == [], f"project code was executed: {ran}"
