"""Test forecasters for the zero-shot track (loaded by the runner as path.py:Class)."""

import os

import numpy as np

from dysts_bench.forecaster import Forecaster


#: pretrain calls in this process (a worker host; its task processes inherit the count)
PRETRAINS = 0


class CountingPretrain(Forecaster):
    """Counts its pretrain calls per process and refuses to fit unpretrained. Its forecast
    says what the task process saw (the sandbox leaves no writable file to log to): column
    0 the pretrain calls of its host, column 1 a random token drawn by the pretraining
    (one per host), column 2 the number of corpus systems read."""

    name = "counting_pretrain"
    family = "baseline"

    def pretrain(self, corpus):
        global PRETRAINS
        PRETRAINS += 1
        self.token_ = float(int.from_bytes(os.urandom(2), "little"))
        self.seen_ = float(sum(1 for _ in corpus.series()))

    def _fit(self, context, *, dt, info):
        if not hasattr(self, "seen_"):
            raise RuntimeError("not pretrained")
        self.dim_ = context.shape[1]

    def _predict(self, horizon):
        row = np.zeros(self.dim_)
        row[:3] = [PRETRAINS, self.token_, self.seen_][:self.dim_]
        return np.repeat(row[None], horizon, axis=0)


class DeclaredFoundation(Forecaster):
    """A model pretrained elsewhere that declares its data disjoint from the held-out systems."""

    name = "declared_foundation"
    family = "foundation"
    pretraining_data_disjoint = True

    def _fit(self, context, *, dt, info):
        self.last_ = context[-1]

    def _predict(self, horizon):
        return np.repeat(self.last_[None], horizon, axis=0)
