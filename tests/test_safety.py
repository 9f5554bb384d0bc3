"""devlint runs in untrusted checkouts: it reads the project's files and never runs them.

A project is booby-trapped: every file that could be imported or executed (app.py, wsgi.py,
conftest.py, sitecustomize.py, usercustomize.py, a .pth file, look-alikes of devlint's own
dependencies and of standard-library modules, proxy.conf.js, node_modules/.bin/ng, npm
lifecycle scripts, shell substitutions in .env) leaves a marker when run. Every sub-command
of devlint is run there, through the console script and `python -m devlint`, from several
folders. Then no marker may exist.

`run` must still start the command it was given: the programs it would start (python3, npm,
flask, ...) are replaced by shims on PATH that only log their argv, so that the command runs
without running the project. The shims also catch devlint itself running any of them (or git)
while it plans: the log must hold exactly the commands that were asked for.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import List, Tuple

import pytest

from tests.listeners import free_port
from tests.runner import assert_clean_exit, base_env, devlint_argv, entry_points, run

TRAP = "import pathlib; pathlib.Path({marker!r}).write_text('ran {name}')\n"
SHELL_TRAP = "#!/bin/sh\necho ran > {marker!r}\n"
SHIMS = ("python", "python3", "flask", "npm", "npx", "node", "ng", "firebase", "git", "java")
PYTHON_LOOKALIKES = ("app.py", "wsgi.py", "conftest.py", "sitecustomize.py", "usercustomize.py", "psutil.py",
                     "pluggy.py", "colorama.py", "tomli.py", "tomllib.py", "devlint_plugins.py", "typing.py",
                     "argparse.py", "pathlib.py", "json.py", "re.py", "shlex.py", "signal.py", "socket.py",
                     "dataclasses.py", "enum.py", "marshal.py", "importlib_metadata.py", "backend/flask.py",
                     "backend/app.py", "backend/wsgi.py", "backend/conftest.py", "backend/dotenv.py")


def booby_trapped_project(root: Path, markers: Path) -> List[Path]:
    """A Flask + Angular project whose every executable-looking file leaves a marker when run."""
    port = free_port()
    for folder in (".git", "backend", "frontend/node_modules/.bin", "frontend/node_modules/@angular/cli"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    traps: List[Path] = []

    def marker(relative: str) -> str:
        path = markers / relative.replace("/", "_")
        traps.append(path)
        return str(path)

    def trap(relative: str, template: str = TRAP, executable: bool = False) -> None:
        target = root / relative
        target.write_text(template.format(marker=marker(relative), name=relative))
        if executable:
            target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    for name in PYTHON_LOOKALIKES:
        trap(name)
    trap("evil.pth", "import pathlib; pathlib.Path({marker!r}).write_text('pth')\n")
    trap("backend/evil.pth", "import pathlib; pathlib.Path({marker!r}).write_text('pth')\n")
    trap("frontend/node_modules/.bin/ng", SHELL_TRAP, executable=True)
    trap("frontend/proxy.conf.js",
         "require('fs').writeFileSync({marker!r}, 'ran');\nmodule.exports = {{'/api': {{target: "
         f"'http://localhost:{port}'}}}};\n")
    (root / "backend" / "app.py").write_text(
        (root / "backend" / "app.py").read_text()
        + f"from flask import Flask\napp = Flask(__name__)\nif __name__ == '__main__':\n    app.run(port={port})\n")
    (root / "backend" / ".flaskenv").write_text(f"FLASK_APP=app\nFLASK_RUN_PORT={port}\n")
    (root / "backend" / ".env").write_text(f"SECRET=$(touch {marker('env-substitution')})\n"
                                           f"OTHER=`touch {marker('env-backticks')}`\n")
    serve = {"builder": "@angular/build:dev-server", "options": {"port": free_port(), "proxyConfig": "proxy.conf.js"}}
    (root / "frontend" / "angular.json").write_text(json.dumps(
        {"version": 1, "projects": {"web": {"projectType": "application", "architect": {"serve": serve}}}}))
    (root / "frontend" / "package.json").write_text(json.dumps({"scripts": {
        "prestart": f"touch {marker('npm-prestart')}", "start": "ng serve",
        "postinstall": f"touch {marker('npm-postinstall')}"}}))
    (root / "frontend" / "node_modules" / "@angular" / "cli" / "package.json").write_text(json.dumps(
        {"name": "@angular/cli", "version": "17.0.0",
         "scripts": {"postinstall": f"touch {marker('angular-cli-postinstall')}"}}))
    (root / "devlint.toml").write_text(
        '[services.api]\nkind = "flask"\npath = "backend"\n\n[services.web]\nkind = "angular"\npath = "frontend"\n')
    return traps


def shims(folder: Path, log: Path) -> Path:
    """Programs that only append their name and argv to log (one line per run)."""
    folder.mkdir()
    for name in SHIMS:
        shim = folder / name
        shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "{name} $*" >> {str(log)!r}\n')
        shim.chmod(0o755)
    return folder


# (args, folders relative to the project root it runs from)
RUNS: List[Tuple[List[str], Tuple[str, ...]]] = [
    (["check"], (".", "backend", "frontend")),
    (["--format", "json", "check"], (".",)),
    (["check", "--strict", "api"], (".",)),
    (["config"], (".", "backend")),
    (["config", "--format", "json"], (".",)),
    (["who"], (".",)),
    (["who", "5000", "4200"], (".",)),
    (["plugins"], (".",)),
    (["probe"], (".",)),
    (["init", "--dry-run"], (".", "backend", "frontend")),
    (["run", "--", "true"], (".",)),
    (["run", "--", "python3", "app.py"], (".", "backend")),
    (["run", "--", "flask", "run"], ("backend",)),
    (["run", "--", "npm", "start"], ("frontend",)),
    (["run", "--", "npx", "ng", "serve"], ("frontend",)),
    (["run", "--service", "api", "--", "python", "-m", "flask", "run"], ("backend",)),
]


@pytest.mark.parametrize("entry", list(entry_points()))
def test_no_project_code_runs(tmp_path: Path, entry: str) -> None:
    root, markers = tmp_path / "project", tmp_path / "markers"
    root.mkdir()
    markers.mkdir()
    traps = booby_trapped_project(root, markers)
    log = tmp_path / "shims.log"
    bin_folder = shims(tmp_path / "shims", log)
    env = base_env(tmp_path, {"PYTHONDONTWRITEBYTECODE": "1"})
    env["PATH"] = f"{bin_folder}:{env['PATH']}"
    started: List[str] = []
    for args, folders in RUNS:
        for folder in folders:
            result = run(devlint_argv(*args, entry=entry), root / folder, env)
            assert_clean_exit(result, 0, 1)
            if args[0] == "run" and result.returncode == 0:
                command = args[args.index("--") + 1:]
                if command[0] in SHIMS:
                    started.append(" ".join(command))
    ran = [trap.name for trap in traps if trap.exists()]
    assert ran == [], f"project code was executed: {ran}"
    logged = log.read_text().splitlines() if log.exists() else []
    assert logged == started, "devlint ran a program while planning, or did not start the command"
    assert started, "no `run` got as far as starting its command: the test proves nothing"

