"""Chronos: pretrained time-series models, zero-shot, from a local checkpoint (the file is not
named chronos.py so that it never shadows the chronos package on sys.path)."""

import functools
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from dysts_bench.forecaster import Check, Forecaster, Interval
from dysts_bench.forecaster.deep import torch_session


def _is_checkpoint(path) -> bool:
    return isinstance(path, str) and (Path(path).expanduser() / "config.json").is_file()


@functools.lru_cache(maxsize=2)
def _load(model_path: str, device: str, dtype: str):
    """A Chronos pipeline from a local checkpoint directory, read once per process.

    ``HF_HUB_OFFLINE`` and ``local_files_only`` make loading fail rather than download."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    import transformers
    from chronos import BaseChronosPipeline
    transformers.utils.logging.disable_progress_bar()  # no bars in task logs
    logging.getLogger("chronos").setLevel(logging.ERROR)  # "prediction length > native": rolled out on purpose
    return BaseChronosPipeline.from_pretrained(str(Path(model_path).expanduser().resolve()), device_map=device,
                                               dtype=getattr(torch, dtype), local_files_only=True)


class Chronos(Forecaster):
    """Chronos zero-shot forecaster (any checkpoint of the ``chronos-forecasting`` package:
    Chronos, Chronos-Bolt or Chronos-2) loaded from a local directory.

    Ansari, Stella, Turkmen, Zhang, Mercado, Shen, Shchur, Rangapuram, Pineda Arango,
    Kapoor, Zschiegner, Maddix, Wang, Mahoney, Torkkola, Wilson, Bohlke-Schneider & Wang
    (2024), *Chronos: Learning the language of time series*, Transactions on Machine
    Learning Research; on chaotic systems, Zhang & Gilpin (2025), *Zero-shot forecasting
    of chaotic systems*, ICLR 2025.  Package ``chronos-forecasting`` (Apache-2.0).

    The model is applied to each variable on its own (all variables in one batch); the
    forecast is the median (quantile 0.5).  Horizons beyond the checkpoint's native
    prediction length are rolled out by the pipeline, feeding its forecasts back.  The
    original (T5 token) Chronos samples ``num_samples`` trajectories; the run is seeded
    with ``seed``.  Chronos-Bolt and Chronos-2 are deterministic.

    Weights are never downloaded (``HF_HUB_OFFLINE=1``, ``local_files_only``): fetch a
    checkpoint once on a machine with network access, e.g.::

        huggingface-cli download amazon/chronos-bolt-small --local-dir ~/models/chronos-bolt-small

    then run::

        dysts-bench run chronos --param model_path=$HOME/models/chronos-bolt-small --workers 1
        dysts-bench run chronos --param model_path=$HOME/models/chronos-t5-large --param device=cuda

    (``--param dtype=bfloat16`` halves the memory on a GPU).  Cost: dominated by the
    checkpoint's size; the adapter is tested on tiny randomly initialised Chronos-Bolt and
    Chronos (T5) networks built from configs (``tests/test_forecasters_deep.py``), so no
    cost or accuracy of real weights comes from this repository's machines.  Chronos-2
    checkpoints go through the same code (its list-shaped output is handled) but no tiny
    Chronos-2 network is tested here.

    Parameters
    ----------
    model_path : str
        Directory of a Chronos checkpoint (``config.json`` and the weights).
    device : {"cpu", "cuda"}
    dtype : {"float32", "bfloat16"}
    num_samples : int
        Sample paths of the original Chronos (ignored by Bolt and Chronos-2).
    seed : int
        Seed of torch for the sampling.
    """

    name = "chronos"
    version = "1"
    family = "foundation"
    multivariate = False
    extra = "chronos"
    requires = ("chronos", "torch", "transformers")
    _parameter_constraints = {
        "model_path": [Check(_is_checkpoint, "a local Chronos checkpoint directory holding config.json "
                                             "(--param model_path=/path/to/checkpoint)")],
        "device": ["cpu", "cuda"], "dtype": ["float32", "bfloat16"],
        "num_samples": [Interval(int, 1, None)], "seed": [Interval(int, 0, None)],
    }

    def __init__(self, model_path=None, device="cpu", dtype="float32", num_samples=20, seed=0):
        self.model_path = model_path
        self.device = device
        self.dtype = dtype
        self.num_samples = num_samples
        self.seed = seed

    def _fit(self, context, *, dt, info):
        self._context = np.asarray(context, dtype=np.float32).T.copy()  # (dim, n)

    def _predict(self, horizon):
        import torch
        with torch_session(self.seed, self.device), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "prediction length > native length": rolled out on purpose
            pipeline = _load(self.model_path, self.device, self.dtype)
            extra = {"num_samples": int(self.num_samples)} if _samples(pipeline) else {}
            series = [torch.from_numpy(row) for row in self._context]
            quantiles, _ = pipeline.predict_quantiles(series, prediction_length=int(horizon),
                                                      quantile_levels=[0.5], **extra)
        if isinstance(quantiles, list):  # Chronos-2: one (1, horizon, 1) tensor per series
            quantiles = torch.cat([q.reshape(1, int(horizon), -1) for q in quantiles])
        return quantiles[..., 0].float().cpu().numpy().astype(float).T


def _samples(pipeline) -> bool:
    """Whether the pipeline samples trajectories (the original, T5-token Chronos)."""
    return type(pipeline).__name__ == "ChronosPipeline"
