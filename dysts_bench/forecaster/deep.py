"""Shared plumbing of the deep-learning entries (``forecasters/`` family "deep"):
:class:`DartsTorchForecaster`, the darts torch models behind the darts adapter with
seeding, determinism, thread count, early stopping and a ``device``; and
:func:`torch_session`, the same settings for any torch-based entry.

Nothing here imports torch at module import time: the core package works without the
``torch`` extra.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os

import numpy as np

from .adapters import DartsForecaster
from .constraints import Interval
from .contract import Forecaster
from .preprocessing import standardise

#: Parameters every darts torch entry has; the others are darts constructor arguments.
TRAINING_PARAMS = ("n_epochs", "batch_size", "lr", "patience", "val_length", "device", "seed")

TRAINING_CONSTRAINTS = {
    "n_epochs": [Interval(int, 1, None)], "batch_size": [Interval(int, 1, None)],
    "lr": [Interval(float, 0, None, closed="neither")], "patience": [Interval(int, 0, None)],
    "val_length": [Interval(int, 0, None)], "device": ["cpu", "cuda"], "seed": [Interval(int, 0, None)],
}


def arguments(local_vars: dict) -> dict:
    """A constructor's arguments from its ``locals()`` (for ``super().__init__(**...)``)."""
    return {k: v for k, v in local_vars.items() if k not in ("self", "__class__")}


def task_threads() -> int | None:
    """Threads a task may use: ``OMP_NUM_THREADS``, which the runner sets from
    ``--threads`` (default 1); None outside the runner when it is unset."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def check_device(device: str) -> None:
    import torch
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("parameter 'device' is 'cuda' but torch sees no CUDA device; use device='cpu'")


@contextlib.contextmanager
def torch_session(seed: int, device: str = "cpu"):
    """Seed torch, use deterministic algorithms and the task's thread count, and restore
    the previous settings on exit.  On CPU the result is bitwise reproducible; on CUDA
    determinism is requested with ``warn_only`` (some kernels have no deterministic
    version), so GPU runs are seeded but not guaranteed bitwise identical."""
    import torch
    check_device(device)
    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    wanted = task_threads()
    for name in ("lightning.pytorch", "pytorch_lightning", "lightning"):  # no banners in task logs
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        if wanted:
            torch.set_num_threads(wanted)
        torch.use_deterministic_algorithms(True, warn_only=device != "cpu")
        torch.manual_seed(int(seed))
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det, warn_only=warn_only)


def _keep_best_callback():
    """A Lightning callback that remembers the weights of the epoch with the lowest
    validation loss (in memory, no checkpoint files) and restores them when fitting
    ends, so early stopping returns the best model rather than the last."""
    from pytorch_lightning.callbacks import Callback

    class KeepBest(Callback):
        def __init__(self):
            self.best, self.state = math.inf, None

        def on_validation_end(self, trainer, pl_module):
            loss = trainer.callback_metrics.get("val_loss")
            if trainer.sanity_checking or loss is None or not float(loss) < self.best:
                return
            self.best = float(loss)
            self.state = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}

        def on_fit_end(self, trainer, pl_module):
            if self.state is not None:
                pl_module.load_state_dict(self.state)
            self.state = None

        def __reduce__(self):  # a local class: pickled as a fresh callback
            return _keep_best_callback, ()

    return KeepBest()


def trainer_kwargs(device: str, patience: int) -> dict:
    """Lightning trainer settings: the device, and nothing written to disk or the
    console (no logger, checkpoints, progress bar or model summary); with
    ``patience > 0``, early stopping on the validation loss."""
    kwargs = {"accelerator": "gpu" if device == "cuda" else "cpu", "devices": 1, "logger": False,
              "enable_checkpointing": False, "enable_progress_bar": False, "enable_model_summary": False,
              "num_sanity_val_steps": 0}
    if patience > 0:
        from pytorch_lightning.callbacks import EarlyStopping
        kwargs["callbacks"] = [EarlyStopping("val_loss", patience=int(patience), mode="min"),
                               _keep_best_callback()]
    return kwargs


class DartsTorchForecaster(DartsForecaster):
    """Base of the darts deep-learning entries.

    A subclass names its darts class (``darts_model``, plus fixed constructor arguments
    in ``darts_fixed``), declares its architecture parameters under their darts names
    in ``__init__`` next to the training parameters :data:`TRAINING_PARAMS`, and records
    its full-size configuration in ``FULL_SIZE``.

    Fitting z-scores each variable over the context, holds out its last ``val_length``
    samples (plus one input window) as a validation series for early stopping
    (``patience`` epochs without improvement; the best epoch's weights are kept;
    ``patience=0`` or ``val_length=0`` trains all ``n_epochs`` on the whole context),
    and trains with Adam at learning rate ``lr`` under :func:`torch_session`.  The
    forecast is conditioned on the whole context and rolled out autoregressively in
    blocks of ``output_chunk_length``.
    """

    family = "deep"
    multivariate = True
    extra = "torch"
    requires = ("torch", "darts", "pytorch_lightning")
    version = "1"
    per_channel = False
    model_kwargs = None
    darts_model: str = ""
    darts_fixed: dict = {}
    FULL_SIZE: dict = {}

    # plain scikit-learn parameters: no pass-through darts arguments
    get_params = Forecaster.get_params
    set_params = Forecaster.set_params

    def __init__(self, **params):
        for key, value in params.items():
            setattr(self, key, value)
        # import darts and torch (seconds) here: the runner builds the forecaster once in
        # its worker host before forking a process per task, so tasks inherit them
        import pytorch_lightning  # noqa: F401
        import torch  # noqa: F401
        self._model_class()  # darts.models imports its models lazily

    @classmethod
    def full_size(cls, **overrides) -> "DartsTorchForecaster":
        """The entry in its full-size (GPU) configuration, see ``FULL_SIZE``."""
        return cls(**{**cls.FULL_SIZE, **overrides})

    @classmethod
    def full_size_command(cls) -> str:
        """The command line that evaluates the full-size configuration on a GPU."""
        params = " ".join(f"--param {k}={v}" for k, v in cls.FULL_SIZE.items())
        return f"dysts-bench run {cls.name} {params} --workers 1 --timeout 7200"

    def _model_class(self):
        import darts.models
        return getattr(darts.models, self.darts_model)

    def _window(self) -> int:
        """Samples one training example reads before its targets."""
        return int(self.input_chunk_length)

    def _darts_kwargs(self) -> dict:
        params = self.get_params()
        kwargs = {k: v for k, v in params.items() if k not in TRAINING_PARAMS}
        early = int(self.patience) if int(self.val_length) > 0 else 0
        kwargs.update(self.darts_fixed, n_epochs=int(self.n_epochs), batch_size=int(self.batch_size),
                      optimizer_kwargs={"lr": float(self.lr)}, random_state=int(self.seed),
                      pl_trainer_kwargs=trainer_kwargs(self.device, early))
        return kwargs

    def _fit_model(self, model, values):
        from darts import TimeSeries
        val = int(self.val_length) if int(self.patience) > 0 else 0
        need = self._window() + int(getattr(self, "output_chunk_length", 1))
        if val and val < need - self._window():
            raise ValueError(f"parameter 'val_length' ({val}) must be at least output_chunk_length")
        if len(values) - val < need + 1:
            raise ValueError(f"a context of {len(values)} samples is too short for input_chunk_length="
                             f"{self._window()} with val_length={val}; lower them")
        train = TimeSeries.from_values(values[:len(values) - val])
        valid = TimeSeries.from_values(values[-(val + self._window()):]) if val else None
        model.fit(train, val_series=valid, verbose=False,
                  dataloader_kwargs={"pin_memory": self.device == "cuda"})  # pinning is for GPUs

    def _fit(self, context, *, dt, info):
        z, self.mu_, self.sd_ = standardise(context)
        self._series = z.astype(np.float32)
        with torch_session(self.seed, self.device):
            super()._fit(self._series, dt=dt, info=info)

    def _predict(self, horizon):
        from darts import TimeSeries
        series = TimeSeries.from_values(self._series)
        with torch_session(self.seed, self.device):
            out = self._models[0].predict(horizon, series=series, verbose=False,
                                          dataloader_kwargs={"pin_memory": self.device == "cuda"}).values()
        return np.asarray(out, dtype=float).reshape(horizon, -1) * self.sd_ + self.mu_

    # darts does not pickle a fitted network (only its constructor arguments): carry it
    def __getstate__(self):
        state = dict(self.__dict__)
        if "_models" in state:
            state["_networks"] = [m.model for m in state["_models"]]
        return state

    def __setstate__(self, state):
        networks = state.pop("_networks", None)
        self.__dict__.update(state)
        for model, network in zip(getattr(self, "_models", ()), networks or ()):
            model.model = network
