"""Declared parameter constraints, checked by :class:`Forecaster.fit` (the idea of
scikit-learn's ``_parameter_constraints``).

A forecaster declares, for each constructor parameter, a list of accepted kinds of
value; a value is valid if any entry accepts it::

    _parameter_constraints = {
        "lags": [Interval(int, 1, None)],             # integer >= 1
        "alpha": [Interval(float, 0, None)],          # finite real >= 0
        "leak": [Interval(float, 0, 1, closed="right")],  # 0 < leak <= 1
        "period": [Interval(int, 1, None), "info", "auto"],  # literals compare by ==
        "window": [None, Interval(int, 1, None)],
        "square": [bool],                             # a type: isinstance
    }
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np


class Interval:
    """Numbers of ``kind`` (``int``: integers; ``float``: any finite real) in
    ``[low, high]``; ``None`` for an open end, ``closed`` in "both", "left", "right",
    "neither" says which ends are included.  Booleans are never numbers here."""

    def __init__(self, kind, low=None, high=None, *, closed="both"):
        if kind not in (int, float):
            raise TypeError(f"Interval kind must be int or float, got {kind!r}")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be 'both', 'left', 'right' or 'neither', got {closed!r}")
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        base = numbers.Integral if self.kind is int else numbers.Real
        if not isinstance(value, base) or not math.isfinite(value):
            return False
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self):
        what = "an integer" if self.kind is int else "a finite number"
        lo = None if self.low is None else (">=" if self.closed in ("both", "left") else ">") + f" {self.low}"
        hi = None if self.high is None else ("<=" if self.closed in ("both", "right") else "<") + f" {self.high}"
        bounds = [b for b in (lo, hi) if b]
        return what + (" " + " and ".join(bounds) if bounds else "")


class Check:
    """A custom constraint: ``test(value) -> bool`` described by ``text``."""

    def __init__(self, test, text: str):
        self.test, self.text = test, text

    def accepts(self, value) -> bool:
        try:
            return bool(self.test(value))
        except Exception:
            return False

    def __str__(self):
        return self.text


def _accepts(constraint, value) -> bool:
    if isinstance(constraint, (Interval, Check)):
        return constraint.accepts(value)
    if constraint is bool:
        return isinstance(value, (bool, np.bool_))
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    if constraint is None:
        return value is None
    # a literal: same kind (text or number, never a boolean) and equal
    if isinstance(value, (bool, np.bool_)) or isinstance(value, str) != isinstance(constraint, str):
        return False
    try:
        return bool(value == constraint)
    except Exception:
        return False


def _describe(constraint) -> str:
    if isinstance(constraint, type):
        return "True or False" if constraint is bool else f"a {constraint.__name__}"
    return str(constraint) if isinstance(constraint, (Interval, Check)) else repr(constraint)


def check_params(owner: str, params: Mapping, constraints: Mapping) -> None:
    """Raise ValueError naming the first parameter whose value no declared constraint
    accepts (parameters without a declaration are not checked)."""
    for name, value in params.items():
        allowed = constraints.get(name)
        if allowed is None or any(_accepts(c, value) for c in allowed):
            continue
        options = " or ".join(_describe(c) for c in allowed)
        raise ValueError(f"{owner}: parameter {name!r} must be {options}, got {value!r}")


def check_declaration(owner: str, constraints) -> None:
    """A class's ``_parameter_constraints`` must map names to non-empty lists."""
    if not isinstance(constraints, Mapping) or not all(
            isinstance(v, (list, tuple)) and len(v) > 0 for v in constraints.values()):
        raise TypeError(f"{owner}._parameter_constraints must map parameter names to non-empty lists")
