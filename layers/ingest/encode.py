"""Arrow batch → PostgreSQL binary COPY rows, vectorised: no Python work per feature on the common path."""

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # string, integer, real, boolean, date, datetime, time, binary, other


def field_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "real"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_timestamp(arrow_type):
        return "datetime"
    if pa.types.is_time(arrow_type):
        return "time"
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return "binary"
    return "other"


def _python_json(column: pa.Array) -> pa.Array:
    # Rare path (control characters, lists, binaries): exact JSON from the standard library.
    def dump(value: object) -> str:
        if isinstance(value, bytes):
            value = value.hex()
        return json.dumps(value, ensure_ascii=False, default=str)

    return pa.array([dump(v) for v in column.to_pylist()], type=pa.string())


def _json_values(column: pa.Array, kind: str) -> pa.Array:
    """Each value as JSON text; nulls as `null`."""
    if kind == "integer":
        out = pc.cast(column, pa.string())
    elif kind == "real":
        values = pc.cast(column, pa.float64())
        out = pc.if_else(pc.is_finite(values), pc.cast(values, pa.string()), None)
    elif kind == "boolean":
        out = pc.cast(column, pa.string())
    elif kind in {"string", "date", "datetime", "time"}:
        text = pc.cast(column, pa.string())
        # Most text needs no escaping at all: one scan decides, the rewrites run only if needed.
        if kind == "string" and pc.any(pc.match_substring_regex(text, r'[\x00-\x1f"\\]')).as_py():
            if pc.any(pc.match_substring_regex(text, r"[\x00-\x1f]")).as_py():
                return _python_json(text)
            text = pc.replace_substring(text, "\\", "\\\\")
            text = pc.replace_substring(text, '"', '\\"')
        out = pc.binary_join_element_wise('"', text, '"', "")
    else:
        return _python_json(column)
    return pc.fill_null(out, "null")


def properties_json(batch: pa.RecordBatch, fields: list[Field]) -> pa.Array:
    """One JSON object per row, built column-wise with Arrow string kernels."""
    if not fields:
        return pa.array(["{}"] * batch.num_rows, type=pa.string())
    parts: list[object] = []
    for i, field in enumerate(fields):
        key = json.dumps(field.name, ensure_ascii=False)
        parts.append(("{" if i == 0 else ",") + key + ":")
        parts.append(_json_values(batch.column(field.name), field.type))
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")


# PostgreSQL binary COPY: signature, flags, header extension; then rows; the trailer is psycopg's.
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_ROW_HEAD = np.dtype([("fields", ">i2"), ("fid_len", ">i4"), ("fid", ">i8"), ("geom_len", ">i4")])
_JSON_HEAD = np.dtype([("len", ">i4"), ("version", "u1")])


def _fixed(records: np.ndarray) -> pa.Array:
    width = records.dtype.itemsize
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(width), len(records), [None, pa.py_buffer(records.tobytes())]
    ).cast(pa.binary())


def copy_payload(fids: np.ndarray, geoms: pa.Array, props: pa.Array) -> memoryview:
    """Binary COPY rows (fid int8, geom EWKB, properties jsonb) as one contiguous buffer.

    Binary rows need no escaping and carry geometries as raw EWKB, half the bytes of hex text.
    """
    n = len(fids)
    geom_offsets, _ = _binary_parts(geoms)
    props = props.cast(pa.binary())
    json_offsets, _ = _binary_parts(props)
    head = np.empty(n, dtype=_ROW_HEAD)
    head["fields"] = 3
    head["fid_len"] = 8
    head["fid"] = fids
    head["geom_len"] = np.diff(geom_offsets)
    json_head = np.empty(n, dtype=_JSON_HEAD)
    json_head["len"] = np.diff(json_offsets) + 1
    json_head["version"] = 1
    rows = pc.binary_join_element_wise(
        _fixed(head), geoms, _fixed(json_head), props, pa.scalar(b"", pa.binary())
    )
    offsets, data = _binary_parts(rows)
    return data.data


def _binary_parts(wkb: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    wkb = wkb.cast(pa.binary()) if not pa.types.is_binary(wkb.type) else wkb
    offsets = np.frombuffer(wkb.buffers()[1], dtype=np.int32)[
        wkb.offset : wkb.offset + len(wkb) + 1
    ]
    data = np.frombuffer(wkb.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return offsets - offsets[0], data


def is_little_endian_wkb(wkb: pa.Array) -> bool:
    if wkb.null_count:
        return False
    offsets, data = _binary_parts(wkb)
    return bool(len(data) == 0 or np.all(data[offsets[:-1]] == 1))


def ewkb(wkb: pa.Array) -> pa.Array:
    """Little-endian (ISO or extended) WKB → EWKB with SRID 4326, as PostGIS receives it.

    Arrow splices the SRID in after each 5-byte header; the SRID flag goes into the type's high
    byte. No per-geometry Python work.
    """
    offsets, data = _binary_parts(wkb)
    n = len(offsets) - 1
    flag = (data[offsets[:-1] + 4] | 0x20).astype(np.uint8)
    flags = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(1), n, [None, pa.py_buffer(flag.tobytes())]
    ).cast(pa.binary())
    return pc.binary_join_element_wise(
        pc.binary_slice(wkb, 0, 4),
        flags,
        pa.scalar(b"\xe6\x10\x00\x00", pa.binary()),
        pc.binary_slice(wkb, 5, 1 << 30),
        pa.scalar(b"", pa.binary()),
    )


def point_coordinates(wkb: pa.Array) -> np.ndarray | None:
    """(n, 2) coordinates when every row is a little-endian 2D point, else None (general path)."""
    if wkb.null_count or len(wkb) == 0:
        return None
    offsets, data = _binary_parts(wkb)
    if len(data) != 21 * (len(offsets) - 1):
        return None
    rows = data.reshape(-1, 21)
    if not (np.all(rows[:, 0] == 1) and np.all(rows[:, 1] == 1) and not rows[:, 2:5].any()):
        return None
    return np.ascontiguousarray(rows[:, 5:21]).view("<f8").reshape(-1, 2)


def point_ewkb(xy: np.ndarray) -> pa.Array:
    """EWKB of 2D points in SRID 4326, built directly from coordinates."""
    n = len(xy)
    out = np.empty((n, 25), dtype=np.uint8)
    out[:, :9] = np.frombuffer(bytes.fromhex("0101000020E6100000"), dtype=np.uint8)
    out[:, 9:] = np.ascontiguousarray(xy, dtype="<f8").view(np.uint8).reshape(n, 16)
    return pa.BinaryArray.from_buffers(
        pa.binary(),
        n,
        [
            None,
            pa.py_buffer((np.arange(n + 1, dtype=np.int32) * 25).tobytes()),
            pa.py_buffer(out.tobytes()),
        ],
    )
