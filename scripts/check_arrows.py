"""Fail when an app imports against the arrows of docs/architecture.md (imports inside functions too).

    portal -> maps, hours -> layers -> projects -> audit, notifications

An app may import the apps below it, never one above it or beside it (maps and hours do not
import each other; audit and notifications import no app). Usage: python scripts/check_arrows.py
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What each app may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "portal": {"maps", "hours", "layers", "projects", "audit", "notifications"},
    "maps": {"layers", "projects", "audit", "notifications"},
    "hours": {"layers", "projects", "audit", "notifications"},
    "layers": {"projects", "audit", "notifications"},
    "projects": {"audit", "notifications"},
    "audit": set(),
    "notifications": set(),
}


def imported_apps(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import in the tree, at any depth."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def violations(root: Path = ROOT) -> list[str]:
    problems = []
    for app, allowed in ALLOWED.items():
        for path in sorted((root / app).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, target in imported_apps(tree):
                if target in ALLOWED and target != app and target not in allowed:
                    problems.append(f"{path.relative_to(root)}:{line}: {app} imports {target}")
    return problems


def main() -> int:
    problems = violations()
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} import(s) against the arrows (docs/architecture.md).")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
