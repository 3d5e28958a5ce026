"""Shared plumbing of the deep-learning entries (``forecasters/`` family "deep"):
:class:`DartsTorchForecaster`, the darts torch models behind the darts adapter with
seeding, determinism, thread count, early stopping and a ``device``; and
:func:`torch_session`, the same settings for any torch-based entry.

Nothing here imports torch at module import time: the core package works without the
``torch`` extra.
"""

from __future__ import annotations

import math

import numpy as np

from .adapters import DartsForecaster
from .constraints import Interval
from .contract import Forecaster
from .declared import declared_init
from .preprocessing import standardise
from .torch_training import torch_session  # noqa: F401 - also the pretrained entries' import

#: Accepted values of the common architecture parameters (for the entries' tables).
POSITIVE = [Interval(int, 1, None)]
DROPOUT = [Interval(float, 0, 1, closed="left")]

#: The architecture of darts' ``RNNModel`` (the LSTM and GRU entries), which trains on
#: sequences of ``training_length`` samples: (default, full size, accepted values).
RNN_ARCHITECTURE = {
    "input_chunk_length": (50, 50, POSITIVE), "hidden_dim": (32, 25, POSITIVE), "n_rnn_layers": (1, 2, POSITIVE),
    "training_length": (60, 60, POSITIVE), "dropout": (0.0, 0.0, DROPOUT),
}

#: The training parameters every darts torch entry has: (default, full size, accepted values).
TRAINING = {
    "n_epochs": (20, 100, POSITIVE), "batch_size": (64, 32, POSITIVE),
    "lr": (0.001, 0.001, [Interval(float, 0, None, closed="neither")]), "patience": (3, 10, [Interval(int, 0, None)]),
    "val_length": (200, 200, [Interval(int, 0, None)]), "device": ("cpu", "cuda", ["cpu", "cuda"]),
    "seed": (0, None, [Interval(int, 0, None)]),
}
#: Parameters every darts torch entry has; the others are darts constructor arguments.
TRAINING_PARAMS = tuple(TRAINING)
TRAINING_CONSTRAINTS = {k: accepted for k, (_, _, accepted) in TRAINING.items()}

_DOC = """
    In the reference benchmark: Gilpin (2021, NeurIPS Datasets and Benchmarks) and Gilpin
    (2023, Phys. Rev. Research 5, 043252).

    {fixed}Architecture parameters are darts' constructor arguments of the same name; the
    training parameters (``n_epochs``, ``batch_size``, ``lr``, ``patience``,
    ``val_length``, ``device``, ``seed``) are those of
    :class:`dysts_bench.forecaster.deep.DartsTorchForecaster` (z-scored context, early
    stopping on the last ``val_length`` samples, seeded and bitwise deterministic on CPU).

    Default (CPU) configuration, sized to about 1 CPU-hour for the 402 canonical tasks
    (context 1000, horizon 3700) on one core; the full size is darts' default network
    with ``output_chunk_length=1`` as in the reference study, which chose
    ``input_chunk_length`` per system from {{5, 10, 25, 50, 100}} (here fixed at 50):

{table}
    * training: {training}
      (full size: {full_training})

    Measured cost of the default: {lorenz_s} s (Lorenz) and {hyper_rossler_s} s (HyperRossler)
    of CPU time per task for fit + predict on one core (context 1000, horizon 3700; measured
    2026-12-08 on the 2-core development machine{runner}), so about
    {canonical_cpu_minutes} CPU-minutes for the 402 canonical tasks with the runner's 1-2 s per-task overhead.

    Full size on a GPU (``{cls}.full_size()`` in Python)::

{command}
    """


def _entry_doc(cls) -> str:
    """The entry's docstring (its method and paper) followed by what every darts entry
    shares: the training parameters, its configurations, measured cost and GPU command."""
    import textwrap
    params = cls._declared_params()
    training = {k: v for k, v in params.items() if k in TRAINING_PARAMS and k != "seed"}
    cost = dict(cls.measured_cost)
    runner = cost.pop("runner", None)
    command = textwrap.wrap(cls.full_size_command(), 80, break_on_hyphens=False, break_long_words=False)
    return cls.__doc__.rstrip() + _DOC.format(
        fixed=f"Fixed darts arguments: ``{cls.darts_fixed!r}``.\n\n    " if cls.darts_fixed else "",
        table="\n".join(f"    * ``{k}``: {d} (full size {f})" for k, (d, f, _) in params.items()
                        if k not in TRAINING_PARAMS),
        training=", ".join(f"{k}={d}" for k, (d, _, _) in training.items()),
        full_training=", ".join(f"{k}={f}" for k, (_, f, _) in training.items()),
        runner=f"; runner: {runner}" if runner else "", cls=cls.__name__, **cost,
        command=" \\\n".join("        " + line for line in command))


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
    in ``darts_fixed``), declares its architecture parameters under their darts names in
    ``architecture`` as ``name: (default, full size, accepted values)`` (overrides of the
    training parameters :data:`TRAINING` in ``training``), and records ``measured_cost``.
    From these the class gets its ``__init__`` (an explicit signature, so ``get_params``
    and ``clone`` work as for a hand-written one), ``_parameter_constraints``,
    ``FULL_SIZE`` and the shared part of its docstring.

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
    architecture: dict = {}
    training: dict = {}
    measured_cost: dict = {}

    # plain scikit-learn parameters: no pass-through darts arguments
    get_params = Forecaster.get_params
    set_params = Forecaster.set_params

    def __init_subclass__(cls, **kwargs):
        if "architecture" in cls.__dict__:
            params = cls._declared_params()
            cls.__init__ = declared_init(cls, {k: d for k, (d, _, _) in params.items()})
            cls._parameter_constraints = {k: accepted for k, (_, _, accepted) in params.items()}
            cls.FULL_SIZE = {k: f for k, (_, f, _) in params.items() if k != "seed"}
            cls.__doc__ = _entry_doc(cls)
        super().__init_subclass__(**kwargs)

    @classmethod
    def _declared_params(cls) -> dict:
        """``name: (default, full size, accepted values)``: architecture, then training."""
        return {**cls.architecture, **{k: (*cls.training[k], v[2]) if k in cls.training else v for k, v in TRAINING.items()}}

    def _after_init(self):
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
        """Samples one training example reads before its targets (RNNModel trains on
        sequences of ``training_length``, the others on input windows)."""
        return int(getattr(self, "training_length", self.input_chunk_length))

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
