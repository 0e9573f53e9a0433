"""Print the project's dependencies (runtime and dev) from pyproject.toml, one per line, for pip."""

import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())[
    "project"
]
for requirement in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
    print(requirement)
