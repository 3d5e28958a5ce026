"""GRU: darts' ``RNNModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster import Interval
from dysts_bench.forecaster.deep import TRAINING_CONSTRAINTS, DartsTorchForecaster, arguments


class GRU(DartsTorchForecaster):
    r"""Gated recurrent unit network trained by teacher forcing on sequences of
    ``training_length`` samples to predict the next sample; the forecast feeds each
    prediction back (one step at a time, the hidden state carried along).

    Cho, van Merrienboer, Gulcehre, Bahdanau, Bougares, Schwenk & Bengio (2014), *Learning
    phrase representations using RNN encoder-decoder for statistical machine translation*,
    EMNLP 2014; through darts (Herzen et al. 2022, JMLR 23(124)).
    In the reference benchmark: Gilpin (2021, NeurIPS Datasets and Benchmarks) and Gilpin
    (2023, Phys. Rev. Research 5, 043252).

    Fixed darts arguments: ``{'model': 'GRU'}``.

    Architecture parameters are darts' constructor arguments of the same name; the
    training parameters (``n_epochs``, ``batch_size``, ``lr``, ``patience``,
    ``val_length``, ``device``, ``seed``) are those of
    :class:`dysts_bench.forecaster.deep.DartsTorchForecaster` (z-scored context, early
    stopping on the last ``val_length`` samples, seeded and bitwise deterministic on CPU).

    Default (CPU) configuration, sized to about 1 CPU-hour for the 402 canonical tasks
    (context 1000, horizon 3700) on one core; the full size is darts' default network
    with ``output_chunk_length=1`` as in the reference study, which chose
    ``input_chunk_length`` per system from {5, 10, 25, 50, 100} (here fixed at 50):

    * ``input_chunk_length``: 50 (full size 50)
    * ``hidden_dim``: 32 (full size 25)
    * ``n_rnn_layers``: 1 (full size 2)
    * ``training_length``: 60 (full size 60)
    * ``dropout``: 0.0 (full size 0.0)
    * training: n_epochs=20, batch_size=64, lr=0.001, patience=3, val_length=200, device=cpu
      (full size: n_epochs=200, batch_size=32, lr=0.001, patience=10, val_length=200, device=cuda)

    Measured cost of the default: 3.9 s (Lorenz) and 3.8 s (HyperRossler)
    of CPU time per task for fit + predict on one core (context 1000, horizon 3700; measured
    2026-12-08 on the 2-core development machine), so about
    40 CPU-minutes for the 402 canonical tasks with the runner's 1-2 s per-task overhead.

    Full size on a GPU (``GRU.full_size()`` in Python)::

        dysts-bench run gru --param input_chunk_length=50 --param hidden_dim=25 --param \
        n_rnn_layers=2 --param training_length=60 --param dropout=0.0 --param \
        n_epochs=200 --param batch_size=32 --param lr=0.001 --param patience=10 --param \
        val_length=200 --param device=cuda --workers 1 --timeout 7200
    """

    name = "gru"
    darts_model = "RNNModel"
    darts_fixed = {'model': 'GRU'}
    FULL_SIZE = {'input_chunk_length': 50, 'hidden_dim': 25, 'n_rnn_layers': 2, 'training_length': 60, 'dropout': 0.0, 'n_epochs': 200, 'batch_size': 32, 'lr': 0.001, 'patience': 10, 'val_length': 200, 'device': 'cuda'}
    _parameter_constraints = {"input_chunk_length": [Interval(int, 1, None)], "hidden_dim": [Interval(int, 1, None)], "n_rnn_layers": [Interval(int, 1, None)], "training_length": [Interval(int, 1, None)], "dropout": [Interval(float, 0, 1, closed="left")], **TRAINING_CONSTRAINTS}

    def __init__(self, input_chunk_length=50, hidden_dim=32, n_rnn_layers=1, training_length=60, dropout=0.0,
                 n_epochs=20, batch_size=64, lr=0.001, patience=3, val_length=200, device='cpu', seed=0):
        super().__init__(**arguments(locals()))

    def _window(self):
        return int(self.training_length)  # RNNModel trains on sequences, not windows
