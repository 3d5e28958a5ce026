"""Constructors made from a declared table of parameters.

Entries whose parameters are data (a table of defaults and accepted values) get an
``__init__`` with an explicit signature, as a hand-written scikit-learn constructor
would have: :meth:`Forecaster.get_params`, ``clone`` and the misspelt-keyword message
read the names from it, and every parameter is stored under its own name.
"""

from __future__ import annotations

import inspect


def declared_init(owner: type, defaults: dict):
    """An ``__init__`` for ``owner`` taking ``defaults``' keys (in order, with those
    defaults), storing each as an attribute and then calling ``self._after_init()``
    where the class has one."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    signature = inspect.Signature([inspect.Parameter("self", kind)] +
                                  [inspect.Parameter(k, kind, default=v) for k, v in defaults.items()])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for key, value in list(bound.arguments.items())[1:]:
            setattr(self, key, value)
        after = getattr(self, "_after_init", None)
        if after is not None:
            after()

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{owner.__qualname__}.__init__"
    __init__.__module__ = owner.__module__
    return __init__
