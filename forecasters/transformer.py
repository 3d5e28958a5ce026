"""Transformer: darts' ``TransformerModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster import Interval
from dysts_bench.forecaster.deep import TRAINING_CONSTRAINTS, DartsTorchForecaster, arguments


class Transformer(DartsTorchForecaster):
    r"""Encoder-decoder transformer (self-attention) over the input window; the decoder
    emits a block of ``output_chunk_length`` steps.

    Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez, Kaiser & Polosukhin (2017), *Attention
    is all you need*, NeurIPS 2017; through darts (Herzen et al. 2022, JMLR 23(124)).
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
    * ``d_model``: 16 (full size 64)
    * ``nhead``: 4 (full size 4)
    * ``num_encoder_layers``: 1 (full size 3)
    * ``num_decoder_layers``: 1 (full size 3)
    * ``dim_feedforward``: 64 (full size 512)
    * ``dropout``: 0.1 (full size 0.1)
    * training: n_epochs=10, batch_size=64, lr=0.001, patience=3, val_length=200, device=cpu
      (full size: n_epochs=100, batch_size=32, lr=0.001, patience=10, val_length=200, device=cuda)

    Measured cost of the default: 6.2 s (Lorenz) and 6.3 s (HyperRossler)
    of CPU time per task for fit + predict on one core (context 1000, horizon 3700; measured
    2026-12-08 on the 2-core development machine; runner: 7.4-8.2 s on Lorenz and HyperRossler), so about
    56 CPU-minutes for the 402 canonical tasks with the runner's 1-2 s per-task overhead.

    Full size on a GPU (``Transformer.full_size()`` in Python)::

        dysts-bench run transformer --param input_chunk_length=50 --param \
        output_chunk_length=1 --param d_model=64 --param nhead=4 --param \
        num_encoder_layers=3 --param num_decoder_layers=3 --param dim_feedforward=512 \
        --param dropout=0.1 --param n_epochs=100 --param batch_size=32 --param lr=0.001 \
        --param patience=10 --param val_length=200 --param device=cuda --workers 1 \
        --timeout 7200
    """

    name = "transformer"
    darts_model = "TransformerModel"
    darts_fixed = {}
    FULL_SIZE = {'input_chunk_length': 50, 'output_chunk_length': 1, 'd_model': 64, 'nhead': 4, 'num_encoder_layers': 3, 'num_decoder_layers': 3, 'dim_feedforward': 512, 'dropout': 0.1, 'n_epochs': 100, 'batch_size': 32, 'lr': 0.001, 'patience': 10, 'val_length': 200, 'device': 'cuda'}
    _parameter_constraints = {"input_chunk_length": [Interval(int, 1, None)], "output_chunk_length": [Interval(int, 1, None)], "d_model": [Interval(int, 1, None)], "nhead": [Interval(int, 1, None)], "num_encoder_layers": [Interval(int, 1, None)], "num_decoder_layers": [Interval(int, 1, None)], "dim_feedforward": [Interval(int, 1, None)], "dropout": [Interval(float, 0, 1, closed="left")], **TRAINING_CONSTRAINTS}

    def __init__(self, input_chunk_length=50, output_chunk_length=10, d_model=16, nhead=4, num_encoder_layers=1,
                 num_decoder_layers=1, dim_feedforward=64, dropout=0.1, n_epochs=10, batch_size=64,
                 lr=0.001, patience=3, val_length=200, device='cpu', seed=0):
        super().__init__(**arguments(locals()))
