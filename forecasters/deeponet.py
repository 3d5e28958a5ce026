"""Flow-map operator network in the DeepONet form, rolled out autoregressively."""

import numpy as np

from dysts_bench.forecaster import torch_training as T
from dysts_bench.forecaster.torch_training import POSITIVE, TrainedTorchForecaster, training_parameters


class DeepONetFlowMap(TrainedTorchForecaster):
    """A DeepONet that maps the recent window to the flow over the next ``chunk`` samples.

    Lu, Jin, Pang, Zhang & Karniadakis (2021), *Learning nonlinear operators via DeepONet
    based on the universal approximation theorem of operators*, Nature Machine
    Intelligence 3, 218.  The operator here is the flow map of the (delay-embedded)
    dynamics: given the last ``window`` standardised states ``W_t = (z_{t-window+1},
    ..., z_t)`` and a time offset ``tau`` in ``1..chunk`` samples,

        ``z_{t+tau} = z_t + sigma * (sum_k b_{ik}(W_t) q_k(tau / chunk) + c_i)``  for each variable ``i``,

    where the branch net ``b`` (an MLP of the flattened window, ``basis`` outputs per
    variable) and the trunk net ``q`` (an MLP of the offset, ``basis`` outputs) are
    trained jointly; ``sigma`` is the standard deviation of the ``chunk``-sample
    increments of the context, so the networks see targets of order one.  Training
    minimises the mean squared error over all offsets of ``batch`` windows drawn from
    the context (less its validation tail) per step, stopping early when the error of
    free-running ``valid_steps``-sample forecasts started in the last
    ``valid_fraction`` of the context stops improving.  The forecast is rolled out
    autoregressively: predict the next ``chunk`` samples, append them to the window,
    repeat.  A forecast leaving the context's bounding box widened by ``margin`` ranges
    is replaced by the context mean from that step on (``diverged_at_``).

    Cost (measured through ``dysts-bench run``, one thread, on the 2-core development
    machine under load): the default CPU configuration takes 4 to 7 CPU-seconds per
    canonical task (context 1000, horizon 3700; early stopping often ends training
    sooner) on Lorenz, Rossler, Thomas and the 10-dimensional MackeyGlass.  Full-size configuration for a GPU::

        dysts-bench run deeponet --param device=cuda --param width=256 --param basis=64 \\
            --param iterations=20000 --param batch=512 --param patience=20 \\
            --workers 1 --results results/gpu

    Parameters
    ----------
    window : int
        Samples in the branch net's input window.
    chunk : int
        Samples predicted per evaluation (the offsets the trunk net sees).
    width : int
        Hidden units of both nets (two hidden tanh layers each).
    basis : int
        Basis functions per variable (the DeepONet's ``p``).
    batch : int
        Windows per training step.
    iterations, lr, valid_fraction, valid_steps, eval_every, patience, margin, seed, device
        Training, early stopping, divergence guard, seed (of the initial weights and the window
        draws) and device: see :class:`~dysts_bench.forecaster.torch_training.TrainedTorchForecaster`.
    """

    name = "deeponet"
    requires = ("torch",)
    parameters = {  # name: (default, accepted values)
        "window": (10, POSITIVE), "chunk": (10, POSITIVE), "width": (64, POSITIVE), "basis": (32, POSITIVE),
        **training_parameters(batch=64, iterations=2000, lr=1e-3, eval_every=100, patience=8),
    }

    def _nets(self, dim):
        """Branch, trunk and output bias in a ModuleDict (so a fitted model pickles)."""
        import torch
        import torch.nn as nn
        H, p = int(self.width), int(self.basis)
        branch = nn.Sequential(nn.Linear(int(self.window) * dim, H), nn.Tanh(), nn.Linear(H, H), nn.Tanh(),
                               nn.Linear(H, p * dim))
        trunk = nn.Sequential(nn.Linear(1, H), nn.Tanh(), nn.Linear(H, H), nn.Tanh(), nn.Linear(H, p), nn.Tanh())
        return nn.ModuleDict({"branch": branch, "trunk": trunk,
                              "bias": nn.ParameterDict({"c": nn.Parameter(torch.zeros(dim))})})

    def _chunk(self, windows):
        """The next ``chunk`` states (m, chunk, dim) after windows (m, window, dim)."""
        import torch
        m, _, dim = windows.shape
        nets = self.nets_
        b = nets["branch"](windows.reshape(m, -1)).reshape(m, dim, -1)  # (m, dim, p)
        q = nets["trunk"](self.offsets_)                                  # (chunk, p)
        g = torch.einsum("mip,kp->mki", b, q) + nets["bias"]["c"]
        return windows[:, -1:, :] + self.sigma_ * g

    def _rollout(self, windows, steps):
        """``steps`` free-running states (m, steps, dim) after windows (m, window, dim)."""
        import torch
        out, w = [], windows
        for _ in range(-(-steps // int(self.chunk))):
            nxt = self._chunk(w)
            out.append(nxt)
            w = torch.cat([w, nxt], dim=1)[:, -int(self.window):]
        return torch.cat(out, dim=1)[:, :steps]

    def _setup(self, z, device, gen):
        import torch
        Wn, K, V = int(self.window), int(self.chunk), int(self.valid_steps)
        train, tail = T.split_tail(z, self.valid_fraction, Wn + K)
        self.nets_ = self._nets(z.shape[1]).to(device)
        self.offsets_ = (torch.arange(1, K + 1, dtype=torch.float32, device=device) / K)[:, None]
        step_sd = (train[K:] - train[:-K]).std(axis=0)
        self.sigma_ = T.as_tensor(np.where(step_sd > 0, step_sd, 1.0), device)
        data = T.as_tensor(z, device)
        past = torch.arange(-Wn + 1, 1, device=device)
        ahead = torch.arange(1, K + 1, device=device)
        ends = torch.arange(Wn - 1, len(train) - K, device=device)  # window end indices

        def loss_fn(step):
            t = ends[T.random_starts(gen, len(ends), int(self.batch), device)]
            pred = self._chunk(data[t[:, None] + past[None, :]])
            return torch.mean(((pred - data[t[:, None] + ahead[None, :]]) / self.sigma_) ** 2)

        v_starts = T.valid_starts(tail, len(z), V, 8)
        v_starts = torch.as_tensor(v_starts[v_starts >= Wn - 1], device=device)
        v_windows = data[v_starts[:, None] + past[None, :]]
        v_truth = data[v_starts[:, None] + torch.arange(1, V + 1, device=device)[None, :]]

        def valid_fn():
            return torch.mean((self._rollout(v_windows, V) - v_truth) ** 2)

        return self.nets_, loss_fn, valid_fn

    def _keep(self, z):
        self.offsets_, self.sigma_ = self.offsets_.cpu(), self.sigma_.cpu()
        self.window_ = z[-int(self.window):].copy()

    def _forecast(self, horizon):
        import torch
        return self._rollout(torch.as_tensor(self.window_[None], dtype=torch.float32), horizon)[0]
