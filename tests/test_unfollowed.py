"""What devlint could not read or follow is said, never taken as absent (issue 11).

A package.json that is there but cannot be read (one byte that is not UTF-8, a FIFO, a file
over the size cap, broken JSON) and npm scripts nested deeper than devlint follows used to be
dropped silently: `devlint run -- npm start` then exec'd with nothing checked. Each case here
is a real file in a temporary project, run through the real `python -m devlint`; `npm` is a
stub script on PATH that only says it ran, so a test sees whether `run` started the command.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Callable, Dict, List

import pytest

from devlint.commands import MAX_DEPTH, expand
from devlint.model import Finding
from devlint.project import MAX_FILE_BYTES, Project
from tests.runner import devlint

STUB_SAYS = "npm-stub ran"


def _non_utf8(path: Path) -> None:
    path.write_bytes(b'{"name": "x",\n"description": "caf\xe9",\n"scripts": {"start": "ng serve"}}\n')


def _fifo(path: Path) -> None:
    os.mkfifo(path)  # opened by nobody: a reader that opened it would block for ever


def _too_large(path: Path) -> None:
    pad = "x" * (MAX_FILE_BYTES + 1)
    path.write_text(json.dumps({"scripts": {"start": "ng serve"}, "pad": pad}))


def _broken_json(path: Path) -> None:
    # a missing comma: Python 3.9-3.13 all place it on line 3 (3.13 reports a trailing comma
    # on the line of the comma, older releases on the line after)
    path.write_text('{"scripts": {\n  "start": "ng serve"\n  "test": "ng test"}}\n')


UNREADABLE: Dict[str, Callable[[Path], None]] = {
    "not UTF-8": _non_utf8, "a FIFO": _fifo, "over the size cap": _too_large, "not JSON": _broken_json,
}
SAYS = {"not UTF-8": "package.json:2 is not valid UTF-8 text", "a FIFO": "package.json is not a regular file",
        "over the size cap": f"devlint reads files up to {MAX_FILE_BYTES}",
        "not JSON": "package.json:3 is not valid JSON"}


@pytest.fixture
def stub_path(tmp_path: Path) -> str:
    """PATH with an `npm` and a `python` that only print STUB_SAYS: run's exec is seen, nothing
    of the project runs."""
    folder = tmp_path / "stub-bin"
    folder.mkdir()
    for name in ("npm", "python"):
        stub = folder / name
        stub.write_text(f"#!/bin/sh\necho '{STUB_SAYS}' \"$@\"\n")
        stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    return f"{folder}:/usr/bin:/bin"


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / ".git").mkdir()
    return root


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_run_npm_start_says_package_json_cannot_be_read_and_does_not_start(
        tmp_path: Path, stub_path: str, case: str) -> None:
    root = _project(tmp_path)
    UNREADABLE[case](root / "package.json")
    result = devlint(root, "run", "--", "npm", "start", env={"PATH": stub_path})
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    assert "DL301" in result.stderr and SAYS[case] in result.stderr, result.stderr
    assert "what they start is not checked" in result.stderr
    assert STUB_SAYS not in result.stdout  # not exec'd as if it had been checked


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_check_names_the_unreadable_package_json_of_a_configured_command(tmp_path: Path, case: str) -> None:
    root = _project(tmp_path)
    (root / "devlint.toml").write_text('[services.web]\nkind = "angular"\ncommand = "npm start"\n')
    UNREADABLE[case](root / "package.json")
    result = devlint(root, "check", "--format", "json")
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    found = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "DL301"]
    assert len(found) == 1, result.stdout
    assert found[0]["evidence"]["file"] == "package.json"
    assert SAYS[case] in found[0]["message"]


def test_run_with_a_readable_package_json_still_starts(tmp_path: Path, stub_path: str) -> None:
    """The control: the same project with a good package.json runs the command."""
    root = _project(tmp_path)
    (root / "package.json").write_text(json.dumps({"scripts": {"start": "node server.js"}}))
    result = devlint(root, "run", "--", "npm", "start", env={"PATH": stub_path})
    assert result.returncode == 0, result.stderr
    assert "DL301" not in result.stderr
    assert STUB_SAYS in result.stdout


def _chain(levels: int) -> Dict[str, str]:
    """s0 → s1 → … → s{levels}, the last one starting a server."""
    scripts = {f"s{i}": f"npm run s{i + 1}" for i in range(levels)}
    scripts[f"s{levels}"] = "ng serve --port 4311"
    return scripts


def test_scripts_nested_too_deep_are_said_not_dropped(tmp_path: Path, stub_path: str) -> None:
    root = _project(tmp_path)
    (root / "package.json").write_text(json.dumps({"scripts": _chain(12)}, indent=2))
    result = devlint(root, "run", "--format", "json", "--", "npm", "run", "s0", env={"PATH": stub_path})
    assert "Traceback" not in result.stderr
    report = json.loads(result.stderr[result.stderr.index("{"):result.stderr.rindex("}") + 1])
    deep = [f for f in report["findings"] if f["code"] == "DL302"]
    assert len(deep) == 1, report
    finding = deep[0]
    assert finding["severity"] == "warning"
    assert finding["evidence"]["depth"] > MAX_DEPTH
    script = finding["evidence"]["script"]
    assert f"scripts.{script}" in finding["message"] and "stopped following" in finding["message"]
    lines = (root / "package.json").read_text().splitlines()
    assert f'"{script}"' in lines[finding["evidence"]["line"] - 1]  # the line of that script
    assert STUB_SAYS in result.stdout  # a warning: the command still starts


def test_a_chain_within_the_limit_is_followed_to_the_server(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "package.json").write_text(json.dumps({"scripts": _chain(2)}))
    problems: List[Finding] = []
    commands = expand(["npm", "run", "s0"], Project(root, env={}), problems=problems)
    assert [c.argv for c in commands] == [("ng", "serve", "--port", "4311")]
    assert problems == []


def test_unreadable_package_json_is_reported_once_per_file(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _non_utf8(root / "package.json")
    problems: List[Finding] = []
    commands = expand(["sh", "-c", "npm run a && npm run b"], Project(root, env={}), problems=problems)
    assert commands == []
    assert [f.code for f in problems] == ["DL301"]
    assert problems[0].evidence == {"file": "package.json", "line": 2, "reason": "is not valid UTF-8 text"}


APP_SAYS = {"not UTF-8": "app.py:2 is not valid UTF-8 text", "a FIFO": "app.py is not a regular file",
            "over the size cap": f"devlint reads files up to {MAX_FILE_BYTES}"}


@pytest.mark.parametrize("case", list(APP_SAYS))
def test_run_python_app_py_that_cannot_be_read_is_said_not_started(
        tmp_path: Path, stub_path: str, case: str) -> None:
    """`python app.py` is a Flask service when app.py runs one; unreadable, devlint cannot tell."""
    root = _project(tmp_path)
    app = root / "app.py"
    if case == "not UTF-8":
        app.write_bytes(b"from flask import Flask\n# caf\xe9\napp = Flask(__name__)\napp.run(port=5123)\n")
    elif case == "a FIFO":
        os.mkfifo(app)
    else:
        app.write_text("from flask import Flask\napp = Flask(__name__)\n" + "#" * MAX_FILE_BYTES + "\napp.run()\n")
    result = devlint(root, "run", "--", "python", "app.py", env={"PATH": stub_path})
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    assert "DL400" in result.stderr and APP_SAYS[case] in result.stderr, result.stderr
    assert "its ports are not checked" in result.stderr
    assert STUB_SAYS not in result.stdout


def test_an_unreadable_firebaserc_is_a_finding_not_an_absence(tmp_path: Path) -> None:
    """firebase-tools cannot load it either; devlint used to drop it and go on."""
    from devlint_plugins.firebase import hooks as firebase

    from devlint.model import Command

    root = _project(tmp_path)
    (root / "firebase.json").write_text('{"emulators": {"auth": {"port": 9099}}}')
    os.mkfifo(root / ".firebaserc")
    services = firebase.devlint_command_services(Command(("firebase", "emulators:start"), "."),
                                                 Project(root, env={}))
    assert services is not None and len(services) == 1
    (finding,) = [f for f in services[0].diagnostics if f.code == "DL501"]
    assert finding.message == ".firebaserc is not a regular file" and finding.evidence == {"file": ".firebaserc"}
