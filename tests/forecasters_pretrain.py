"""Test forecasters for the zero-shot track (loaded by the runner as path.py:Class)."""

import os

import numpy as np

from dysts_bench.forecaster import Forecaster


class CountingPretrain(Forecaster):
    """Appends its host's pid to ``log`` in each pretrain; refuses to fit unpretrained; its
    forecast is the number of corpus systems it saw (proof that the task used the
    pretrained instance)."""

    name = "counting_pretrain"
    family = "baseline"
    _parameter_constraints = {"log": [str]}

    def __init__(self, log=""):
        self.log = log

    def pretrain(self, corpus):
        with open(self.log, "a") as fh:
            fh.write(f"{os.getpid()} {corpus.id} {len(corpus.systems)}\n")
        self.seen_ = sum(1 for _ in corpus.series())

    def _fit(self, context, *, dt, info):
        if not hasattr(self, "seen_"):
            raise RuntimeError("not pretrained")
        self.dim_ = context.shape[1]

    def _predict(self, horizon):
        return np.full((horizon, self.dim_), float(self.seen_))


class DeclaredFoundation(Forecaster):
    """A model pretrained elsewhere that declares its data disjoint from the held-out systems."""

    name = "declared_foundation"
    family = "foundation"
    pretraining_data_disjoint = True

    def _fit(self, context, *, dt, info):
        self.last_ = context[-1]

    def _predict(self, horizon):
        return np.repeat(self.last_[None], horizon, axis=0)
