"""Text devlint did not write reaches the terminal only with its control characters shown as
escapes: values from a real `.flaskenv`, a real process's name, in `check`, `config` and `who`;
JSON keeps the text as it is (json escapes it). devlint's own newlines and colours stay.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from devlint.model import Finding, Service, Severity
from devlint.report import Style, text_findings
from tests.listeners import free_port
from tests.runner import devlint

RAW = ("\x1b", "\x07", "\r", "\x9b", "\u202e")
HOSTILE_HOST = "\x1b]0;pwned\x07\x1b[31mevil\u202e"
SHOWN_HOST = "\\x1b]0;pwned\\x07\\x1b[31mevil\\u202e"


def _no_raw_controls(text: str) -> None:
    assert not any(c in text for c in RAW), repr(text)


@pytest.fixture
def flask_project(tmp_path: Path) -> Path:
    """A Flask app whose .flaskenv host carries OSC/CSI sequences, a BEL, a bidi override and
    a CR at the end of the line (as an editor on Windows leaves it)."""
    root = tmp_path / "api"
    (root / ".git").mkdir(parents=True)
    (root / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    (root / ".flaskenv").write_bytes(f"FLASK_APP=app\nFLASK_RUN_PORT={free_port()}\n"
                                     f"FLASK_RUN_HOST={HOSTILE_HOST}\r\n".encode())
    return root


def test_config_and_check_show_a_flaskenv_value_escaped(flask_project: Path) -> None:
    shown = devlint(flask_project, "config")
    assert shown.returncode == 0, shown.stderr
    _no_raw_controls(shown.stdout + shown.stderr)
    assert SHOWN_HOST in shown.stdout
    checked = devlint(flask_project, "check")
    assert checked.returncode in (0, 1), checked.stderr
    _no_raw_controls(checked.stdout + checked.stderr)
    assert "evil" in checked.stdout  # the value is reported, not dropped


def test_json_keeps_the_value_itself(flask_project: Path) -> None:
    shown = devlint(flask_project, "--format", "json", "config")
    assert shown.returncode == 0, shown.stderr
    hosts = [ep["host"] for svc in json.loads(shown.stdout)["services"] for ep in svc["endpoints"]]
    assert any(HOSTILE_HOST.strip() in host for host in hosts), hosts


def test_findings_are_escaped_at_the_rendering_edge_with_colours_kept() -> None:
    finding = Finding("DL999", Severity.ERROR, f"port held by {HOSTILE_HOST}\nnext", service="api",
                      hint=f"stop {HOSTILE_HOST}")
    style = Style("always", sys.stdout, {})
    text = text_findings([finding], style, [Service("api")])
    assert f"port held by {SHOWN_HOST}\\nnext" in text
    assert f"stop {SHOWN_HOST}" in text
    assert text.count("\n") == 2  # message, hint, summary: devlint's own newlines only
    assert text.count("\x1b[") == text.count("\x1b")  # the ESCs left are Style's colour codes (CSI)
    assert "\x1b]" not in text and "\x07" not in text


@pytest.fixture
def named_listener() -> Iterator[int]:
    """A process of this test that renames itself (prctl PR_SET_NAME, as any program may) to
    text with escapes, and listens on 127.0.0.1."""
    port = free_port()
    script = ("import ctypes, socket, sys; ctypes.CDLL(None).prctl(15, b'ev\\x1b[31mil\\x07', 0, 0, 0); "
              "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); "
              "print('ready', flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", script, str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.skipif(sys.platform != "linux", reason="prctl names a process on Linux")
def test_who_shows_a_process_name_escaped(tmp_path: Path, named_listener: int) -> None:
    result = devlint(tmp_path, "who", str(named_listener))
    assert result.returncode == 0, result.stderr
    _no_raw_controls(result.stdout)
    assert "ev\\x1b[31mil\\x07" in result.stdout
