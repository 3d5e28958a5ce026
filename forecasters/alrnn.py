"""Almost-linear RNN trained with generalized teacher forcing (dynamical-systems reconstruction)."""

from dysts_bench.forecaster import Interval
from dysts_bench.forecaster import torch_training as T
from dysts_bench.forecaster.torch_training import POSITIVE, TrainedTorchForecaster, training_parameters


class ALRNN(TrainedTorchForecaster):
    """Almost-linear recurrent neural network (AL-RNN), a piecewise-linear RNN with only a
    few rectified units, trained by generalized teacher forcing.

    Brenner, Hemmer, Monfared & Durstewitz (2024), *Almost-linear RNNs yield highly
    interpretable symbolic codes in dynamical systems reconstruction*, NeurIPS 37;
    Hess, Monfared, Brenner & Durstewitz (2023), *Generalized teacher forcing for
    learning chaotic dynamics*, ICML, PMLR 202, 13017.

    The latent state ``z`` (``latent`` units) evolves as

        ``z_t = A z_{t-1} + W phi(z_{t-1}) + h``,  ``phi(z) = (z_1..z_{M-P}, max(0, z_{M-P+1})..max(0, z_M))``

    with ``A`` diagonal and only the last ``P = relu`` units rectified; the first ``dim``
    latent units are the (standardised) observations (the identity read-out of
    Brenner et al. 2022/2024).  The initial latent state is ``(x_0, B x_0)`` with a
    learned ``B``.  Training (backpropagation through time on ``batch`` sequences of
    ``sequence`` samples) uses generalized teacher forcing: after each step the
    observed units are pulled towards the data, ``z_t[:dim] <- (1 - alpha) z_t[:dim]
    + alpha x_t``, and the loss is the mean squared error of the predicted observations
    before forcing.  ``alpha`` trades gradient stability (large) against the free
    running the model must learn (small); Hess et al. control it adaptively, here it is
    a fixed parameter.  Training stops early when the error of free-running
    ``valid_steps``-step forecasts started in the last ``valid_fraction`` of the
    context stops improving.  To forecast, the model is run with the same forcing
    through the context (so the unobserved units settle) and then left to run freely.
    A forecast leaving the context's bounding box widened by ``margin`` ranges is
    replaced by the context mean from that step on (``diverged_at_``).

    Cost (measured through ``dysts-bench run``, one thread, on the 2-core development
    machine under load): the default CPU configuration takes about 8 CPU-seconds per
    canonical task (context 1000, horizon 3700; the forecast itself well under 1 s) on
    Lorenz, Rossler, Thomas and the 10-dimensional MackeyGlass; the 402 canonical tasks
    fit in about an hour on one core.  Full-size configuration for a GPU (a larger
    latent space, longer sequences, many more steps)::

        dysts-bench run alrnn --param device=cuda --param latent=50 --param relu=10 \\
            --param iterations=5000 --param batch=128 --param sequence=200 \\
            --param patience=20 --workers 1 --results results/gpu

    Parameters
    ----------
    latent : int
        Latent units ``M`` (at least ``dim``; the observed dimension is added if smaller).
    relu : int
        Rectified units ``P`` (``0 <= P <= M``).
    alpha : float
        Teacher-forcing strength in [0, 1].
    sequence, batch : int
        Samples per training sequence and sequences per training step.
    iterations, lr, valid_fraction, valid_steps, eval_every, patience, margin, seed, device
        Training, early stopping, divergence guard, seed (of the initial weights and the sequence
        draws) and device: see :class:`~dysts_bench.forecaster.torch_training.TrainedTorchForecaster`.
    """

    name = "alrnn"
    requires = ("torch",)
    parameters = {  # name: (default, accepted values)
        "latent": (50, POSITIVE), "relu": (20, [Interval(int, 0, None)]), "alpha": (0.1, [Interval(float, 0, 1)]),
        "sequence": (100, POSITIVE),
        **training_parameters(batch=16, iterations=220, lr=1e-2, eval_every=25, patience=6),
    }

    # -- the model (a ParameterDict, so a fitted model pickles) ----------------------
    def _init_params(self, dim, gen):
        import torch
        M = max(int(self.latent), dim)
        P = int(self.relu)
        if P > M:
            raise ValueError(f"relu={P} must not exceed the latent units ({M})")
        W = torch.randn(M, M, generator=gen) * (0.1 / M ** 0.5)  # a near-identity start:
        return torch.nn.ParameterDict({                          # the data move little per sample
            "A": torch.nn.Parameter(torch.full((M,), 0.99)),
            "W": torch.nn.Parameter(W),
            "h": torch.nn.Parameter(torch.zeros(M)),
            "B": torch.nn.Parameter(torch.randn(M - dim, dim, generator=gen) * 0.1),
        })

    def _step(self, z):
        import torch
        p = self.params_
        P = int(self.relu)
        phi = torch.cat([z[:, :z.shape[1] - P], torch.relu(z[:, z.shape[1] - P:])], dim=1) if P else z
        return p["A"] * z + phi @ p["W"].T + p["h"]

    def _run(self, x, alpha, free=0):
        """Run over observations ``x`` (steps, batch, dim) with forcing ``alpha``, then
        ``free`` steps without; returns the predicted observations ((steps - 1 + free),
        batch, dim) for ``x[1:]`` and the free steps."""
        import torch
        dim = x.shape[2]
        z = torch.cat([x[0], x[0] @ self.params_["B"].T], dim=1)
        out = []
        for t in range(1, x.shape[0]):
            z = self._step(z)
            out.append(z[:, :dim])
            z = torch.cat([(1 - alpha) * z[:, :dim] + alpha * x[t], z[:, dim:]], dim=1)
        for _ in range(free):
            z = self._step(z)
            out.append(z[:, :dim])
        return torch.stack(out)

    def _setup(self, z, device, gen):
        import torch
        S, V, alpha = int(self.sequence), int(self.valid_steps), float(self.alpha)
        train, tail = T.split_tail(z, self.valid_fraction, max(S + 1, 2))
        self.params_ = self._init_params(z.shape[1], gen).to(device)
        data = T.as_tensor(z, device)
        offsets = torch.arange(S + 1, device=device)

        def loss_fn(step):
            starts = T.random_starts(gen, len(train) - S, int(self.batch), device)
            x = data[starts[None, :] + offsets[:, None]]  # (S + 1, batch, dim)
            return torch.mean((self._run(x, alpha) - x[1:]) ** 2)

        # validation: force through the S samples before each start, then run freely
        v_starts = T.valid_starts(tail, len(z), V, 8)
        v_starts = torch.as_tensor(v_starts[v_starts >= S], device=device)
        warm = data[v_starts[None, :] + torch.arange(-S, 1, device=device)[:, None]]
        truth = data[v_starts[None, :] + torch.arange(1, V + 1, device=device)[:, None]]

        def valid_fn():
            return torch.mean((self._run(warm, alpha, free=V)[S:] - truth) ** 2)

        return self.params_, loss_fn, valid_fn

    def _keep(self, z):
        self.warmup_ = z[-min(len(z), 4 * int(self.sequence)):].copy()  # forced through to settle the latent state

    def _forecast(self, horizon):
        import torch
        x = torch.as_tensor(self.warmup_[:, None, :], dtype=torch.float32)
        return self._run(x, float(self.alpha), free=horizon)[len(x) - 1:, 0]
