"""CQL2 (text and JSON) filters, parsed by maintained libraries, translated to parameterised SQL.

CQL2 text is read by `cql2` (cql2-rs, the standard's grammar) into CQL2 JSON; CQL2 JSON becomes
pygeofilter's AST, with the operators pygeofilter 0.4 lacks or misreads (S_DWITHIN, the T_*
functions, the A_* array functions) built here as our own nodes. The translation is our own
small visitor: every value, attribute name and geometry travels as a query parameter; only
operators and SQL keywords are written into the statement. Anything this visitor does not know
is a FilterError naming it (the view answers 400), never a 500.
"""

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import cql2
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json.parser import walk_cql_json

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


# Allen's interval relations as the CQL2 standard defines them (OGC 21-065, temporal functions),
# a = the property (an instant: start = end), b = the literal (an instant or an interval whose
# open ends are ".."). Each relation is alternatives (OR) of conjunctions of (a end, op, b end).
TEMPORAL: dict[str, list[list[tuple[str, str, str]]]] = {
    "t_after": [[("s", ">", "e")]],
    "t_before": [[("e", "<", "s")]],
    "t_contains": [[("s", "<", "s"), ("e", ">", "e")]],
    "t_disjoint": [[("s", ">", "e")], [("e", "<", "s")]],
    "t_during": [[("s", ">", "s"), ("e", "<", "e")]],
    "t_equals": [[("s", "=", "s"), ("e", "=", "e")]],
    "t_finishedby": [[("s", "<", "s"), ("e", "=", "e")]],
    "t_finishes": [[("s", ">", "s"), ("e", "=", "e")]],
    "t_intersects": [[("s", "<=", "e"), ("e", ">=", "s")]],
    "t_meets": [[("e", "=", "s")]],
    "t_metby": [[("s", "=", "e")]],
    "t_overlappedby": [[("s", ">", "s"), ("s", "<", "e"), ("e", ">", "e")]],
    "t_overlaps": [[("s", "<", "s"), ("e", ">", "s"), ("e", "<", "e")]],
    "t_startedby": [[("s", "=", "s"), ("e", ">", "e")]],
    "t_starts": [[("s", "=", "s"), ("e", "<", "e")]],
}
# Names of the CQL2 drafts that clients still send.
TEMPORAL_ALIASES = {"t_begins": "t_starts", "t_begunby": "t_startedby", "t_ends": "t_finishes",
                    "t_endedby": "t_finishedby"}  # fmt: skip
ARRAY_OPS = ("a_equals", "a_contains", "a_containedby", "a_overlaps")
# S_DWITHIN's optional fourth argument: a unit name -> metres.
UNITS = {"m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0, "km": 1000.0,
         "kilometer": 1000.0, "kilometers": 1000.0, "kilometre": 1000.0, "kilometres": 1000.0,
         "ft": 0.3048, "feet": 0.3048, "foot": 0.3048, "us-ft": 1200 / 3937, "ftus": 1200 / 3937,
         "mi": 1609.344, "mile": 1609.344, "miles": 1609.344}  # fmt: skip
PLAIN_OPS = {"and", "or", "not", "isnull", "between", "like", "in", "casei", "lower",
             "=", "<>", "<", "<=", ">", ">=", "s_intersects", "s_disjoint", "s_contains",
             "s_within", "s_touches", "s_crosses", "s_overlaps", "s_equals"}  # fmt: skip
ARITHMETIC = {"+", "-", "*", "/", "%", "div", "^"}
METRES_PER_DEGREE_LAT = 110_574.0  # the shortest degree of latitude (at the equator)
METRES_PER_DEGREE_LON = 111_320.0  # a degree of longitude at the equator


class FilterError(ValueError):
    pass


class Temporal(ast.Node):
    """T_<op>(property, DATE/TIMESTAMP/INTERVAL literal)."""

    def __init__(self, op: str, lhs: Any, rhs: Any) -> None:
        self.op, self.lhs, self.rhs = op, lhs, rhs


class DistanceWithin(ast.Node):
    """S_DWITHIN(geometry, geometry literal, distance[, unit])."""

    def __init__(self, lhs: Any, rhs: Any, distance: Any, units: Any) -> None:
        self.lhs, self.rhs, self.distance, self.units = lhs, rhs, distance, units


class ArrayOp(ast.Node):
    def __init__(self, op: str) -> None:
        self.op = op


def _normalise_json(node: Any) -> Any:
    """CQL2 JSON as pygeofilter 0.4 reads it: bbox arrays, three-argument BETWEEN, lower-case
    operators (cql2-rs writes S_DWITHIN), and our own nodes for the operators in `_special_op`."""
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
    if isinstance(node.get("op"), str):
        special = _special_op(node["op"].lower(), node.get("args"))
        if special is not None:
            return special
    out = {k: _normalise_json(v) for k, v in node.items()}
    if isinstance(out.get("op"), str):
        out["op"] = "isNull" if out["op"].lower() == "isnull" else out["op"].lower()
    if out.get("op") == "between" and isinstance(out.get("args"), list):
        args = out["args"]
        if len(args) == 3:
            out["args"] = [args[0], [args[1], args[2]]]
    return out


def _args(args: Any, count: tuple[int, ...], op: str) -> list[Any]:
    if not isinstance(args, list) or len(args) not in count:
        raise FilterError(f"{op.upper()} takes {' or '.join(map(str, count))} arguments.")
    return [walk_cql_json(_normalise_json(a)) for a in args]


def _special_op(op: str, args: Any) -> ast.Node | None:
    """Our own nodes for what pygeofilter 0.4 lacks or misreads (it reads T_INTERSECTS as
    T_OVERLAPS); a 400 naming any operator this server does not evaluate."""
    op = TEMPORAL_ALIASES.get(op, op)
    if op in TEMPORAL:
        lhs, rhs = _args(args, (2,), op)
        return Temporal(op, lhs, rhs)
    if op == "s_dwithin":
        lhs, rhs, distance, *units = _args(args, (3, 4), op)
        return DistanceWithin(lhs, rhs, distance, units[0] if units else None)
    if op in ARRAY_OPS:
        return ArrayOp(op)
    if op in ARITHMETIC:
        raise FilterError(f"The filter uses arithmetic ({op}), which this server does not support.")
    if op not in PLAIN_OPS:
        raise FilterError(
            f"The filter uses {op.upper()}, which this server does not support; see /conformance "
            "for the CQL2 classes served."
        )
    return None


def _read_error(exc: Exception, lang: str) -> FilterError:
    """A one-line reason from a parser's (often multi-line, pointing) message."""
    lines = [x.strip(" |^-") for x in str(exc).strip().splitlines()]
    where = next((x.strip(" ->") for x in lines if x.startswith(">")), "")
    reason = next((x.lstrip("= ") for x in lines if x.startswith("=")), "") or (
        lines[0] if lines and lines[0] else type(exc).__name__
    )
    at = f" at line:column {where}" if where and ":" in where else ""
    return FilterError(f"The {lang} filter could not be read{at}: {reason[:300]}")


def parse_filter(text: str, lang: str | None) -> ast.Node:
    lang = (lang or "cql2-text").strip().lower()
    if lang == LEGACY_TEXT_LANG:
        lang = "cql2-text"
    if lang not in FILTER_LANGS:
        raise FilterError(f"filter-lang must be one of {', '.join(FILTER_LANGS)}, not {lang!r}.")
    try:
        from pygeofilter.parsers.cql2_json import parse as parse_json

        if lang == "cql2-json":
            try:
                document = json.loads(text)
            except json.JSONDecodeError as exc:
                raise FilterError(f"The CQL2 JSON filter is not valid JSON: {exc.msg}.") from exc
            return parse_json(_normalise_json(document))
        try:
            document = cql2.parse_text(text).to_json()
        except Exception as exc:  # cql2.ParseError and friends: the text is malformed
            raise _read_error(exc, lang) from exc
        return parse_json(_normalise_json(document))
    except FilterError:
        raise
    except Exception as exc:  # pygeofilter raises many kinds; all mean "malformed"
        raise _read_error(exc, lang) from exc


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
            Temporal: self._temporal,
            DistanceWithin: self._dwithin,
            ArrayOp: self._array,
        }
        for kind, handler in simple.items():
            if isinstance(node, kind):
                return handler
        if isinstance(node, bool):
            return lambda n: "TRUE" if n else "FALSE"
        name = type(node).__name__
        raise FilterError(
            f"The filter uses {name}, which this server does not support; use comparisons, "
            "AND/OR/NOT, LIKE, IN, BETWEEN, IS NULL, CASEI, the S_* spatial functions, "
            "S_DWITHIN and the T_* temporal functions."
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
        elif isinstance(node, float) and node.is_integer():
            self.params.append(str(int(node)))  # cql2-rs reads 12 as 12.0: "apn = 12" means "12"
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

    def _geometry(self, node: Any, *, to_storage: bool = True) -> str:
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
        if self.crs.srid != DEFAULT_CRS.srid and to_storage:
            literal = f"ST_Transform({literal}, 4326)"
        return literal

    def _spatial(self, node: Any) -> str:
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        if not isinstance(lhs, ast.Attribute) or lhs.name.lower() not in GEOMETRY_NAMES:
            raise FilterError("Spatial functions compare the property “geometry” with a geometry.")
        return f"{SPATIAL[type(node)]}(geom, {self._geometry(rhs)})"

    def _dwithin(self, node: DistanceWithin) -> str:
        """Metres on the ground (geography) for a geographic filter-crs or a named unit, else the
        filter-crs's own units (feet for a state plane zone), each behind an index-usable box."""
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        if not isinstance(lhs, ast.Attribute) or lhs.name.lower() not in GEOMETRY_NAMES:
            raise FilterError("S_DWITHIN compares the property “geometry” with a geometry.")
        distance = node.distance
        if isinstance(distance, bool) or not isinstance(distance, int | float):
            raise FilterError("S_DWITHIN takes a distance as a number, e.g. 100.")
        if not (math.isfinite(distance) and distance >= 0):
            raise FilterError("S_DWITHIN: the distance is a finite number, 0 or more.")
        factor = None
        if node.units is not None:
            # A bare word (km) reads as a property name; a quoted one ('km') as text.
            unit = node.units.name if isinstance(node.units, ast.Attribute) else node.units
            factor = UNITS.get(str(unit).strip().lower())
            if factor is None:
                raise FilterError(
                    f"S_DWITHIN: unknown unit {unit!r}; use one of m, km, ft, us-ft, mi."
                )
        if factor is None and self.crs.srid != DEFAULT_CRS.srid:
            # Projected filter-crs: its own units, measured in that projection.
            start = len(self.params)
            literal = self._geometry(rhs, to_storage=False)
            geometry_params = self.params[start:]
            self.params += [distance, self.crs.srid, *geometry_params, distance]
            return (
                f"(geom && ST_Transform(ST_Expand({literal}, %s), 4326) AND "
                f"ST_DWithin(ST_Transform(geom, %s), {literal}, %s))"
            )
        metres = float(distance) * (factor or 1.0)
        start = len(self.params)
        literal = self._geometry(rhs)
        geometry_params = self.params[start:]
        lat = _max_abs_lat(geometry_params[0], self.crs.lat_first) if self.crs.srid == 4326 else 90
        dlat = metres / METRES_PER_DEGREE_LAT * 1.01
        reach = lat + dlat
        dlon = 360.0 if reach >= 89 else dlat / max(math.cos(math.radians(reach)), 1e-6)
        self.params += [dlon, dlat, *geometry_params, metres]
        return (
            f"(geom && ST_Expand({literal}, %s, %s) AND "
            f"ST_DWithin(geom::geography, ({literal})::geography, %s))"
        )

    def _temporal(self, node: Temporal) -> str:
        if not isinstance(node.lhs, ast.Attribute):
            raise FilterError(f"{node.op.upper()} takes a date property first, then a date, "
                              "timestamp or interval.")  # fmt: skip
        name = node.lhs.name
        kind = self.fields.get(name)
        if kind is None:
            self._attribute(node.lhs)  # raises the "unknown property" message
        if kind not in ("date", "datetime"):
            raise FilterError(
                f"{node.op.upper()} compares dates; “{name}” holds {kind} values. Date "
                f"properties: {', '.join(n for n, k in self.fields.items() if k in ('date', 'datetime')) or 'none'}."
            )
        bounds = _interval(node.rhs, node.op)
        terms = []
        for alternative in TEMPORAL[node.op]:
            parts = []
            for _a_end, op, b_end in alternative:
                bound = bounds[0] if b_end == "s" else bounds[1]
                if bound is None:  # an open end: -infinity (start) or +infinity (end)
                    truth = op in ((">", ">=") if b_end == "s" else ("<", "<="))
                    parts.append("TRUE" if truth else "FALSE")
                    continue
                self.params += [name, bound]
                parts.append(f"((properties ->> %s)::timestamptz {op} %s::timestamptz)")
            terms.append("(" + " AND ".join(parts) + ")")
        return "(" + " OR ".join(terms) + ")"

    def _array(self, node: ArrayOp) -> str:
        raise FilterError(
            f"{node.op.upper()}: the layers of this server have no array properties, so array "
            "functions are not offered."
        )


def _max_abs_lat(geojson: str, lat_first: bool) -> float:
    coords: list[float] = []

    def walk(value: Any) -> None:
        if isinstance(value, list) and value and all(isinstance(v, int | float) for v in value):
            coords.append(abs(float(value[0] if lat_first else value[1])))
        elif isinstance(value, list):
            for v in value:
                walk(v)

    data = json.loads(geojson)
    walk(data.get("coordinates"))
    for part in data.get("geometries", []):
        walk(part.get("coordinates"))
    return min(90.0, max(coords, default=90.0))


def _instant(value: Any, op: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        raise FilterError(f"{op.upper()}: intervals with durations are not supported; give dates.")
    raise FilterError(
        f"{op.upper()} takes DATE('…'), TIMESTAMP('…') or INTERVAL('…', '…'), not {value!r}."
    )


def _interval(value: Any, op: str) -> tuple[str | None, str | None]:
    """(start, end) of a temporal literal; None for an open end; an instant is (t, t)."""
    if isinstance(value, values.Interval):
        start, end = _instant(value.start, op), _instant(value.end, op)
        return start, end
    if value is None:
        raise FilterError(f"{op.upper()} needs a date, timestamp or interval.")
    instant = _instant(value, op)
    return instant, instant


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
