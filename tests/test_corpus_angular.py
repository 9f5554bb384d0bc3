"""The Angular plugin (and, for package.json, every plugin through commands.py) against real files
from public repositories: /work/shared/corpus/{angular,proxy,packagejson}/NNN.json, each with a
hand-written NNN.expected.json (see the corpus README).

Every file is read without a crash; what devlint extracts must match the labels, except the few
listed in KNOWN_DISAGREEMENTS with the reason. The corpus is read in place, and copied into a
temp folder only where a command needs it under its real name.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from devlint_plugins.angular import hooks as plugin
from devlint_plugins.angular import proxy as ng_proxy
from devlint_plugins.angular import target as ng_target
from devlint_plugins.angular import workspace as ng_workspace
from devlint_plugins.angular.cli import NG_DEFAULT

from devlint.commands import scripts_commands
from devlint.manager import PluginHost
from devlint.model import Command, Service, Severity, Sourced
from devlint.project import Project

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

# Where devlint and a label differ on purpose: file → {field: reason}.
KNOWN_DISAGREEMENTS: Dict[str, Dict[str, str]] = {
    "angular/008.json": {
        "effective_ng_serve": "LEGACY .angular-cli.json (Angular CLI 1.x): the label says null because there is no "
        "architect serve target, but CLI 1.x's `ng serve` serves apps[0] on defaults.serve.port, else PORT, else "
        "4200. devlint models that (port 4200, source 'default (Angular CLI 1.x)'), as the repo's own "
        "`ng serve --proxy-config proxy.conf.json` script (packagejson/010) relies on.",
    },
}
# Configuration keys the labels list (the dev server's network options); build-only keys such
# as buildTarget, hmr or extraWebpackConfig are left out of `configurations` by the labellers.
LABELLED_CONFIGURATION_KEYS = ("port", "host", "proxyConfig", "ssl", "sslKey", "sslCert", "disableHostCheck",
                               "publicHost", "allowedHosts")


def _cases(folder: str) -> List[Tuple[Path, Path]]:
    root = CORPUS / folder
    if not root.is_dir():
        return []
    return [(path, path.with_name(path.stem + ".expected.json"))
            for path in sorted(root.glob("*.json")) if not path.name.endswith(".expected.json")]


ANGULAR, PROXY, PACKAGES = _cases("angular"), _cases("proxy"), _cases("packagejson")


def _ids(cases: List[Tuple[Path, Path]]) -> List[str]:
    return [source.name for source, _ in cases]


def _label(path: Path) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _skip(folder: str) -> str:
    return f"corpus folder {CORPUS / folder} is absent (only present in the devlint workplace)"


def _disagrees(source: Path, key: str) -> bool:
    return key in KNOWN_DISAGREEMENTS.get(f"{source.parent.name}/{source.name}", {})


def test_corpus_is_present_and_labelled() -> None:
    if not (ANGULAR and PROXY and PACKAGES):
        pytest.skip(_skip(""))
    assert len(ANGULAR) >= 30 and len(PROXY) >= 15 and len(PACKAGES) >= 12
    for source, label in ANGULAR + PROXY + PACKAGES:
        assert label.is_file(), f"{source} has no {label.name}"


# -- angular.json --------------------------------------------------------------------------------


def _is_legacy(text: str) -> bool:
    return '"apps"' in text and '"projects"' not in text


def _extract(ws: ng_workspace.Workspace) -> Dict[str, Dict[str, Any]]:
    """What devlint reads from each project, in the labels' vocabulary."""
    result: Dict[str, Dict[str, Any]] = {}
    for name, proj in ws.projects.items():
        target = proj.serve
        got: Dict[str, Any] = {
            "project_type": proj.project_type,
            "has_serve_target": target is not None,
            "serve_builder": target.builder if target else None,
            "serve_port": target.options.get("port") if target else None,
            "serve_host": target.options.get("host") if target else None,
            "proxy_config": target.options.get("proxyConfig") if target else None,
            "ssl": bool(target.options.get("ssl")) if target else False,
            "configurations": {},
            "default_configuration": target.default_configuration if target else None,
            "effective_ng_serve": None,
        }
        if target is not None:
            for config, body in target.configurations.items():
                kept = {k: v for k, v in body.items() if k in LABELLED_CONFIGURATION_KEYS}
                if kept or not body:
                    got["configurations"][config] = kept
        if target is not None or ws.legacy:
            configs = tuple(c for c in ((target.default_configuration or "") if target else "").split(",") if c)
            values, _ = ng_target.serve_settings(ws, proj, configs, NG_DEFAULT, "web", None)
            known = target is None or target.angular_like

            def value(key: str, default: Any = None, values: Dict[str, Sourced[Any]] = values) -> Any:
                return values[key].value if key in values else default

            got["effective_ng_serve"] = {"port": value("port"), "host": value("host"),
                                         "proxy_config": value("proxyConfig"),
                                         "ssl": value("ssl", False if known else None)}
        result[name] = got
    return result


@pytest.mark.parametrize("source,label", ANGULAR, ids=_ids(ANGULAR))
def test_angular_json_matches_label(source: Path, label: Path) -> None:
    expected = _label(label)
    text = source.read_text(encoding="utf-8")
    ws = ng_workspace.parse_workspace(text, source.name, legacy=_is_legacy(text))
    assert ws.readable  # valid_json false in a label means "not strict JSON": Angular still reads it
    assert [f for f in ws.problems if f.severity is Severity.ERROR] == []
    if not ws.legacy:
        assert ws.default_project == expected["default_project"]
    got = _extract(ws)
    assert list(got) == list(expected["projects"]), source.name
    for name, labelled in expected["projects"].items():
        for key, value in got[name].items():
            if _disagrees(source, key):
                assert value != labelled[key], f"{source.name}: {key} now agrees; drop it from KNOWN_DISAGREEMENTS"
                continue
            assert value == labelled[key], f"{source.name} {name} {key}: label {labelled[key]!r}; {expected['notes']}"
        if "legacy_app_index" in labelled:
            assert ws.projects[name].legacy_index == labelled["legacy_app_index"]


@pytest.mark.parametrize("source,label", ANGULAR, ids=_ids(ANGULAR))
def test_ng_serve_of_every_project(source: Path, label: Path, tmp_path: Path) -> None:
    """Through the real command hook, on a copy under the file's real name: `ng serve <project>`
    listens where the label says, with angular.json's line as the source of a written port."""
    expected = _label(label)
    text = source.read_text(encoding="utf-8")
    name = ".angular-cli.json" if _is_legacy(text) else "angular.json"
    shutil.copyfile(source, tmp_path / name)
    project = Project(tmp_path, env={})
    for proj, labelled in expected["projects"].items():
        argv = ("ng", "serve", "--app", proj) if name == ".angular-cli.json" else ("ng", "serve", proj)
        services = plugin.devlint_command_services(Command(argv, text=" ".join(argv)), project)
        assert services is not None
        (service,) = services
        effective = labelled["effective_ng_serve"]
        if _disagrees(source, "effective_ng_serve"):
            assert [ep.port for ep in service.endpoints] == [4200]
            continue
        if effective is None:
            assert service.endpoints == () and [f.code for f in service.diagnostics] == ["DL603"]
            continue
        if effective["port"] is None:  # a builder that is not Angular's dev server
            assert service.endpoints == () and "DL604" in [f.code for f in service.diagnostics]
            continue
        (ep,) = service.endpoints
        assert (ep.port, ep.host) == (effective["port"], effective["host"])
        assert service.details.get("proxy_config") == effective["proxy_config"]
        assert service.details["ssl"] == effective["ssl"]
        assert service.origin == f"{'https' if effective['ssl'] else 'http'}://localhost:{effective['port']}"
        if labelled["serve_port"] is not None:
            assert ep.port_source.where == "angular.json" and ep.port_source.line
            assert ep.port_source.key == f"projects.{proj}.architect.serve.options.port" or \
                ep.port_source.key == f"projects.{proj}.targets.serve.options.port"
        # Only a proxy file the copy does not have may be reported; nothing else is wrong.
        assert {f.code for f in service.diagnostics} <= {"DL605"}, service.diagnostics


def test_corpus_collisions_with_other_stacks_defaults() -> None:
    """The labels point out Angular on 5000 (Flask's and Firebase Hosting's default, 026) and on
    4000 (the Emulator UI's, 022): the plugin reads both ports."""
    if not ANGULAR:
        pytest.skip(_skip("angular"))
    ports = {}
    for source, _ in ANGULAR:
        text = source.read_text(encoding="utf-8")
        ws = ng_workspace.parse_workspace(text, source.name, legacy=_is_legacy(text))
        ports[source.name] = {v["effective_ng_serve"]["port"] for v in _extract(ws).values()
                              if v["effective_ng_serve"]}
    assert 5000 in ports["026.json"] and 4000 in ports["022.json"]


# -- proxy configs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("source,label", PROXY, ids=_ids(PROXY))
def test_proxy_config_matches_label(source: Path, label: Path) -> None:
    expected = _label(label)
    read = ng_proxy.parse_proxy_json(source.read_text(encoding="utf-8"), source.name, "web",
                                     ng_proxy.ProxyRead(source.name))
    assert read.format == expected["format"]
    assert read.routes == expected["routes"], expected["notes"]
    for upstream in read.upstreams:
        assert upstream.source.where == source.name and upstream.source.line
        assert upstream.source.key is not None and upstream.source.key.endswith(".target")
    # Only the stray top-level option of 020 is worth a finding; every other file is clean.
    assert [f.code for f in read.findings] == (["DL607"] if source.name == "020.json" else [])


# -- package.json scripts (every plugin, through commands.py) ---------------------------------------

# package.json → the workspace file its labels refer to (corpus/angular), to check the port
# angular.json gives when the script has no --port.
SIBLINGS = {"005.json": "002.json", "006.json": "009.json", "007.json": "029.json", "010.json": "008.json",
            "016.json": "027.json"}


def _services(folder: Path, package: Path, sibling: Optional[Path] = None) -> Dict[str, List[Tuple[Command, Service]]]:
    (folder / ".git").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(package, folder / "package.json")
    if sibling is not None:
        text = sibling.read_text(encoding="utf-8")
        shutil.copyfile(sibling, folder / (".angular-cli.json" if _is_legacy(text) else "angular.json"))
    project = Project(folder, env={})
    host = PluginHost()
    found: Dict[str, List[Tuple[Command, Service]]] = {}
    for name, commands in scripts_commands(project, wrappers=host).items():
        found[name] = [(command, svc) for command in commands for svc in host.command_services(command, project) or ()]
    return found


@pytest.mark.parametrize("source,label", PACKAGES, ids=_ids(PACKAGES))
def test_package_json_scripts_match_labels(source: Path, label: Path, tmp_path: Path) -> None:
    expected = _label(label)
    found = _services(tmp_path, source)
    for script, labelled in expected["scripts"].items():
        tool = labelled["tool"]
        services = found.get(script, [])
        if tool == "run-script-os":  # dispatches to `<script>:<platform>`, else `:default` (here: linux)
            default = [(c.argv, s.endpoints) for c, s in found[f"{script}:default"]]
            assert [(c.argv, s.endpoints) for c, s in services] == default
            continue
        if tool.startswith("npm-run"):  # start:all backgrounds the other scripts
            runs = [svc.details.get("project") for _, svc in services]
            assert runs == [svc.details.get("project") for name in labelled["runs"] for _, svc in found[name]]
            continue
        kinds = {"ng": "angular", "flask": "flask", "firebase": "firebase"}
        mine = [(c, s) for c, s in services if s.kind == kinds[tool]]
        assert len(mine) == 1, (script, services)
        command, service = mine[0]
        assert command.cwd == labelled.get("cwd", "."), script
        if tool == "ng":
            _check_ng(service, labelled)
        elif tool == "flask":
            (ep,) = service.endpoints
            assert (ep.port, ep.host) == (labelled["port"] or 5000, labelled["host"] or "127.0.0.1")
            assert ep.port_source.kind == ("flag" if labelled["port"] else "default")
        else:
            assert labelled["subcommand"] in command.argv
            if labelled.get("project"):
                assert service.details["project"] == labelled["project"]
            if "only" in labelled:
                assert service.details["only"] == labelled["only"]
            if labelled.get("config", "").startswith("test/firebase.json"):
                assert service.details["config"] == "test/firebase.json"
            # No firebase.json in the temp folder: said so, by name.
            assert [f.code for f in service.diagnostics] == ["DL501"]
        if "wraps" in labelled:  # emulators:exec "ng serve": the inner command is a service too
            inner = [s for _, s in services if s.kind == kinds[labelled["wraps"]["tool"]]]
            assert len(inner) == 1 and [ep.port for ep in inner[0].endpoints] == [4200]


def _check_ng(service: Service, labelled: Dict[str, Any]) -> None:
    (ep,) = service.endpoints
    assert ep.port == (labelled["port"] or 4200)
    assert ep.port_source.kind == ("flag" if labelled["port"] else "default")
    assert ep.host == (labelled["host"] or "localhost")
    assert service.details.get("proxy_config") == labelled["proxy_config"]
    assert service.details["ssl"] == bool(labelled.get("ssl"))
    if labelled.get("configuration"):
        assert service.details["configurations"] == [labelled["configuration"]]
    if labelled.get("project"):
        assert service.details["project"] == labelled["project"]
    # Alone in a temp folder there is no angular.json: ng serve would refuse, and devlint says so.
    assert "DL601" in [f.code for f in service.diagnostics]


@pytest.mark.parametrize("package,workspace", sorted(SIBLINGS.items()))
def test_package_json_with_its_angular_json(package: str, workspace: str, tmp_path: Path) -> None:
    """The script next to the angular.json of the same repository (as the labels pair them)."""
    source, sibling = CORPUS / "packagejson" / package, CORPUS / "angular" / workspace
    if not (source.is_file() and sibling.is_file()):
        pytest.skip(_skip("packagejson"))
    expected = _label(source.with_name(source.stem + ".expected.json"))
    found = _services(tmp_path, source, sibling)
    for script, labelled in expected["scripts"].items():
        tool = labelled.get("wraps", labelled)["tool"]
        if tool != "ng":
            continue
        (service,) = [s for _, s in found[script] if s.kind == "angular"]
        (ep,) = service.endpoints
        port = labelled.get("resolved_port_via_angular_json") or labelled["port"] or 4200
        assert ep.port == port, (script, service.diagnostics)
        if labelled.get("resolved_port_via_angular_json"):
            assert ep.port_source.where == "angular.json" and "configurations.development.port" in str(ep.port_source)
        errors = [f for f in service.diagnostics if f.severity is Severity.ERROR and f.code != "DL605"]
        assert errors == [], errors  # only a proxy file the copy lacks may be missing
