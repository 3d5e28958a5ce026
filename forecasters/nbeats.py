"""NBEATS: darts' ``NBEATSModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster import Interval
from dysts_bench.forecaster.deep import TRAINING_CONSTRAINTS, DartsTorchForecaster, arguments


class NBEATS(DartsTorchForecaster):
    r"""N-BEATS (generic architecture): stacks of fully connected blocks, each producing a
    backcast that is subtracted from its input and a forecast that is summed over blocks.

    Oreshkin, Carpov, Chapados & Bengio (2020), *N-BEATS: Neural basis expansion analysis for
    interpretable time series forecasting*, ICLR 2020; through darts (Herzen et al. 2022, JMLR 23(124)).
    In the reference benchmark: Gilpin (2021, NeurIPS Datasets and Benchmarks) and Gilpin
    (2023, Phys. Rev. Research 5, 043252).

    Fixed darts arguments: ``{'generic_architecture': True}``.

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
    * ``num_stacks``: 6 (full size 30)
    * ``num_blocks``: 1 (full size 1)
    * ``num_layers``: 2 (full size 4)
    * ``layer_widths``: 128 (full size 256)
    * ``dropout``: 0.0 (full size 0.0)
    * training: n_epochs=20, batch_size=64, lr=0.001, patience=3, val_length=200, device=cpu
      (full size: n_epochs=100, batch_size=32, lr=0.001, patience=10, val_length=200, device=cuda)

    Measured cost of the default: 3.5 s (Lorenz) and 2.2 s (HyperRossler)
    of CPU time per task for fit + predict on one core (context 1000, horizon 3700; measured
    2026-12-08 on the 2-core development machine; runner: 2.9-3.8 s on Lorenz and Rossler), so about
    37 CPU-minutes for the 402 canonical tasks with the runner's 1-2 s per-task overhead.

    Full size on a GPU (``NBEATS.full_size()`` in Python)::

        dysts-bench run nbeats --param input_chunk_length=50 --param \
        output_chunk_length=1 --param num_stacks=30 --param num_blocks=1 --param \
        num_layers=4 --param layer_widths=256 --param dropout=0.0 --param n_epochs=100 \
        --param batch_size=32 --param lr=0.001 --param patience=10 --param \
        val_length=200 --param device=cuda --workers 1 --timeout 7200
    """

    name = "nbeats"
    darts_model = "NBEATSModel"
    darts_fixed = {'generic_architecture': True}
    FULL_SIZE = {'input_chunk_length': 50, 'output_chunk_length': 1, 'num_stacks': 30, 'num_blocks': 1, 'num_layers': 4, 'layer_widths': 256, 'dropout': 0.0, 'n_epochs': 100, 'batch_size': 32, 'lr': 0.001, 'patience': 10, 'val_length': 200, 'device': 'cuda'}
    _parameter_constraints = {"input_chunk_length": [Interval(int, 1, None)], "output_chunk_length": [Interval(int, 1, None)], "num_stacks": [Interval(int, 1, None)], "num_blocks": [Interval(int, 1, None)], "num_layers": [Interval(int, 1, None)], "layer_widths": [Interval(int, 1, None)], "dropout": [Interval(float, 0, 1, closed="left")], **TRAINING_CONSTRAINTS}

    def __init__(self, input_chunk_length=50, output_chunk_length=10, num_stacks=6, num_blocks=1, num_layers=2,
                 layer_widths=128, dropout=0.0, n_epochs=20, batch_size=64, lr=0.001, patience=3,
                 val_length=200, device='cpu', seed=0):
        super().__init__(**arguments(locals()))
