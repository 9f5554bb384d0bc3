"""The README is the reference users read: every finding code devlint can emit has a row in
its tables, and every row names a code the source still emits."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CODE = re.compile(r"""["'](DL\d{3})["']""")
ROW = re.compile(r"^\| (DL\d{3}) \| (error|warning|info) \|", re.MULTILINE)


def emitted_codes() -> set[str]:
    sources = [*(REPO / "devlint").rglob("*.py"), *(REPO / "plugins").rglob("*.py")]
    return {code for path in sources for code in CODE.findall(path.read_text(encoding="utf-8"))}


def documented_codes() -> set[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return {code for code, _severity in ROW.findall(readme)}


def test_every_emitted_code_is_documented_and_every_documented_code_is_emitted() -> None:
    emitted, documented = emitted_codes(), documented_codes()
    assert len(emitted) > 20, "the source scan found too few codes to be meaningful"
    assert emitted - documented == set(), "codes missing from README's tables"
    assert documented - emitted == set(), "README documents codes nothing emits"
