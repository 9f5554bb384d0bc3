"""Real .flaskenv files from public repositories, read in place, against their hand labels.

For each file: the dotenv values devlint reads equal the labelled ones (quotes stripped,
commented keys absent), equal what python-dotenv itself returns (when installed), and
`flask run` resolved in an empty environment gives the labelled effective port, host and
scheme. The file is handed to Flask's resolution as `flask run -e <file>` (which Flask loads
like .flaskenv, with higher precedence), so it is read where it is and never copied.

Label disagreements: none. Every label was checked against the file and python-dotenv.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from devlint_plugins.flask.services import service_for_command

from devlint.model import Command
from devlint.project import Project
from devlint.readers import dotenv as _dotenv

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "flaskenv"
LABELLED = ("FLASK_APP", "FLASK_RUN_PORT", "FLASK_RUN_HOST", "FLASK_DEBUG", "FLASK_ENV",
            "FLASK_RUN_CERT", "FLASK_RUN_KEY")
# Labels this test disagrees with, with the reason: (file, key) → reason. None so far.
DISAGREE: Dict[Tuple[str, str], str] = {}


def _cases() -> List[Any]:
    if not CORPUS.is_dir():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=f"corpus not found at {CORPUS}"))]
    cases = []
    for expected in sorted(CORPUS.glob("*.expected.json")):
        stem = expected.name[: -len(".expected.json")]
        files = [p for p in CORPUS.iterdir() if p.name.startswith(stem + ".") and p != expected]
        assert len(files) == 1, f"{expected.name}: expected one data file, found {files}"
        cases.append(pytest.param(files[0], expected, id=files[0].name))
    return cases


def test_corpus_is_present_and_complete() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    data = [p for p in CORPUS.iterdir() if not p.name.endswith(".expected.json")]
    assert len(data) >= 15 and len(_cases()) == len(data)


@pytest.mark.parametrize(("path", "expected_path"), _cases())
def test_dotenv_values_match_labels(path: Path, expected_path: Path) -> None:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    values, lines, skipped = _dotenv.values(path.read_text(encoding="utf-8"), lambda name: None)
    assert skipped == ()
    for key in LABELLED:
        if (path.name, key) in DISAGREE:
            continue
        assert values.get(key) == expected[key], f"{path.name}: {key}"
        if expected[key] is not None:
            assert lines[key] >= 1
    for key, value in expected["other_relevant_vars"].items():
        assert values.get(key) == value, f"{path.name}: {key}"


@pytest.mark.parametrize(("path", "expected_path"), _cases())
def test_dotenv_values_match_python_dotenv(path: Path, expected_path: Path) -> None:
    dotenv = pytest.importorskip("dotenv")
    ours, _, _ = _dotenv.values(path.read_text(encoding="utf-8"), lambda name: None)
    theirs = dict(dotenv.dotenv_values(path, encoding="utf-8"))
    assert ours == theirs


@pytest.mark.parametrize(("path", "expected_path"), _cases())
def test_effective_flask_run_matches_label(path: Path, expected_path: Path, tmp_path: Path) -> None:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    effective = expected["effective_flask_run"]
    project = Project(tmp_path, env={})
    if expected["auto_loaded_by_flask_cli"]:
        assert path.suffix == ".flaskenv"
        # Loaded as --env-file: same parser, same "existing environment wins", read in place.
        argv: Tuple[str, ...] = ("flask", "-e", str(path), "run")
    else:
        # flask run never loads this file (only .env and .flaskenv are auto-loaded).
        assert path.suffix != ".flaskenv"
        argv = ("flask", "run")
    service = service_for_command(Command(argv, text=" ".join(argv)), project)
    assert service is not None
    assert service.diagnostics == ()
    (endpoint,) = service.endpoints
    assert (endpoint.port, endpoint.host, service.details["scheme"]) == (
        effective["port"], effective["host"], effective["scheme"])
    if expected["auto_loaded_by_flask_cli"] and expected["FLASK_RUN_PORT"] is not None:
        assert endpoint.port_source.kind == "file" and endpoint.port_source.key == "FLASK_RUN_PORT"
        assert endpoint.port_source.line is not None
    else:
        assert endpoint.port_source.kind == "default"
    if expected["auto_loaded_by_flask_cli"] and expected["FLASK_APP"] is not None:
        assert service.details["app"] == expected["FLASK_APP"]
