"""The Firebase plugin against real firebase.json files from public repositories.

Each /work/shared/corpus/firebase/NNN.json has a hand-written NNN.expected.json (see the
corpus README). What the plugin reads from the file (per emulator port/host as written,
ui.enabled, secondary port keys) must match the labels, and planning what
`firebase emulators:start` starts must never crash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from devlint_plugins.firebase import hooks as firebase
from devlint_plugins.firebase.checks import duplicate_ports
from devlint_plugins.firebase.cli import Launch
from devlint_plugins.firebase.config import parse
from devlint_plugins.firebase.emulators import EMULATORS, SERVICE_EMULATORS
from devlint_plugins.firebase.plan import plan

from devlint.model import Command, Service, Severity, Sourced
from devlint.project import Project

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "firebase"

# Files where the plugin and the label disagree on purpose, with the reason (file → fields).
# None at present: every label matched what the plugin extracts. Keep entries here, with
# the reason, rather than weakening the comparison, if a future label or reading differs.
KNOWN_DISAGREEMENTS: Dict[str, Dict[str, str]] = {}


def _cases() -> List[Tuple[Path, Path]]:
    if not CORPUS.is_dir():
        return []
    return [(path, path.with_name(path.stem + ".expected.json"))
            for path in sorted(CORPUS.glob("*.json")) if not path.name.endswith(".expected.json")]


CASES = _cases()


def _require_corpus() -> None:
    if not CASES:
        pytest.skip(f"corpus folder {CORPUS} is absent (only present in the devlint workplace)")


def test_corpus_is_present_and_labelled() -> None:
    _require_corpus()
    assert len(CASES) >= 30
    for source, label in CASES:
        assert label.is_file(), f"{source.name} has no {label.name}"


@pytest.mark.parametrize("source,label", CASES, ids=[s.name for s, _ in CASES])
def test_extraction_matches_label(source: Path, label: Path) -> None:
    expected: Dict[str, Any] = json.loads(label.read_text(encoding="utf-8"))
    cfg = parse(source.read_text(encoding="utf-8"), source.name)
    got = {
        "valid_json": cfg.readable,
        "emulators": cfg.as_written(),
        "ui_enabled": cfg.ui_enabled,
        "extra_ports": cfg.extra_ports(),
    }
    skip = KNOWN_DISAGREEMENTS.get(source.name, {})
    for key, value in got.items():
        if key in skip:
            continue
        assert value == expected[key], f"{source.name} {key}: label says {expected[key]!r}; {expected['notes']}"


@pytest.mark.parametrize("source,label", CASES, ids=[s.name for s, _ in CASES])
def test_planning_never_crashes_and_uses_the_written_ports(source: Path, label: Path, tmp_path: Path) -> None:
    """Through the real command hook, on a copy in a temp folder (the corpus stays read-only):
    every emulator configured with a numeric port is planned on exactly that port, with its
    line in firebase.json as the source."""
    expected: Dict[str, Any] = json.loads(label.read_text(encoding="utf-8"))
    (tmp_path / "firebase.json").write_bytes(source.read_bytes())
    project = Project(tmp_path, env={})
    services = firebase.devlint_command_services(
        Command(("firebase", "emulators:start", "--project", "demo-corpus")), project)
    assert services is not None and len(services) == 1
    service = services[0]
    by_name = {ep.name: ep for ep in service.endpoints}
    assert "hub" in by_name  # the hub always starts
    for name, written in expected["emulators"].items():
        if name not in by_name:
            continue  # not started (e.g. functions without a functions block): checked below
        endpoint = by_name[name]
        if isinstance(written["port"], int):
            assert endpoint.port == written["port"]
            assert endpoint.port_source.kind == "file" and endpoint.port_source.line
            assert endpoint.port_source.key == f"emulators.{name}.port"
        elif written["port"] is None:
            assert endpoint.port == EMULATORS[name][0]
            assert endpoint.port_source.kind == "default"
        if written["host"] is not None:
            assert endpoint.host == written["host"]
    ui_started = "ui" in by_name
    if expected["ui_enabled"] is False:
        assert not ui_started
    for key, port in expected["extra_ports"].items():
        _emulator, _, port_key = key.partition(".")
        secondary = {"websocketPort": "firestore.websocket", "postgresPort": "dataconnect.postgres"}[port_key]
        assert by_name[secondary].port == port, key
    # Every configured emulator that does not start is explained by a finding.
    for name in expected["emulators"]:
        if name in SERVICE_EMULATORS and name not in ("eventarc", "tasks") and name not in by_name:
            assert any(f.code == "DL505" and name in f.message for f in service.diagnostics), name
    assert all(f.severity is not Severity.ERROR for f in service.diagnostics), service.diagnostics


def test_corpus_collisions_found() -> None:
    """The labels point out hub on 4000 next to a default UI (033, 034, 035, 042): the
    plugin must report each as DL503, a warning because the UI moves by itself."""
    _require_corpus()
    flagged = []
    for source, _ in CASES:
        cfg = parse(source.read_text(encoding="utf-8"), source.name)
        planned = plan(cfg, Launch(project=Sourced("demo-x")), {})
        service = Service(name="firebase", kind="firebase", endpoints=tuple(planned.endpoints))
        findings = list(duplicate_ports(service))
        if findings:
            assert all(f.code == "DL503" for f in findings)
            flagged.append((source.name, sorted({p for f in findings for p in [f.evidence["port"]]}),
                            {f.severity for f in findings}))
    names = {name for name, _, _ in flagged}
    assert {"033.json", "034.json", "035.json", "042.json"} <= names, flagged
    for name, ports, severities in flagged:
        if name in ("033.json", "034.json", "035.json", "042.json"):
            assert ports == [4000] and severities == {Severity.WARNING}, (name, ports, severities)
