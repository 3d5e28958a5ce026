"""TiDE: darts' ``TiDEModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster import Interval
from dysts_bench.forecaster.deep import TRAINING_CONSTRAINTS, DartsTorchForecaster, arguments


class TiDE(DartsTorchForecaster):
    r"""TiDE: a residual MLP encoder of the flattened input window and an MLP decoder with a
    per-step temporal decoder.

    Das, Kong, Leach, Mathur, Sen & Yu (2023), *Long-term forecasting with TiDE: Time-series
    dense encoder*, Transactions on Machine Learning Research; through darts (Herzen et al. 2022, JMLR 23(124)).
    In the reference benchmark: Gilpin (2021, NeurIPS Datasets and Benchmarks) and Gilpin
    (2023, Phys. Rev. Research 5, 043252).

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
    * ``output_chunk_length``: 10 (full size 1)
    * ``num_encoder_layers``: 1 (full size 1)
    * ``num_decoder_layers``: 1 (full size 1)
    * ``decoder_output_dim``: 8 (full size 16)
    * ``hidden_size``: 64 (full size 128)
    * ``temporal_decoder_hidden``: 16 (full size 32)
    * ``dropout``: 0.1 (full size 0.1)
    * training: n_epochs=20, batch_size=64, lr=0.001, patience=3, val_length=200, device=cpu
      (full size: n_epochs=100, batch_size=32, lr=0.001, patience=10, val_length=200, device=cuda)

    Measured cost of the default: 1.2 s (Lorenz) and 1.3 s (HyperRossler)
    of CPU time per task for fit + predict on one core (context 1000, horizon 3700; measured
    2026-12-08 on the 2-core development machine), so about
    22 CPU-minutes for the 402 canonical tasks with the runner's 1-2 s per-task overhead.

    Full size on a GPU (``TiDE.full_size()`` in Python)::

        dysts-bench run tide --param input_chunk_length=50 --param output_chunk_length=1 \
        --param num_encoder_layers=1 --param num_decoder_layers=1 --param \
        decoder_output_dim=16 --param hidden_size=128 --param temporal_decoder_hidden=32 \
        --param dropout=0.1 --param n_epochs=100 --param batch_size=32 --param lr=0.001 \
        --param patience=10 --param val_length=200 --param device=cuda --workers 1 \
        --timeout 7200
    """

    name = "tide"
    darts_model = "TiDEModel"
    darts_fixed = {}
    FULL_SIZE = {'input_chunk_length': 50, 'output_chunk_length': 1, 'num_encoder_layers': 1, 'num_decoder_layers': 1, 'decoder_output_dim': 16, 'hidden_size': 128, 'temporal_decoder_hidden': 32, 'dropout': 0.1, 'n_epochs': 100, 'batch_size': 32, 'lr': 0.001, 'patience': 10, 'val_length': 200, 'device': 'cuda'}
    _parameter_constraints = {"input_chunk_length": [Interval(int, 1, None)], "output_chunk_length": [Interval(int, 1, None)], "num_encoder_layers": [Interval(int, 1, None)], "num_decoder_layers": [Interval(int, 1, None)], "decoder_output_dim": [Interval(int, 1, None)], "hidden_size": [Interval(int, 1, None)], "temporal_decoder_hidden": [Interval(int, 1, None)], "dropout": [Interval(float, 0, 1, closed="left")], **TRAINING_CONSTRAINTS}

    def __init__(self, input_chunk_length=50, output_chunk_length=10, num_encoder_layers=1, num_decoder_layers=1,
                 decoder_output_dim=8, hidden_size=64, temporal_decoder_hidden=16, dropout=0.1,
                 n_epochs=20, batch_size=64, lr=0.001, patience=3, val_length=200, device='cpu', seed=0):
        super().__init__(**arguments(locals()))
