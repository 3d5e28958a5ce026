"""Parquet files, the manifest and their verification.

Layout under a dataset root::

    _manifest.json
    split=train/noise=none/system=Lorenz/part-0.parquet
    split=test/noise=none/system=Lorenz/part-0.parquet
    split=test/noise=dynamical/system=Lorenz/part-0.parquet
    ...

Every file has the same schema, so that pandas, ``pyarrow.dataset``, DuckDB, Dask and
Spark read the whole tree as one table with no schema-merging options (files with
different column sets are silently truncated to the first file's columns by most of
them): ``series`` int32, ``time`` int32 (sample index within the series) and ``x0 ..
x{width-1}`` float32, of which ``x{stored_dim} ..`` are null. Rows are ordered by (series,
time). Encoding: zstd (level 19), no dictionary encoding, BYTE_STREAM_SPLIT for the float
columns, DELTA_BINARY_PACKED for the integer ones, statistics for ``series`` and ``time``
only, one row group per file, no embedded Arrow schema (plain Parquet types only).

Format 2 (generator version 2) stores nothing that is derivable:

* no time-unit column: sample ``time`` of series ``k`` is at ``time_origin[k] + dt *
  (time_index0[k] + time)`` (metadata), which is bitwise the float64 time the generator
  integrated at (:func:`~dysts_bench.dataset.protocol.series_times`; readers of this
  package add it as column ``t``);
* delay systems hold their scalar series (``x0 .. x{d-1}``), ``time`` running from
  ``-stored_leading_samples``; the published-dimension embedding (column ``m E + j`` =
  variable ``m`` ``j L`` samples earlier) is rebuilt at load by re-indexing, which is
  exact (:func:`~dysts_bench.dataset.protocol.embed_stored`).

Schema metadata (UTF-8 JSON texts): ``dysts_bench`` (everything: config, system, split,
noise, dt, pts_per_period, Lyapunov time, initial conditions, seeds, attractor
statistics) and, for quick access, ``dt``, ``pts_per_period``,
``lyapunov_time_samples``, ``generator_version``, ``protocol_version``.

``_manifest.json`` (the leading underscore makes every Parquet reader skip it) records, per file, the sha256 of its bytes and ``values_sha256``, a
hash of the decoded columns that does not depend on the Parquet writer's version.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import atomic_write
from .protocol import (FORMAT, GENERATOR_VERSION, PROTOCOL_VERSION, Block, embed_stored,
                       series_times)

MANIFEST = "_manifest.json"  # "_": ignored by pyarrow, pandas, Dask and Spark readers
META_KEY = b"dysts_bench"


def relpath(split: str, noise: str, system: str) -> str:
    from ..registry import check_system_name
    check_system_name(system)  # the name is a path component: no "../" or "/"
    return f"split={split}/noise={noise}/system={system}/part-0.parquet"


# ----------------------------------------------------------------------- tables
def stored_values(block: Block) -> tuple[np.ndarray, int]:
    """What a file holds for a block: (values (n_series, lead + length, columns) float32,
    lead). Delay systems: their scalar series with ``lead`` leading samples."""
    meta = block.meta
    lead = int(meta.get("stored_leading_samples", 0))
    if lead or meta.get("delay"):
        if block.stored is None:
            raise ValueError(f"{meta.get('system')}: a delay-system block without its stored "
                             "scalar series cannot be written")
        return np.ascontiguousarray(block.stored, dtype=np.float32), lead
    return np.ascontiguousarray(block.values, dtype=np.float32), 0


def to_table(block: Block, width: int) -> pa.Table:
    """The Parquet table of a block (rows ordered by series, time)."""
    values, lead = stored_values(block)
    n_series, length, dim = values.shape
    if dim > width:
        raise ValueError(f"{block.meta.get('system')}: dimension {dim} exceeds the dataset width "
                         f"{width}; raise CanonicalConfig.width")
    if not np.array_equal(series_times(block.meta), block.t):
        raise ValueError(f"{block.meta.get('system')}: the block's times differ from those "
                         "its metadata describes (time_origin, time_index0, dt)")
    rows = n_series * length
    cols = {
        "series": pa.array(np.repeat(np.arange(n_series, dtype=np.int32), length)),
        "time": pa.array(np.tile(np.arange(-lead, length - lead, dtype=np.int32), n_series)),
    }
    flat = values.reshape(rows, dim)
    for i in range(width):
        cols[f"x{i}"] = pa.array(np.ascontiguousarray(flat[:, i])) if i < dim else pa.nulls(rows, pa.float32())
    meta = block.meta
    def text(v):
        return json.dumps(v, sort_keys=True, separators=(",", ":"))
    schema_meta = {
        META_KEY: text(meta).encode(),
        b"dt": text(meta["dt"]).encode(),
        b"pts_per_period": text(meta["pts_per_period"]).encode(),
        b"lyapunov_time_samples": text(meta["lyapunov_time_samples"]).encode(),
        b"generator_version": text(meta["generator_version"]).encode(),
        b"protocol_version": text(meta["protocol_version"]).encode(),
    }
    return pa.table(cols).replace_schema_metadata(schema_meta)


def table_bytes(table: pa.Table, compression_level: int = 19) -> bytes:
    floats = [name for name in table.column_names if name.startswith("x")]
    buf = io.BytesIO()
    encodings = {name: "BYTE_STREAM_SPLIT" for name in floats}
    encodings.update(series="DELTA_BINARY_PACKED", time="DELTA_BINARY_PACKED")
    # store_schema=False keeps the footer small (no base64 copy of the metadata in an
    # ARROW:schema entry); the key-value metadata is then added explicitly.
    metadata = table.schema.metadata or {}
    table = table.replace_schema_metadata(None)
    with pq.ParquetWriter(buf, table.schema, compression="zstd",
                          compression_level=compression_level, use_dictionary=False,
                          column_encoding=encodings, store_schema=False,
                          write_statistics=["series", "time"]) as writer:
        writer.write_table(table, row_group_size=max(1, table.num_rows))
        writer.add_key_value_metadata({k.decode(): v.decode() for k, v in metadata.items()})
    return buf.getvalue()


def values_digest(table: pa.Table, columns: int | None = None) -> str:
    """sha256 of the decoded series/time/x0..x{columns-1} columns (encoding-independent);
    ``columns`` defaults to the metadata's ``stored_dim``."""
    if columns is None:
        columns = json.loads(table.schema.metadata[META_KEY])["stored_dim"]
    h = hashlib.sha256()
    for name in ["series", "time", *[f"x{i}" for i in range(columns)]]:
        arr = table.column(name).to_numpy()
        h.update(name.encode())
        h.update(str(arr.dtype).encode())
        h.update(np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes())
    return h.hexdigest()


def block_digest(block: Block, width: int) -> str:
    return values_digest(to_table(block, width), stored_values(block)[0].shape[2])


def from_table(table: pa.Table) -> Block:
    meta = json.loads(table.schema.metadata[META_KEY])
    n_series, length = meta["n_series"], meta["length"]
    lead, columns = int(meta["stored_leading_samples"]), int(meta["stored_dim"])
    rows = lead + length
    if table.num_rows != n_series * rows:
        raise ValueError(f"{meta['system']}: {table.num_rows} rows, expected {n_series} x {rows}")
    values = np.empty((n_series * rows, columns), dtype=np.float32)
    for i in range(columns):
        values[:, i] = table.column(f"x{i}").to_numpy()
    values = values.reshape(n_series, rows, columns)
    t = series_times(meta)
    if lead or meta.get("delay"):
        return Block(embed_stored(values, meta), t, meta, stored=values)
    return Block(values, t, meta)


def read_block(path) -> Block:
    return from_table(pq.ParquetFile(path).read())


def read_meta(path) -> dict:
    return json.loads(pq.read_schema(path).metadata[META_KEY])


# ----------------------------------------------------------------------- files
def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_block(root, block: Block, width: int, compression_level: int = 19) -> tuple[str, dict]:
    """Write one block atomically; returns (relative path, manifest record)."""
    meta = block.meta
    rel = relpath(meta["split"], meta["noise"], meta["system"])
    table = to_table(block, width)
    data = table_bytes(table, compression_level)
    atomic_write(Path(root) / rel, data)
    return rel, {
        "sha256": sha256_bytes(data), "bytes": len(data),
        "values_sha256": values_digest(table, meta["stored_dim"]),
        "rows": table.num_rows, "system": meta["system"], "split": meta["split"],
        "noise": meta["noise"], "n_series": meta["n_series"], "length": meta["length"],
        "dim": meta["dim"], "columns": meta["stored_dim"],
    }


# --------------------------------------------------------------------- manifest
def new_manifest(config) -> dict:
    import platform

    import numba

    from .. import __version__
    return {
        "format": FORMAT, "protocol_version": PROTOCOL_VERSION,
        "generator_version": GENERATOR_VERSION, "config": config.to_dict(),
        "config_hash": config.fingerprint, "canonical": config.is_canonical,
        "layout": "split={split}/noise={noise}/system={system}/part-0.parquet",
        "environment": {"dysts_bench": __version__, "numpy": np.__version__,
                        "pyarrow": pa.__version__, "numba": numba.__version__,
                        "python": platform.python_version(), "machine": platform.machine()},
        "systems": {}, "files": {},
    }


def load_manifest(root) -> dict | None:
    path = Path(root) / MANIFEST
    if not path.is_file():
        return None
    with open(path) as fh:
        return json.load(fh)


def save_manifest(root, manifest: dict) -> None:
    manifest = dict(manifest)
    manifest["systems"] = dict(sorted(manifest["systems"].items()))
    manifest["files"] = dict(sorted(manifest["files"].items()))
    atomic_write(Path(root) / MANIFEST, json.dumps(manifest, indent=1, sort_keys=False) + "\n")


# ----------------------------------------------------------------------- verify
@dataclass
class VerifyReport:
    """Result of :func:`verify`. ``ok`` is True when every list is empty."""

    root: str
    checked: int = 0
    mismatched: list = field(default_factory=list)   # sha256 differs from the manifest
    missing: list = field(default_factory=list)      # in the manifest, not on disk
    unreadable: list = field(default_factory=list)   # (path, error): corrupt or truncated
    unexpected: list = field(default_factory=list)   # Parquet files not in the manifest
    derived_mismatched: list = field(default_factory=list)  # load-time variants differ

    @property
    def ok(self) -> bool:
        return not (self.mismatched or self.missing or self.unreadable or self.unexpected
                    or self.derived_mismatched)

    def __str__(self) -> str:
        if self.ok:
            return f"{self.root}: {self.checked} files OK"
        lines = [f"{self.root}: {self.checked} files checked, problems found"]
        for label, items in (("hash mismatch", self.mismatched), ("missing", self.missing),
                             ("unreadable", [f"{p} ({e})" for p, e in self.unreadable]),
                             ("not in manifest", self.unexpected),
                             ("derived variant differs", self.derived_mismatched)):
            lines += [f"  {label}: {item}" for item in items]
        return "\n".join(lines)


def verify(root, derived: bool = True) -> VerifyReport:
    """Check every file of a dataset against its manifest.

    Reports files whose sha256 does not match, files missing, files that cannot be read
    or decoded (corrupt, truncated), Parquet files that the manifest does not list and,
    with ``derived=True``, load-time variants (measurement noise) whose values no longer
    match the hashes recorded at generation.
    """
    root = Path(root)
    report = VerifyReport(str(root))
    try:
        manifest = load_manifest(root)
    except (ValueError, OSError) as exc:  # invalid JSON or bytes: the manifest is the finding
        report.unreadable.append((MANIFEST, f"{type(exc).__name__}: {exc}"[:200]))
        return report
    if manifest is None:
        report.missing.append(MANIFEST)
        return report
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        report.unreadable.append((MANIFEST, "not an object with a 'files' object"))
        return report
    files = manifest["files"]
    for rel, rec in files.items():
        path = root / rel
        report.checked += 1
        if not path.is_file():
            report.missing.append(rel)
            continue
        if sha256_file(path) != rec["sha256"]:
            report.mismatched.append(rel)
        try:
            table = pq.ParquetFile(path).read()
            if values_digest(table, rec.get("columns", rec["dim"])) != rec["values_sha256"] \
                    and rel not in report.mismatched:
                report.mismatched.append(rel)
        except Exception as exc:  # noqa: BLE001 - any failure to decode is the finding
            report.unreadable.append((rel, f"{type(exc).__name__}: {exc}"[:200]))
    listed = set(files)
    for path in sorted(root.rglob("*.parquet")):
        rel = path.relative_to(root).as_posix()
        if rel not in listed and not path.name.startswith("."):
            report.unexpected.append(rel)
    if derived and not (report.mismatched or report.unreadable or report.missing):
        from .protocol import CanonicalConfig
        from .simulation import add_measurement_noise
        config = CanonicalConfig.from_dict(manifest["config"])
        for name, rec in manifest.get("systems", {}).items():
            for key, digest in rec.get("derived", {}).items():
                split, noise = key.split("/")
                if noise != "measurement":
                    continue  # dynamical-noise derivation needs integration; not re-run here
                clean = read_block(root / relpath(split, "none", name))
                got = block_digest(add_measurement_noise(clean, config), config.width)
                if got != digest:
                    report.derived_mismatched.append(f"{name} {split}/{noise}")
    return report
