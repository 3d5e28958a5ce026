"""What travels over the pipes between the parent, worker hosts, task and scoring
processes: length-prefixed frames, and the safe reply format (JSON + raw float64,
:func:`pack`/:func:`unpack`) that the parent reads without ever unpickling."""

from __future__ import annotations

import json
import os
import select
import struct
import time

import numpy as np

# -- framing over pipes -------------------------------------------------------------

_LEN = struct.Struct("<Q")


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _send_frame(fd, data):
    _write_all(fd, _LEN.pack(len(data)))
    _write_all(fd, data)


def _wait_readable(fd, deadline):
    if deadline is None:
        return
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            return


def _read_into(fd, view, deadline=None):
    while view:
        _wait_readable(fd, deadline)
        n = os.readv(fd, [view])
        if n == 0:
            raise EOFError("pipe closed")
        view = view[n:]


def _recv_frame(fd, deadline=None, max_size=None) -> bytes:
    head = bytearray(_LEN.size)
    _read_into(fd, memoryview(head), deadline)
    (size,) = _LEN.unpack(head)
    if max_size is not None and size > max_size:
        raise ValueError(f"reply of {size} bytes exceeds the limit of {max_size}")
    body = bytearray(size)
    _read_into(fd, memoryview(body), deadline)
    return bytes(body)


# -- the safe reply format: JSON + raw float64 (never unpickled by the parent) ------------

def pack(meta: dict, arrays: dict | None = None) -> bytes:
    """Serialise ``meta`` (JSON) and float64 arrays without pickle."""
    index, chunks, offset = [], [], 0
    for name, arr in (arrays or {}).items():
        arr = np.ascontiguousarray(arr, dtype=np.float64)
        raw = arr.tobytes()
        index.append([str(name), list(arr.shape), offset, len(raw)])
        chunks.append(raw)
        offset += len(raw)
    head = json.dumps({"meta": meta, "arrays": index}, default=repr).encode()
    return _LEN.pack(len(head)) + head + b"".join(chunks)


def unpack(data: bytes) -> tuple[dict, dict]:
    """Inverse of :func:`pack`; validates everything (the data may come from user code)."""
    data = memoryview(data)
    (hlen,) = _LEN.unpack(data[:_LEN.size])
    head = json.loads(bytes(data[_LEN.size:_LEN.size + hlen]))
    if not isinstance(head, dict) or not isinstance(head.get("meta"), dict):
        raise ValueError("malformed reply")
    body = data[_LEN.size + hlen:]
    arrays = {}
    for item in head.get("arrays", []):
        name, shape, offset, size = item
        shape = tuple(int(s) for s in shape)
        if any(s < 0 for s in shape) or int(np.prod(shape, dtype=np.int64)) * 8 != size \
                or offset < 0 or offset + size > len(body):
            raise ValueError(f"malformed array {name!r} in reply")
        arrays[str(name)] = np.frombuffer(body[offset:offset + size], dtype=np.float64).reshape(shape).copy()
    return head["meta"], arrays
