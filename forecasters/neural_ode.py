"""Neural ODE: a learned vector field trained on short multiple-shooting segments."""

import numpy as np

from dysts_bench.forecaster import torch_training as T
from dysts_bench.forecaster.torch_training import POSITIVE, TrainedTorchForecaster, training_parameters


class NeuralODE(TrainedTorchForecaster):
    """Neural ordinary differential equation ``dz/ds = f_theta(z)``, integrated forward.

    Chen, Rubanova, Bettencourt & Duvenaud (2018), *Neural ordinary differential
    equations*, NeurIPS 31.  Training on many short segments that each start from an
    observed state is the multiple-shooting idea of Bock & Plitt (1984), IFAC Proc. 17,
    1603, as used for neural ODEs by Turan & Jaeschke (2021), *Multiple shooting for
    training neural differential equations on time series*, IEEE Control Syst. Lett. 6,
    1897: it keeps each gradient path short, so the loss stays smooth on chaotic data.

    The context is standardised (z-scores per variable); time ``s`` is measured in
    samples, so every system is learned at the same scale.  ``f_theta`` is a ``depth``
    hidden-layer tanh MLP of ``width`` units whose outputs are multiplied by the
    standard deviation of the one-sample increments of the context, so the network
    learns numbers of order one.  Each training step draws ``batch``
    segments of ``segment`` samples from the context (less its validation tail),
    integrates each from its observed first state with fixed-step RK4 (one step per
    sample, ``torchdiffeq``), and minimises the mean squared error to the observed
    segment.  Training stops early when the error of free-running ``valid_steps``-step
    forecasts started in the last ``valid_fraction`` of the context stops improving
    (see :func:`dysts_bench.forecaster.torch_training.train`).  The forecast integrates
    from the last context state.  A forecast leaving the context's bounding box widened
    by ``margin`` ranges is replaced by the context mean from that step on
    (``diverged_at_``).

    Cost (measured through ``dysts-bench run``, one thread, on the 2-core development
    machine under load): the default CPU configuration takes about 8 CPU-seconds per
    canonical task (context 1000, horizon 3700: fit about 6 s, forecast about 1 s, plus
    the task process) on Lorenz, Rossler, Thomas and the 10-dimensional MackeyGlass;
    the 402 canonical tasks fit in about an hour on one core.  Full-size configuration for a GPU (Gilpin 2023 trained neural ODEs on a GPU
    cluster)::

        dysts-bench run neural_ode --param device=cuda --param width=128 \\
            --param depth=3 --param iterations=5000 --param batch=256 \\
            --param segment=20 --param patience=20 --workers 1 --results results/gpu

    Parameters
    ----------
    width, depth : int
        Hidden units per layer and hidden layers of the vector field.
    segment : int
        Samples per multiple-shooting segment.
    batch : int
        Segments per training step.
    iterations, lr, valid_fraction, valid_steps, eval_every, patience, margin, seed, device
        Training, early stopping, divergence guard, seed (of the initial weights and the segment
        draws) and device: see :class:`~dysts_bench.forecaster.torch_training.TrainedTorchForecaster`.
    """

    name = "neural_ode"
    requires = ("torch", "torchdiffeq")
    parameters = {  # name: (default, accepted values)
        "width": (64, POSITIVE), "depth": (2, POSITIVE), "segment": (10, POSITIVE),
        **training_parameters(batch=128, iterations=270, lr=1e-2, eval_every=25, patience=6),
    }

    def _field(self, dim):
        """The vector field: a tanh MLP (an nn.Sequential, so a fitted model pickles)."""
        import torch.nn as nn
        layers, n_in = [], dim
        for _ in range(int(self.depth)):
            layers += [nn.Linear(n_in, int(self.width)), nn.Tanh()]
            n_in = int(self.width)
        return nn.Sequential(*layers, nn.Linear(n_in, dim))

    def _integrate(self, z0, steps):
        """(steps + 1, batch, dim) states from (batch, dim) initial states, one RK4 step per sample."""
        import torch
        from torchdiffeq import odeint
        t = torch.arange(steps + 1, dtype=z0.dtype, device=z0.device)
        net, scale = self.net_, self.scale_
        return odeint(lambda s, z: scale * net(z), z0, t, method="rk4")

    def _setup(self, z, device, gen):
        import torch
        L, V = int(self.segment), int(self.valid_steps)
        train, tail = T.split_tail(z, self.valid_fraction, max(L + 1, 2))
        self.net_ = self._field(z.shape[1]).to(device)
        step_sd = np.diff(train, axis=0).std(axis=0)  # the network outputs O(1) numbers
        self.scale_ = T.as_tensor(np.where(step_sd > 0, step_sd, 1.0), device)
        data = T.as_tensor(z, device)
        offsets = torch.arange(L + 1, device=device)
        n_starts = len(train) - L

        def loss_fn(step):
            starts = T.random_starts(gen, n_starts, int(self.batch), device)
            target = data[starts[None, :] + offsets[:, None]]  # (L + 1, batch, dim)
            return torch.mean((self._integrate(target[0], L) - target) ** 2)

        v_starts = torch.as_tensor(T.valid_starts(tail, len(z), V, 8), device=device)
        v_target = data[v_starts[None, :] + torch.arange(V + 1, device=device)[:, None]]

        def valid_fn():
            return torch.mean((self._integrate(v_target[0], V) - v_target) ** 2)

        return self.net_, loss_fn, valid_fn

    def _keep(self, z):
        self.scale_ = self.scale_.cpu()
        self.z_last_ = z[-1].copy()

    def _forecast(self, horizon):
        import torch
        return self._integrate(torch.as_tensor(self.z_last_[None, :], dtype=torch.float32), horizon)[1:, 0]
