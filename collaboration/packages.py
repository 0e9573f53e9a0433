"""Deliverable packages: one deterministic zip of what was delivered, so a town can archive it and
later verify that a rebuild is byte-for-byte what was accepted.

Contents, for each map version attached to the deliverable (the newest of each map):
  maps/<map>-v<N>.pdf and .png   the printable export at the pinned version
  data/<layer>-v<N>.gpkg         every vector layer at its pinned version (streamed, EPSG:4326)
  data/<layer>-v<N>.tif          raster layers: their stored Cloud-Optimized GeoTIFF, as imported
  styles/<layer>-v<N>.json/.sld  our style JSON, and SLD 1.0 for QGIS and GeoServer
  metadata/<map>-v<N>.xml        ISO 19115-style metadata (title, abstract, extent, CRS, lineage)
  README.txt, acceptance.json    what this is; the deliverable's recorded moves
  MANIFEST.sha256                SHA-256 of every other file (`sha256sum -c MANIFEST.sha256`)

Determinism: every input is an immutable row (pinned versions, recorded moves), dates come from
those rows, never from the clock; zip entries are sorted with fixed timestamps and permissions.
Memory stays bounded: layer data streams from a server-side cursor in batches, exports render
generalised to the output pixel, and files are copied into the zip in chunks.
"""

import base64
import hashlib
import json
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET  # noqa: S405 - we only write XML, never parse it

from django.utils.text import slugify

from layers.exports import export_version
from layers.models import Layer, LayerVersion
from layers.raster.importer import export_raster
from maps.models import MapVersion
from maps.render import png_bytes, render_export
from projects.models import Deliverable

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold: the same for every build
FILE_MODE = 0o100644
CHUNK = 1024 * 1024
PNG_SIZE = (1600, 1060)
# GDAL stamps GeoPackages with the current time unless told otherwise.
GPKG_DATE = "2000-01-01T00:00:00Z"


class PackageError(Exception):
    pass


def _name(text: str, fallback: str) -> str:
    return slugify(text)[:60] or fallback


def package_versions(deliverable: Deliverable) -> list[MapVersion]:
    """The newest attached version of each map of the deliverable, in a stable order."""
    latest: dict[int, MapVersion] = {}
    for v in (
        MapVersion.objects.filter(deliverable=deliverable)
        .select_related(
            "map__project__agreement__client", "map__project__agreement__provider", "published_by"
        )
        .order_by("map_id", "-number")
    ):
        latest.setdefault(v.map_id, v)
    return [latest[k] for k in sorted(latest)]


def _pdf(png: bytes, title: str, when: datetime) -> bytes:
    from weasyprint import HTML

    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    html = (
        f"<html><head><title>{_xml_text(title)}</title>"
        f'<meta name="dcterms.created" content="{stamp}">'
        f'<meta name="dcterms.modified" content="{stamp}">'
        "<style>@page { size: A4 landscape; margin: 10mm } img { width: 100%; }</style></head><body>"
        f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="map"></body></html>'
    )
    # A fixed identifier: WeasyPrint would otherwise derive one that may differ between runs.
    return HTML(string=html).write_pdf(
        pdf_identifier=hashlib.md5(png, usedforsecurity=False).hexdigest().encode()
    )


def _xml_text(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


# --- SLD 1.0 for vector styles


SLD_NS = "http://www.opengis.net/sld"
OGC_NS = "http://www.opengis.net/ogc"


def _symbolizer(parent: ET.Element, geometry_type: str, symbol: dict[str, Any], color: str) -> None:
    def css(el: ET.Element, name: str, value: Any) -> None:
        ET.SubElement(el, f"{{{SLD_NS}}}CssParameter", name=name).text = str(value)

    if "Point" in geometry_type:
        sym = ET.SubElement(parent, f"{{{SLD_NS}}}PointSymbolizer")
        graphic = ET.SubElement(sym, f"{{{SLD_NS}}}Graphic")
        mark = ET.SubElement(graphic, f"{{{SLD_NS}}}Mark")
        ET.SubElement(mark, f"{{{SLD_NS}}}WellKnownName").text = symbol.get("marker", "circle")
        fill = ET.SubElement(mark, f"{{{SLD_NS}}}Fill")
        css(fill, "fill", color)
        stroke = ET.SubElement(mark, f"{{{SLD_NS}}}Stroke")
        css(stroke, "stroke", symbol.get("stroke", "#000000"))
        ET.SubElement(graphic, f"{{{SLD_NS}}}Size").text = str(symbol.get("size", 8))
    elif "Line" in geometry_type:
        sym = ET.SubElement(parent, f"{{{SLD_NS}}}LineSymbolizer")
        stroke = ET.SubElement(sym, f"{{{SLD_NS}}}Stroke")
        css(stroke, "stroke", color)
        css(stroke, "stroke-width", symbol.get("stroke_width", 1))
    else:
        sym = ET.SubElement(parent, f"{{{SLD_NS}}}PolygonSymbolizer")
        fill = ET.SubElement(sym, f"{{{SLD_NS}}}Fill")
        css(fill, "fill", color)
        css(fill, "fill-opacity", symbol.get("fill_opacity", 1))
        stroke = ET.SubElement(sym, f"{{{SLD_NS}}}Stroke")
        css(stroke, "stroke", symbol.get("stroke", "#000000"))
        css(stroke, "stroke-width", symbol.get("stroke_width", 1))


def _compare(rule: ET.Element, op: str, attribute: str, value: Any) -> ET.Element:
    flt = ET.SubElement(rule, f"{{{OGC_NS}}}Filter")
    cmp = ET.SubElement(flt, f"{{{OGC_NS}}}{op}")
    ET.SubElement(cmp, f"{{{OGC_NS}}}PropertyName").text = attribute
    ET.SubElement(cmp, f"{{{OGC_NS}}}Literal").text = str(value)
    return flt


def style_sld(name: str, geometry_type: str, style: dict[str, Any]) -> bytes:
    """An SLD 1.0 document equivalent to our style (single, categorized or graduated)."""
    ET.register_namespace("sld", SLD_NS)
    ET.register_namespace("ogc", OGC_NS)
    root = ET.Element(f"{{{SLD_NS}}}StyledLayerDescriptor", version="1.0.0")
    layer = ET.SubElement(root, f"{{{SLD_NS}}}NamedLayer")
    ET.SubElement(layer, f"{{{SLD_NS}}}Name").text = name
    user_style = ET.SubElement(layer, f"{{{SLD_NS}}}UserStyle")
    ET.SubElement(user_style, f"{{{SLD_NS}}}Title").text = name
    fts = ET.SubElement(user_style, f"{{{SLD_NS}}}FeatureTypeStyle")
    symbol = style.get("symbol", {})
    kind = style.get("type", "single")

    def rule(title: str) -> ET.Element:
        r = ET.SubElement(fts, f"{{{SLD_NS}}}Rule")
        ET.SubElement(r, f"{{{SLD_NS}}}Title").text = title
        return r

    if kind == "categorized":
        for cat in style.get("categories", []):
            r = rule(str(cat.get("label") or cat.get("value")))
            _compare(r, "PropertyIsEqualTo", style["attribute"], cat.get("value"))
            _symbolizer(r, geometry_type, symbol, cat["color"])
        other = rule("Other")
        ET.SubElement(other, f"{{{SLD_NS}}}ElseFilter")
        _symbolizer(other, geometry_type, symbol, style.get("other", {}).get("color", "#bdbdbd"))
    elif kind == "graduated":
        breaks, colors = style.get("breaks", []), style.get("colors", [])
        low = None
        for upper, color in zip(breaks, colors, strict=False):
            r = rule(f"≤ {upper}" if low is None else f"{low} – {upper}")
            if low is None:
                _compare(r, "PropertyIsLessThanOrEqualTo", style["attribute"], upper)
            else:
                flt = ET.SubElement(r, f"{{{OGC_NS}}}Filter")
                both = ET.SubElement(flt, f"{{{OGC_NS}}}And")
                for op, value in (
                    ("PropertyIsGreaterThan", low),
                    ("PropertyIsLessThanOrEqualTo", upper),
                ):
                    cmp = ET.SubElement(both, f"{{{OGC_NS}}}{op}")
                    ET.SubElement(cmp, f"{{{OGC_NS}}}PropertyName").text = style["attribute"]
                    ET.SubElement(cmp, f"{{{OGC_NS}}}Literal").text = str(value)
            _symbolizer(r, geometry_type, symbol, color)
            low = upper
    else:
        _symbolizer(rule(name), geometry_type, symbol, symbol.get("fill", "#3388ff"))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# --- ISO 19115-style metadata

GMD = "http://www.isotc211.org/2005/gmd"
GCO = "http://www.isotc211.org/2005/gco"


def _cs(parent: ET.Element, tag: str, text: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{GMD}}}{tag}")
    ET.SubElement(el, f"{{{GCO}}}CharacterString").text = text
    return el


def metadata_xml(
    version: MapVersion, deliverable: Deliverable, layers: list[LayerVersion]
) -> bytes:
    ET.register_namespace("gmd", GMD)
    ET.register_namespace("gco", GCO)
    agreement = version.map.project.agreement
    definition = version.definition
    root = ET.Element(f"{{{GMD}}}MD_Metadata")
    _cs(root, "fileIdentifier", f"sharedgis-map-{version.map_id}-v{version.number}")
    contact = ET.SubElement(
        ET.SubElement(root, f"{{{GMD}}}contact"), f"{{{GMD}}}CI_ResponsibleParty"
    )
    _cs(contact, "organisationName", agreement.provider.name)
    _cs(contact, "role", "publisher")
    stamp = ET.SubElement(root, f"{{{GMD}}}dateStamp")
    ET.SubElement(stamp, f"{{{GCO}}}DateTime").text = version.published_at.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    ref = ET.SubElement(
        ET.SubElement(root, f"{{{GMD}}}referenceSystemInfo"), f"{{{GMD}}}MD_ReferenceSystem"
    )
    _cs(ref, "referenceSystemIdentifier", "EPSG:4326")
    ident = ET.SubElement(
        ET.SubElement(root, f"{{{GMD}}}identificationInfo"), f"{{{GMD}}}MD_DataIdentification"
    )
    citation = ET.SubElement(ET.SubElement(ident, f"{{{GMD}}}citation"), f"{{{GMD}}}CI_Citation")
    _cs(citation, "title", f"{definition['title']} v{version.number}")
    _cs(citation, "edition", str(version.number))
    _cs(ident, "abstract", definition.get("description") or version.notes or definition["title"])
    _cs(
        ident,
        "purpose",
        f"Deliverable “{deliverable.title}” of {agreement.title} ({agreement.client.name}).",
    )
    extent = definition.get("extent") or [-180, -90, 180, 90]
    box = ET.SubElement(
        ET.SubElement(ET.SubElement(ident, f"{{{GMD}}}extent"), f"{{{GMD}}}EX_Extent"),
        f"{{{GMD}}}geographicElement",
    )
    bbox = ET.SubElement(box, f"{{{GMD}}}EX_GeographicBoundingBox")
    for tag, value in zip(
        ("westBoundLongitude", "southBoundLatitude", "eastBoundLongitude", "northBoundLatitude"),
        extent,
        strict=True,
    ):
        ET.SubElement(
            ET.SubElement(bbox, f"{{{GMD}}}{tag}"), f"{{{GCO}}}Decimal"
        ).text = f"{float(value):.6f}"
    quality = ET.SubElement(
        ET.SubElement(root, f"{{{GMD}}}dataQualityInfo"), f"{{{GMD}}}DQ_DataQuality"
    )
    lineage = ET.SubElement(ET.SubElement(quality, f"{{{GMD}}}lineage"), f"{{{GMD}}}LI_Lineage")
    publisher = version.published_by.get_username() if version.published_by else "unknown"
    _cs(
        lineage,
        "statement",
        f"Published as version {version.number} by {publisher} on {version.published_at:%Y-%m-%d}.",
    )
    for lv in layers:
        source = ET.SubElement(ET.SubElement(lineage, f"{{{GMD}}}source"), f"{{{GMD}}}LI_Source")
        _cs(
            source,
            "description",
            f"{lv.layer.name} v{lv.number}: {lv.feature_count} features from {lv.source_filename} "
            f"({lv.source_format}{f', EPSG:{lv.source_srid}' if lv.source_srid else ''}), "
            f"imported {lv.created_at:%Y-%m-%d}{f' by {lv.created_by.get_username()}' if lv.created_by else ''}.",
        )
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def acceptance_record(deliverable: Deliverable) -> bytes:
    moves = [
        {
            "from": t.from_status,
            "to": t.to_status,
            "by": t.by.get_username() if t.by else None,
            "at": t.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "comment": t.comment,
        }
        for t in deliverable.transitions.select_related("by").order_by("at", "id")
    ]
    record = {
        "deliverable": deliverable.pk,
        "title": deliverable.title,
        "project": deliverable.project.name,
        "agreement": deliverable.project.agreement.title,
        "client": deliverable.project.agreement.client.name,
        "provider": deliverable.project.agreement.provider.name,
        "due_date": deliverable.due_date.isoformat() if deliverable.due_date else None,
        "status": deliverable.status,
        "moves": moves,
    }
    return (json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _gpkg(version: LayerVersion, out: Path) -> Path:
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    try:
        return export_version(version=version, fmt="gpkg", srid=4326, out=out)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def stage_files(deliverable: Deliverable, root: Path) -> list[str]:
    """Write every file of the package under `root`; returns their relative paths, sorted."""
    versions = package_versions(deliverable)
    if not versions:
        raise PackageError("Attach a published map version to the deliverable first.")
    readme = [
        f"Deliverable package: {deliverable.title}",
        f"Agreement: {deliverable.project.agreement.title} "
        f"({deliverable.project.agreement.provider.name} for {deliverable.project.agreement.client.name})",
        f"Project: {deliverable.project.name}",
        "",
        "Verify every file with:  sha256sum -c MANIFEST.sha256",
        "Data are in EPSG:4326 (longitude/latitude, WGS 84). Styles: *.json (SharedGIS), *.sld (QGIS, GeoServer).",
        "",
    ]
    for version in versions:
        (root / "maps").mkdir(exist_ok=True)
        (root / "data").mkdir(exist_ok=True)
        (root / "styles").mkdir(exist_ok=True)
        (root / "metadata").mkdir(exist_ok=True)
        base = f"{_name(version.map.title, 'map')}-v{version.number}"
        png = png_bytes(
            render_export(
                version.definition,
                bbox=None,
                width=PNG_SIZE[0],
                height=PNG_SIZE[1],
                when=version.published_at.date(),
            )
        )
        (root / "maps" / f"{base}.png").write_bytes(png)
        (root / "maps" / f"{base}.pdf").write_bytes(
            _pdf(png, version.definition["title"], version.published_at)
        )
        pinned = {lv.pk: lv for lv in version.layer_versions.select_related("layer", "created_by")}
        readme.append(
            f"Map “{version.map.title}” version {version.number}, published {version.published_at:%Y-%m-%d}:"
        )
        for entry in version.definition["layers"]:
            lv = pinned.get(entry["version_id"])
            if lv is None:
                continue
            stem = f"{_name(entry['title'] or lv.layer.name, 'layer')}-v{lv.number}"
            if lv.layer.kind == Layer.Kind.RASTER:
                export_raster(version=lv, fmt="cog", out=root / "data" / f"{stem}.tif")
                data_name = f"data/{stem}.tif"
            else:
                _gpkg(lv, root / "data" / f"{stem}.gpkg")
                data_name = f"data/{stem}.gpkg"
                sld = style_sld(entry["title"], lv.geometry_type, entry["style"])
                (root / "styles" / f"{stem}.sld").write_bytes(sld)
            (root / "styles" / f"{stem}.json").write_text(
                json.dumps(entry["style"], indent=2, sort_keys=True) + "\n"
            )
            readme.append(
                f"  {entry['title']}: {data_name} ({lv.feature_count} features), styles/{stem}.*"
            )
        (root / "metadata" / f"{base}.xml").write_bytes(
            metadata_xml(version, deliverable, list(pinned.values()))
        )
        readme.append("")
    (root / "README.txt").write_text("\n".join(readme) + "\n")
    (root / "acceptance.json").write_bytes(acceptance_record(deliverable))
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    manifest = "".join(f"{_sha256(root / n)}  {n}\n" for n in names)
    (root / "MANIFEST.sha256").write_text(manifest)
    return sorted([*names, "MANIFEST.sha256"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def write_zip(root: Path, names: list[str], out: Path, *, top: str) -> None:
    """A deterministic zip: sorted entries, fixed dates and permissions, chunked copies."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name in sorted(names):
            info = zipfile.ZipInfo(f"{top}/{name}", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = FILE_MODE << 16
            info.create_system = 3
            with (root / name).open("rb") as src, archive.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, CHUNK)


def build_package_file(deliverable: Deliverable, out: Path) -> str:
    """Build the zip at `out`; returns its SHA-256."""
    top = (
        f"{_name(deliverable.project.agreement.client.name, 'client')}-deliverable-{deliverable.pk}"
    )
    with tempfile.TemporaryDirectory(prefix="sharedgis-package-") as tmp:
        root = Path(tmp) / "files"
        root.mkdir()
        names = stage_files(deliverable, root)
        write_zip(root, names, out, top=top)
    return _sha256(out)
