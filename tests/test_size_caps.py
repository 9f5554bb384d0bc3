"""Inputs whose parsing cost grows faster than their size, or that devlint parses rule by
rule in Python, are refused before they are parsed, with a message naming the file: a
dotted TOML key thousands of parts deep (tomllib's time and memory grow with its square),
a dotenv file or a JavaScript proxy config over MAX_PARSED_BYTES. Real files, the real CLI;
the subprocess timeout (runner.run, 60 s) is the only guard against a hang, no timing is
asserted."""

from __future__ import annotations

import json
from pathlib import Path

from devlint.config import MAX_KEY_PARTS
from devlint.project import MAX_PARSED_BYTES
from tests.runner import devlint


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / ".git").mkdir()
    return root


def test_a_key_nested_deeper_than_devlint_reads_is_a_config_error(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "devlint.toml").write_text("[services.api]\nport = 5000\n" + "a" + ".a" * 200_000 + " = 1\n")
    result = devlint(root, "check")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"devlint.toml:3: a key on this line has more than {MAX_KEY_PARTS} dotted parts" in result.stderr


def test_dots_inside_strings_do_not_count(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "devlint.toml").write_text('[services.api]\nport = 5000\ncommand = "echo ' + "." * 5000 + '"\n')
    result = devlint(root, "config")
    assert result.returncode == 0, result.stderr
    assert "api" in result.stdout


def test_a_dotenv_file_too_large_to_parse_is_an_error_never_a_clear(tmp_path: Path) -> None:
    """Its FLASK_RUN_PORT is unknown: devlint must not check the default port and call it
    clear, and `run` must not start the server as if checked."""
    root = _project(tmp_path)
    (root / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    # an unterminated quote: python-dotenv (and a line-by-line port of it) reads every line after it
    (root / ".flaskenv").write_text("FLASK_RUN_PORT=5801\nA='" + "x\n" * MAX_PARSED_BYTES)
    result = devlint(root, "--format", "json", "check")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "DL400"]
    assert finding["severity"] == "error" and finding["evidence"]["file"] == ".flaskenv"
    assert f"devlint reads files up to {MAX_PARSED_BYTES}" in finding["message"]
    assert "not known" in finding["message"]
    run = devlint(root, "run", "--", "flask", "run")
    assert run.returncode == 1 and "not starting" in run.stderr


def test_a_javascript_proxy_config_too_large_to_parse_is_named(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "angular.json").write_text(json.dumps({"version": 1, "projects": {"web": {
        "projectType": "application", "root": "", "architect": {"serve": {
            "builder": "@angular/build:dev-server", "options": {"proxyConfig": "proxy.conf.js"}}}}}}))
    (root / "proxy.conf.js").write_text("module.exports = " + "[" * MAX_PARSED_BYTES + "]" * MAX_PARSED_BYTES)
    result = devlint(root, "--format", "json", "check")
    assert "Traceback" not in result.stderr, result.stderr
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "DL605"]
    assert finding["evidence"]["file"] == "proxy.conf.js"
    assert f"devlint reads files up to {MAX_PARSED_BYTES}" in finding["message"]
