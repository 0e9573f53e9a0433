"""Helpers shared by the collaboration tests."""

import hashlib
import zipfile
from typing import Any

from maps.services import map_version_attach
from tests.conftest import World
from tests.map_factories import make_published_map


def delivered_with_map(world: World, n: int = 30) -> Any:
    """Town A's deliverable, delivered with a published map version of `n` parcels attached."""
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=n)
    map_version_attach(version=version, deliverable=world.deliverable_a, by=world.analyst)
    world.deliverable_a.refresh_from_db()
    return version


def verify_manifest(archive: zipfile.ZipFile) -> list[str]:
    """The files the MANIFEST names, after checking each SHA-256; fails on any mismatch."""
    (manifest_name,) = [n for n in archive.namelist() if n.endswith("/MANIFEST.sha256")]
    top = manifest_name.rsplit("/", 1)[0]
    listed = []
    for line in archive.read(manifest_name).decode().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(archive.read(f"{top}/{name}")).hexdigest() == digest, name
        listed.append(name)
    others = sorted(n.split("/", 1)[1] for n in archive.namelist() if n != manifest_name)
    assert sorted(listed) == others, "every file but the manifest is in the manifest"
    return listed
