"""One JSON sanitiser and one stable hash of JSON-able data (used by the forecaster
contract, the runner's records and its scoring)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping

import numpy as np

__all__ = ["jsonable", "params_hash"]


def jsonable(value):
    """``value`` as JSON-compatible data: numpy scalars/arrays become Python values,
    NaN/inf become None, tuples become lists, other objects their ``repr``."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def params_hash(payload) -> str:
    """Short stable hash of a JSON-able object (key order does not matter)."""
    text = json.dumps(jsonable(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:8]
