"""Fracast-0: a zero-shot pretrained forecaster whose weights ship inside its wheel (the file is
not named fracast.py so that it never shadows the fracast package on sys.path)."""

import functools
import os

import numpy as np

from dysts_bench.forecaster import Forecaster
from dysts_bench.forecaster.deep import torch_session


@functools.lru_cache(maxsize=4)
def _load(weights: str, device: str):
    """The bundled checkpoint (read once per process; never downloads)."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # the bundled weights need no hub; refuse any download
    from fracast import FracastModel
    return FracastModel.from_pretrained(None, weights=weights, device=device)


class Fracast(Forecaster):
    """Fracast-0, zero-shot: no training on the task; the context is only conditioned on.

    Fracast-0 (the ``fracast`` package 0.1.0, Apache-2.0; Fracast contributors,
    https://github.com/ztxtech/fracast-0, model card https://huggingface.co/ztxtech/fracast-0;
    no paper) is a compact (85,001 parameters) attention-free time-series foundation
    model: one causal, depthwise-separable dilated-convolution block shared across a
    geometric ladder of dilations, FiLM scale conditioning and periodogram phase
    features, with a gather/query head that emits 9 quantiles (0.1 ... 0.9) of the next
    48 steps.  It was pretrained on public corpora (GiftEval pretraining data, LOTSA,
    the Chronos datasets, BOOM, fev) and TinyCast synthetic series; whether any of those
    contain chaotic-system trajectories like ours is not documented.

    The model is univariate: each variable is forecast on its own (all variables in one
    batch).  It reads the last 2048 samples (our contexts are shorter), min-max
    normalises them, and longer horizons are rolled out by appending the median of
    each 48-step block to the context and re-normalising.  The forecast is that median
    (quantile 0.5).  Inference only, so the result is deterministic.

    Parameters
    ----------
    weights : {"fp32", "w8"}
        The bundled full-precision checkpoint, or its 8-bit weight-quantised version
        (the package's default; slightly different forecasts).
    device : {"cpu", "cuda"}
        Where the network runs.

    Cost on CPU: about 11 s of CPU time per task for a 3-variable system (horizon 3700,
    78 forward passes per variable; measured through ``dysts-bench run`` on Lorenz and
    Rossler, one core, 2026-12-08), about 75 CPU-minutes for the 402 canonical tasks; it
    grows linearly with the number of variables.  On Lorenz it is less accurate than the
    last value over the first steps (the median does not start at the last observation),
    so expect it near the statistical baselines.  GPU: ``--param device=cuda``.
    """

    name = "fracast"
    version = "1"
    family = "foundation"
    multivariate = False
    extra = "fracast"
    requires = ("fracast", "torch")
    _parameter_constraints = {"weights": ["fp32", "w8"], "device": ["cpu", "cuda"]}

    def __init__(self, weights="fp32", device="cpu"):
        self.weights = weights
        self.device = device
        import fracast  # noqa: F401 - imported in the runner's host, inherited by each task

    def _fit(self, context, *, dt, info):
        self._context = np.asarray(context, dtype=np.float32).T.copy()  # (dim, n)

    def _predict(self, horizon):
        with torch_session(0, self.device):
            model = _load(self.weights, self.device)
            quantiles = model.forecast_batch(self._context, horizon=int(horizon))  # (dim, h, q)
        median = int(np.argmin(np.abs(np.asarray(model.quantiles) - 0.5)))
        return np.asarray(quantiles[:, :, median], dtype=float).T
