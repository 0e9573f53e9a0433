"""CQL2 (text and JSON) filters, parsed by pygeofilter, translated to parameterised SQL.

The translation is our own small visitor: every value, attribute name and geometry travels as a
query parameter; only operators and SQL keywords are written into the statement. Anything this
visitor does not know is a FilterError naming it (the view answers 400), never a 500.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pygeofilter import ast, values

from ogc.crs import DEFAULT_CRS, Crs

FILTER_LANGS = ("cql2-text", "cql2-json")
# GDAL's OAPIF driver (3.6 and later) offers server-side filters only to servers listing this
# older name; its expressions are valid CQL2 text.
LEGACY_TEXT_LANG = "cql-text"
GEOMETRY_NAMES = ("geometry", "geom", "the_geom", "shape")
NUMERIC = ("integer", "real")

COMPARISON = {
    ast.Equal: "=",
    ast.NotEqual: "<>",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}
SPATIAL = {
    ast.GeometryIntersects: "ST_Intersects",
    ast.GeometryDisjoint: "ST_Disjoint",
    ast.GeometryContains: "ST_Contains",
    ast.GeometryWithin: "ST_Within",
    ast.GeometryTouches: "ST_Touches",
    ast.GeometryCrosses: "ST_Crosses",
    ast.GeometryOverlaps: "ST_Overlaps",
    ast.GeometryEquals: "ST_Equals",
}


class FilterError(ValueError):
    pass


def _normalise_json(node: Any) -> Any:
    """CQL2 JSON forms pygeofilter 0.4 reads differently: bbox arrays and three-argument BETWEEN."""
    if isinstance(node, list):
        return [_normalise_json(n) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"bbox"}:
        box = node["bbox"]
        if not isinstance(box, list) or len(box) not in (4, 6):
            raise FilterError("A bbox in a CQL2 JSON filter has 4 (or 6) numbers.")
        w, s, e, n = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
        return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
    out = {k: _normalise_json(v) for k, v in node.items()}
    if str(out.get("op", "")).lower() == "between" and isinstance(out.get("args"), list):
        args = out["args"]
        if len(args) == 3:
            out["args"] = [args[0], [args[1], args[2]]]
    if isinstance(out.get("op"), str) and out["op"].lower() == "isnull":
        out["op"] = "isNull"
    return out


def parse_filter(text: str, lang: str | None) -> ast.Node:
    lang = (lang or "cql2-text").strip().lower()
    if lang == LEGACY_TEXT_LANG:
        lang = "cql2-text"
    if lang not in FILTER_LANGS:
        raise FilterError(f"filter-lang must be one of {', '.join(FILTER_LANGS)}, not {lang!r}.")
    try:
        if lang == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse as parse_json

            try:
                document = json.loads(text)
            except json.JSONDecodeError as exc:
                raise FilterError(f"The CQL2 JSON filter is not valid JSON: {exc.msg}.") from exc
            return parse_json(_normalise_json(document))
        from pygeofilter.parsers.cql2_text import parse as parse_text

        return parse_text(text)
    except FilterError:
        raise
    except Exception as exc:  # lark and pygeofilter raise many kinds; all mean "malformed"
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FilterError(f"The {lang} filter could not be read: {message[:300]}") from exc


@dataclass
class SqlFilter:
    """Translate one parsed filter to SQL over layers_feature (columns `properties`, `geom`)."""

    fields: dict[str, str]  # queryable attribute -> schema type
    crs: Crs = DEFAULT_CRS  # filter-crs: the CRS of geometry literals
    params: list[Any] = field(default_factory=list)

    def translate(self, node: Any) -> str:
        handler = self._handler(node)
        return handler(node)

    # --- dispatch

    def _handler(self, node: Any) -> Callable[[Any], str]:
        if isinstance(node, ast.Not):
            return lambda n: f"(NOT {self.translate(n.sub_node)})"
        if isinstance(node, ast.And | ast.Or):
            op = "AND" if isinstance(node, ast.And) else "OR"
            return lambda n: f"({self.translate(n.lhs)} {op} {self.translate(n.rhs)})"
        for kind in COMPARISON:
            if type(node) is kind:
                return self._comparison
        for kind in SPATIAL:
            if type(node) is kind:
                return self._spatial
        simple = {
            ast.Like: self._like,
            ast.In: self._in,
            ast.Between: self._between,
            ast.IsNull: self._is_null,
        }
        for kind, handler in simple.items():
            if isinstance(node, kind):
                return handler
        if isinstance(node, bool):
            return lambda n: "TRUE" if n else "FALSE"
        name = type(node).__name__
        raise FilterError(
            f"The filter uses {name}, which this server does not support; use comparisons, "
            "AND/OR/NOT, LIKE, IN, BETWEEN, IS NULL, CASEI and the S_* spatial functions."
        )

    # --- operands

    def _attribute(self, node: Any) -> tuple[str, str]:
        """(SQL expression, kind) of an attribute operand: kind is number, boolean or text."""
        if isinstance(node, ast.Function) and node.name.lower() in ("lower", "casei"):
            expr, kind = self._attribute(node.arguments[0])
            return f"lower({expr})", "text"
        if not isinstance(node, ast.Attribute):
            raise FilterError(f"Expected a property name, found {node!r}.")
        name = node.name
        if name not in self.fields:
            known = ", ".join(sorted(self.fields)) or "none"
            raise FilterError(f"Unknown property “{name}”; the queryable properties are: {known}.")
        kind = self.fields[name]
        self.params.append(name)
        # The import writes integer/real/boolean attributes as JSON numbers/booleans or null
        # (layers/ingest/encode.py), so one lookup and a cast is safe; a stray value would be
        # a DataError, answered 400 by the view.
        if kind in NUMERIC:
            return "(properties ->> %s)::float8", "number"
        if kind == "boolean":
            return "(properties ->> %s)::boolean", "boolean"
        return "(properties ->> %s)", "text"

    def _literal(self, node: Any, kind: str) -> str:
        if isinstance(node, ast.Function) and node.name.lower() in ("lower", "casei"):
            return f"lower({self._literal(node.arguments[0], 'text')})"
        if isinstance(node, ast.Node | values.Geometry | values.Envelope):
            raise FilterError(f"Expected a value, found {node!r}.")
        if kind == "number":
            if isinstance(node, bool) or not isinstance(node, int | float):
                raise FilterError(f"{node!r} is not a number; this property holds numbers.")
            self.params.append(float(node))
            return "%s::float8"
        if kind == "boolean":
            if not isinstance(node, bool):
                raise FilterError(f"{node!r} is not true or false; this property holds booleans.")
            self.params.append(node)
            return "%s::boolean"
        if isinstance(node, datetime):
            self.params.append(node.isoformat().replace("+00:00", "Z"))
        elif isinstance(node, date):
            self.params.append(node.isoformat())
        elif isinstance(node, str | int | float | bool):
            self.params.append(str(node).lower() if isinstance(node, bool) else str(node))
        else:
            raise FilterError(f"{node!r} cannot be compared with a property.")
        return "%s::text"

    def _operands(self, lhs: Any, rhs: Any) -> tuple[str, str]:
        if not isinstance(lhs, ast.Attribute | ast.Function) and isinstance(
            rhs, ast.Attribute | ast.Function
        ):
            lhs, rhs = rhs, lhs
        left, kind = self._attribute(lhs)
        return left, self._literal(rhs, kind)

    # --- predicates

    def _comparison(self, node: Any) -> str:
        op = COMPARISON[type(node)]
        swapped = not isinstance(node.lhs, ast.Attribute | ast.Function)
        if swapped:  # 5 < value  ==  value > 5
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        left, right = self._operands(node.lhs, node.rhs)
        return f"({left} {op} {right})"

    def _like(self, node: ast.Like) -> str:
        left, _kind = self._attribute(node.lhs)
        if not isinstance(node.pattern, str):
            raise FilterError("LIKE takes a text pattern, e.g. name LIKE 'Main%'.")
        self.params.append(node.pattern)
        op = "NOT LIKE" if node.not_ else "LIKE"
        if node.nocase:
            return f"(lower({left}::text) {op} lower(%s))"
        return f"({left}::text {op} %s)"

    def _in(self, node: ast.In) -> str:
        left, kind = self._attribute(node.lhs)
        items = [self._literal(v, kind) for v in node.sub_nodes]
        if not items:
            raise FilterError("IN needs at least one value.")
        op = "NOT IN" if node.not_ else "IN"
        return f"({left} {op} ({', '.join(items)}))"

    def _between(self, node: ast.Between) -> str:
        left, kind = self._attribute(node.lhs)
        low, high = self._literal(node.low, kind), self._literal(node.high, kind)
        op = "NOT BETWEEN" if node.not_ else "BETWEEN"
        return f"({left} {op} {low} AND {high})"

    def _is_null(self, node: ast.IsNull) -> str:
        if not isinstance(node.lhs, ast.Attribute) or node.lhs.name not in self.fields:
            self._attribute(node.lhs)  # raises the right message
        self.params.append(node.lhs.name)
        test = "(properties -> %s IS NULL OR jsonb_typeof(properties -> %s) = 'null')"
        self.params.append(node.lhs.name)
        return f"(NOT {test})" if node.not_ else test

    # --- spatial

    def _geometry(self, node: Any) -> str:
        """SQL of a geometry literal, transformed from filter-crs to storage (EPSG:4326)."""
        if isinstance(node, ast.Function) and node.name.lower() in ("bbox", "envelope"):
            coords = node.arguments
            if len(coords) == 6:
                coords = [coords[0], coords[1], coords[3], coords[4]]
            if len(coords) != 4 or not all(isinstance(c, int | float) for c in coords):
                raise FilterError("BBOX takes 4 numbers: minx, miny, maxx, maxy.")
            x1, y1, x2, y2 = (float(c) for c in coords)
            geojson: dict[str, Any] = {
                "type": "Polygon",
                "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]],
            }
        elif isinstance(node, values.Envelope | values.Geometry):
            geojson = node.geometry
        else:
            raise FilterError(f"Expected a geometry (WKT, GeoJSON or BBOX), found {node!r}.")
        self.params.append(json.dumps(_lists(geojson)))
        self.params.append(self.crs.srid)
        literal = "ST_SetSRID(ST_GeomFromGeoJSON(%s), %s)"
        if self.crs.lat_first:
            literal = f"ST_FlipCoordinates({literal})"
        if self.crs.srid != DEFAULT_CRS.srid:
            literal = f"ST_Transform({literal}, 4326)"
        return literal

    def _spatial(self, node: Any) -> str:
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        if not isinstance(lhs, ast.Attribute) or lhs.name.lower() not in GEOMETRY_NAMES:
            raise FilterError("Spatial functions compare the property “geometry” with a geometry.")
        return f"{SPATIAL[type(node)]}(geom, {self._geometry(rhs)})"


def _lists(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


def filter_sql(
    text: str, lang: str | None, fields: dict[str, str], crs: Crs = DEFAULT_CRS
) -> tuple[str, list[Any]]:
    """(SQL condition, params) of a CQL2 filter, or FilterError."""
    translator = SqlFilter(fields=fields, crs=crs)
    try:
        sql = translator.translate(parse_filter(text, lang))
    except RecursionError as exc:
        raise FilterError("The filter is nested too deeply.") from exc
    return sql, translator.params
