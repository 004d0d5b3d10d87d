"""``fiberdesk.domain`` imports only the standard library and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import fiberdesk.domain

DOMAIN = Path(fiberdesk.domain.__file__).parent


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_domain_imports_only_stdlib_and_itself() -> None:
    files = sorted(DOMAIN.rglob("*.py"))
    assert len(files) >= 8
    offenders = []
    for path in files:
        for name in _imports(path):
            top = name.split(".")[0]
            if name.startswith("fiberdesk.domain") or top in sys.stdlib_module_names:
                continue
            if top == "__future__":
                continue
            offenders.append(f"{path.relative_to(DOMAIN)}: {name}")
    assert offenders == []


def test_the_rule_catches_a_framework_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlalchemy\nfrom fiberdesk.db import base\n")
    assert _imports(bad) == ["sqlalchemy", "fiberdesk.db"]
