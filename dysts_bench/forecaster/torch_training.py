"""Torch plumbing: device choice, seeding and determinism and thread count for every
torch-based entry (the darts entries of :mod:`.deep` and the pretrained ones use
:func:`torch_session`), and for the trained neural forecasters (neural ODE, AL-RNN,
DeepONet) their base class :class:`TrainedTorchForecaster` with a training loop with
early stopping on a validation tail.

Importing this module does not import torch (each function does), so a forecaster file
can take :data:`DEVICE_CONSTRAINT` from it at class creation without torch installed.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os

import numpy as np

from .constraints import Check, Interval
from .contract import Forecaster
from .declared import declared_init
from .preprocessing import guard_box, inside, standardise

#: The accepted values of a forecaster's ``device`` parameter.
DEVICE_CONSTRAINT = [Check(lambda v: isinstance(v, str) and (v in ("cpu", "auto") or v.startswith("cuda")),
                           "'cpu', 'auto' or 'cuda[:N]'")]


def task_threads() -> int | None:
    """Threads a task may use: ``OMP_NUM_THREADS``, which the runner sets from
    ``--threads`` (default 1); None outside the runner when it is unset."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def resolve_device(device: str):
    """``"auto"``: the first GPU if torch sees one, else the CPU; otherwise as given
    (a clear error if a GPU is asked for and none is available)."""
    import torch
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but torch sees no GPU; use device='cpu'")
    return torch.device(device)


def configure(seed: int, device, default_threads: int | None = 1):
    """Seed torch, make the kernels deterministic, and use the runner's thread count
    (``OMP_NUM_THREADS``, set from ``--threads``; ``default_threads`` if unset, None:
    leave torch's own).  On CPU the result is bitwise reproducible; on a GPU determinism
    is requested with ``warn_only`` (some kernels have no deterministic version), so GPU
    runs are seeded but not guaranteed bitwise identical.

    Returns a CPU generator for a fit's own draws (initial weights, batches), so a fit
    does not depend on what ran before it in the process."""
    import torch
    device = resolve_device(device) if isinstance(device, str) else device
    threads = task_threads() or default_threads
    if threads:
        torch.set_num_threads(threads)
    if device.type == "cuda":  # cuBLAS needs this for deterministic matrix products
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=device.type != "cpu")
    torch.manual_seed(int(seed))  # the initial weights of torch.nn layers
    return torch.Generator().manual_seed(int(seed))


@contextlib.contextmanager
def torch_session(seed: int, device: str = "cpu", default_threads: int | None = None):
    """:func:`configure` for the duration of a ``with`` block (which gets the generator),
    restoring the previous thread count and determinism settings on exit."""
    import torch
    for name in ("lightning.pytorch", "pytorch_lightning", "lightning"):  # no banners in task logs
        logging.getLogger(name).setLevel(logging.ERROR)
    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    try:
        yield configure(seed, device, default_threads)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det, warn_only=warn_only)


def as_tensor(x: np.ndarray, device):
    """A float32 tensor on ``device`` (the networks train in single precision)."""
    import torch
    return torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32, device=device)


def split_tail(z: np.ndarray, valid_fraction: float, min_valid: int):
    """``(train, tail_start)``: the context without its last ``valid_fraction`` (at least
    ``min_valid`` samples), which early stopping scores free-running forecasts on."""
    n_valid = max(int(min_valid), int(round(valid_fraction * len(z))))
    if len(z) - n_valid < 2 * min_valid:
        raise ValueError(f"context of {len(z)} samples is too short for a validation tail of "
                         f"{n_valid} samples (lower valid_fraction or the model's window)")
    return z[:len(z) - n_valid], len(z) - n_valid


def train(module, loss_fn, valid_fn, *, iterations: int, lr: float,
          eval_every: int, patience: int) -> dict:
    """Adam on ``loss_fn(step) -> scalar tensor`` for at most ``iterations`` steps.

    Every ``eval_every`` steps ``valid_fn() -> float`` scores the model (under no_grad);
    training stops after ``patience`` evaluations without improvement, and the module is
    left with the weights of the best evaluation (Prechelt 1998, *Early stopping -- but
    when?*, in Neural Networks: Tricks of the Trade).  Returns a summary: iterations run,
    best iteration and score."""
    import torch
    opt = torch.optim.Adam(module.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, iterations), eta_min=lr / 10)
    best, best_state, best_step, bad, step = np.inf, copy.deepcopy(module.state_dict()), 0, 0, 0
    for step in range(1, iterations + 1):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(step)
        if not torch.isfinite(loss):
            break  # a diverged step: keep the best weights so far
        loss.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), 10.0)
        opt.step()
        sched.step()
        if step % eval_every and step != iterations:
            continue
        with torch.no_grad():
            score = float(valid_fn())
        if np.isfinite(score) and score < best:
            best, best_state, best_step, bad = score, copy.deepcopy(module.state_dict()), step, 0
        else:
            bad += 1
            if bad >= patience:
                break
    module.load_state_dict(best_state)
    return {"iterations": step, "best_iteration": best_step, "valid_mse": best}


def valid_starts(tail_start: int, n: int, steps: int, count: int) -> np.ndarray:
    """``count`` evenly spaced start indices ``s`` such that a ``steps``-step forecast
    from sample ``s`` lands in the tail (``s + 1 >= tail_start``) and inside the context."""
    first, last = tail_start - 1, n - 1 - steps
    if last < first:
        return np.array([max(0, last)])
    return np.unique(np.linspace(first, last, count).round().astype(int))


def guard_path(path: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """``(path, diverged_at)``: a forecast in standardised units whose states from the
    first one outside the guard box (or non-finite) on are set to 0, the context mean
    (see :func:`dysts_bench.forecaster.guard_box`); ``diverged_at`` is that step or None."""
    for t, state in enumerate(path):
        if not inside(state, lo, hi):
            path = path.copy()
            path[t:] = 0.0
            return path, t
    return path, None


def random_starts(gen, high: int, count: int, device):
    """``count`` start indices in ``[0, high)`` drawn from the fit's generator."""
    import torch
    return torch.randint(0, high, (count,), generator=gen).to(device)


POSITIVE = [Interval(int, 1, None)]


def training_parameters(*, batch: int, iterations: int, lr: float, eval_every: int, patience: int) -> dict:
    """The parameters every :class:`TrainedTorchForecaster` has after its own, as
    ``name: (default, accepted values)``; the validation tail, guard, seed and device
    defaults are the same for all."""
    return {
        "batch": (batch, POSITIVE), "iterations": (iterations, POSITIVE),
        "lr": (lr, [Interval(float, 0, None, closed="neither")]),
        "valid_fraction": (0.2, [Interval(float, 0, 1, closed="neither")]), "valid_steps": (50, POSITIVE),
        "eval_every": (eval_every, POSITIVE), "patience": (patience, POSITIVE),
        "margin": (1.0, [Interval(float, 0, None, closed="right")]),
        "seed": (0, [Interval(int, 0, None)]), "device": ("cpu", DEVICE_CONSTRAINT),
    }


class TrainedTorchForecaster(Forecaster):
    """Base of the trained neural entries (family "physics", ``torch`` extra).

    A subclass declares ``parameters`` as ``name: (default, accepted values)`` (its own,
    then :func:`training_parameters`), from which it gets an ``__init__`` with an
    explicit signature and ``_parameter_constraints``.  It implements
    ``_setup(z, device, gen) -> (module, loss_fn, valid_fn)`` on the standardised
    context, ``_keep(z)`` to move what the forecast needs to the CPU, and
    ``_forecast(horizon)``, the standardised forecast as a tensor (under no_grad).

    Fitting standardises the context, trains with :func:`train` under
    :func:`torch_session` (the runner's threads, 1 if unset), and keeps the guard box of
    the context widened by ``margin`` ranges; a forecast leaving it is replaced by the
    context mean from that step on (:func:`guard_path`, ``diverged_at_``).

    Parameters shared by the subclasses
    -----------------------------------
    iterations : int
        Maximum training steps (Adam, learning rate ``lr`` cosine-annealed to ``lr/10``).
    lr : float
        Adam learning rate.
    valid_fraction : float
        Fraction of the context held out for early stopping.
    valid_steps : int
        Length of the free-running validation forecasts (samples).
    eval_every, patience : int
        Validate every ``eval_every`` steps; stop after ``patience`` validations
        without improvement.
    margin : float
        Divergence guard, in context ranges beyond the context's bounding box.
    seed : int
        Seed of the initial weights and of the training draws.
    device : str
        ``"cpu"``, ``"cuda[:N]"`` or ``"auto"``.
    """

    version = "1"
    family = "physics"
    multivariate = True
    extra = "torch"
    param_grid = {}
    parameters: dict = {}

    def __init_subclass__(cls, **kwargs):
        if "parameters" in cls.__dict__:
            cls.__init__ = declared_init(cls, {k: d for k, (d, _) in cls.parameters.items()})
            cls._parameter_constraints = {k: accepted for k, (_, accepted) in cls.parameters.items()}
        super().__init_subclass__(**kwargs)

    def _fit(self, context, *, dt, info):
        device = resolve_device(self.device)
        with torch_session(self.seed, device, default_threads=1) as gen:
            z, self.mu_, self.sd_ = standardise(context)
            module, loss_fn, valid_fn = self._setup(z, device, gen)
            self.training_ = train(module, loss_fn, valid_fn, iterations=int(self.iterations), lr=self.lr,
                                   eval_every=int(self.eval_every), patience=int(self.patience))
            module.cpu()  # forecasts (and pickles) on the CPU, where the result is compared
            self._keep(z)
        self.lo_, self.hi_ = guard_box(z, self.margin)

    def _predict(self, horizon):
        import torch
        with torch_session(self.seed, "cpu", default_threads=1), torch.no_grad():
            path = self._forecast(horizon)
        out, self.diverged_at_ = guard_path(path.double().numpy(), self.lo_, self.hi_)
        return out * self.sd_ + self.mu_
