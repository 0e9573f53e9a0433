"""The import_layer / export_layer command-line contract."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from layers.models import Feature, Layer, LayerVersion
from tests import layers_data as d

pytestmark = pytest.mark.django_db


def _import(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("import_layer", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_import_layer_json_prints_exactly_the_contract_keys(world: Any, tmp_path: Path) -> None:
    archive = d.write_shapefile(tmp_path, d.points_frame(crs=2226), name="hydrants")
    code, out, _ = _import(str(archive), "--project", "zoning-a", "--name", "Hydrants", "--json")
    assert code == 0
    result = json.loads(out)
    assert set(result) == {"id", "name", "feature_count", "geometry_type", "source_srid", "extent"}
    assert result["name"] == "Hydrants" and result["feature_count"] == 20
    assert result["geometry_type"] == "Point" and result["source_srid"] == 2226
    minx, miny, maxx, maxy = result["extent"]
    assert -123 < minx < maxx < -122 and 38 < miny < maxy < 39
    assert Layer.objects.get(pk=result["id"]).current_version.feature_count == 20


def test_import_layer_failure_exits_non_zero_with_one_line_and_stores_nothing(
    world: Any, tmp_path: Path
) -> None:
    archive = d.write_shapefile(tmp_path, d.points_frame(crs=2226), skip=(".prj",), name="noprj")
    code, out, err = _import(str(archive), "--project", "zoning-a", "--json")
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "no .prj file" in err
    assert not (Layer.objects.exists() or LayerVersion.objects.exists() or Feature.objects.exists())


def test_import_layer_refuses_a_connection_string_as_path(world: Any) -> None:
    code, _, err = _import("PG:dbname=sharedgis", "--project", "zoning-a")
    assert code == 1 and "connection string" in err


def test_import_layer_takes_the_srid_and_the_source_layer(world: Any, tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    d.parcels_frame().to_file(path, layer="parcels", driver="GPKG")
    d.points_frame().to_file(path, layer="hydrants", driver="GPKG")
    code, out, _ = _import(str(path), "--project", "zoning-a", "--layer", "parcels", "--json")
    assert code == 0 and json.loads(out)["feature_count"] == 6


def test_the_real_command_line_process_runs_end_to_end(
    world: Any, tmp_path: Path, django_db_blocker: Any
) -> None:
    """A separate process cannot see this test's transaction, so only its refusal is checked here."""
    proc = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "import_layer",
            str(tmp_path / "missing.geojson"),
            "--project",
            "nope",
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DATABASE_URL": d.database_url_for_subprocesses()},
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "no project" in proc.stderr


def test_export_layer_writes_every_format(world: Any, tmp_path: Path) -> None:
    (version,) = d.run_import(
        world.project_a, d.write_shapefile(tmp_path, d.points_frame(crs=2226), name="h")
    )
    for fmt, suffix in (
        ("geojson", ".geojson"),
        ("gpkg", ".gpkg"),
        ("shp", ".zip"),
        ("csv", ".csv"),
        ("kml", ".kml"),
    ):
        out = tmp_path / f"out{suffix}"
        call_command(
            "export_layer",
            str(version.layer_id),
            "--format",
            fmt,
            "--output",
            str(out),
            "--srid",
            "2226",
            stdout=StringIO(),
        )
        assert out.stat().st_size > 100, fmt


def test_the_command_line_imports_in_its_own_process_and_prints_one_json_object(
    world: Any, transactional_db: None, tmp_path: Path
) -> None:
    path = tmp_path / "hydrants.geojson"
    d.points_frame(12).to_file(path, driver="GeoJSON")
    proc = subprocess.run(
        [sys.executable, "manage.py", "import_layer", str(path), "--project", "zoning-a", "--json"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DATABASE_URL": d.database_url_for_subprocesses()},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.strip().splitlines()
    result = json.loads(line)
    assert result["feature_count"] == 12 and result["source_srid"] == 4326
    assert Feature.objects.filter(version__layer_id=result["id"]).count() == 12
