"""The cold path's shortcuts give the same answers as the long way.

`devlint run -- CMD` is parsed without argparse (cli._plain_run), and a run whose snapshot
is empty skips the port checks: both must agree with what the parser and the checks say.
"""

from __future__ import annotations

from typing import List

import pytest

from devlint import cli


@pytest.mark.parametrize("argv", [
    ["run", "--", "true"],
    ["run", "--", "flask", "run", "--port", "5001"],
    ["run", "--", "--help"],
    ["run", "--", "-p", "no:flask", "--config", "x.toml"],
    ["run", "--", "npm", "start", "--", "--port", "4300"],
])
def test_plain_run_matches_the_parser(argv: List[str]) -> None:
    plain = cli._plain_run(argv)
    assert plain is not None
    parsed = vars(cli._parser().parse_args(argv))
    fast = vars(plain)
    # Newer Pythons' argparse may drop the `--` in front of REMAINDER; cmd_run drops one
    # either way, and what it runs must be the same words.
    assert fast.pop("command")[-(len(argv) - 2):] == parsed.pop("command")[-(len(argv) - 2):] == argv[2:]
    assert fast == parsed


@pytest.mark.parametrize("argv", [
    [], ["run"], ["run", "--"], ["run", "--no-cache", "--", "true"], ["--no-cache", "run", "--", "true"],
    ["check"], ["run", "true"],
])
def test_other_forms_take_the_parser(argv: List[str]) -> None:
    assert cli._plain_run(argv) is None


def test_lists_are_not_shared_between_runs() -> None:
    first = cli._plain_run(["run", "--", "true"])
    assert first is not None
    first.plugin_flags.append("no:flask")
    second = cli._plain_run(["run", "--", "true"])
    assert second is not None and second.plugin_flags == []


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_an_empty_snapshot_has_no_port_findings(platform: str) -> None:
    from devlint.checks import findings_for, in_the_way
    from devlint.model import Endpoint, Service, Snapshot

    services = [Service("api", endpoints=(Endpoint("http", 5000), Endpoint("all", 5001, host="0.0.0.0"))),
                Service("web", endpoints=(Endpoint("http", 4200, host="::"),))]
    snapshot = Snapshot((), platform)
    assert findings_for(in_the_way(services, snapshot), platform, services) == []
