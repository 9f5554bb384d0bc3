"""The README is the reference users read: every finding code a rule table declares has a row in
its tables with the same severity, every row is a declared code, and every declared code is
used somewhere in the source (not only declared)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict

from devlint.manager import PluginHost
from devlint.rules import RULES as CORE_RULES

REPO = Path(__file__).resolve().parents[1]
CODE = re.compile(r"""["'](DL\d{3})["']""")
ROW = re.compile(r"^\| (DL\d{3}) \| (error|warning|info) \|", re.MULTILINE)


def declared() -> Dict[str, str]:
    """code → default severity, from the core's and every built-in plugin's rule table."""
    rules = {**PluginHost().rules(), **CORE_RULES}
    return {code: str(rule.severity) for code, rule in rules.items()}


def documented() -> Dict[str, str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return dict(ROW.findall(readme))


def used_in_source() -> set[str]:
    """Codes that appear in the source on a line other than their Rule(...) declaration."""
    sources = [*(REPO / "devlint").rglob("*.py"), *(REPO / "plugins").rglob("*.py")]
    return {code for path in sources for line in path.read_text(encoding="utf-8").splitlines()
            if "Rule(" not in line for code in CODE.findall(line)}


def test_every_rule_is_documented_with_its_severity_and_every_row_is_a_rule() -> None:
    rules, rows = declared(), documented()
    assert len(rules) > 20, "the rule tables declare too few codes to be meaningful"
    assert set(rules) - set(rows) == set(), "codes missing from README's tables"
    assert set(rows) - set(rules) == set(), "README documents codes no rule table declares"
    assert {code: sev for code, sev in rules.items() if rows[code] != sev} == {}, "README severity differs"


def test_a_code_that_may_carry_another_severity_says_when_in_its_row() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    words = {"error": "an error", "warning": "a warning", "info": "info"}
    rules = {**PluginHost().rules(), **CORE_RULES}
    missing = {code: [str(s) for s in rule.also] for code, rule in rules.items()
               if any(words[str(s)] not in _row(readme, code) for s in rule.also)}
    assert missing == {}, "rows that do not say when the code has its other severity"


def _row(readme: str, code: str) -> str:
    return next(line for line in readme.splitlines() if line.startswith(f"| {code} |"))


def test_every_declared_code_is_used() -> None:
    assert set(declared()) - used_in_source() == set(), "declared but never emitted"


def test_plugins_list_their_rules() -> None:
    owners = {code[:3] for code in PluginHost().rules()}
    assert {"DL2", "DL4", "DL5", "DL6"} <= owners


def test_help_and_readme_list_the_same_exit_codes() -> None:
    """`devlint --help` (cli.EPILOG) and the README's table are written apart: same codes."""
    from devlint.cli import EPILOG

    readme = (REPO / "README.md").read_text(encoding="utf-8").split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    in_readme = {int(code) for code in re.findall(r"^\| (\d+) \|", readme, re.MULTILINE)}
    in_help = {int(code) for code in re.findall(r"(?:^  |;  )(\d+)  ", EPILOG, re.MULTILINE)}
    assert in_readme and in_help == in_readme
