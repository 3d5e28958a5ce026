"""NBEATS: darts' ``NBEATSModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster.deep import DROPOUT, POSITIVE, DartsTorchForecaster


class NBEATS(DartsTorchForecaster):
    r"""N-BEATS (generic architecture): stacks of fully connected blocks, each producing a
    backcast that is subtracted from its input and a forecast that is summed over blocks.

    Oreshkin, Carpov, Chapados & Bengio (2020), *N-BEATS: Neural basis expansion analysis for
    interpretable time series forecasting*, ICLR 2020; through darts (Herzen et al. 2022, JMLR 23(124)).
    """

    name = "nbeats"
    darts_model = "NBEATSModel"
    darts_fixed = {"generic_architecture": True}
    architecture = {  # darts argument: (default, full size, accepted values)
        "input_chunk_length": (50, 50, POSITIVE),
        "output_chunk_length": (10, 1, POSITIVE),
        "num_stacks": (6, 30, POSITIVE),
        "num_blocks": (1, 1, POSITIVE),
        "num_layers": (2, 4, POSITIVE),
        "layer_widths": (128, 256, POSITIVE),
        "dropout": (0.0, 0.0, DROPOUT),
    }
    measured_cost = dict(lorenz_s=3.5, hyper_rossler_s=2.2, canonical_cpu_minutes=37, runner="2.9-3.8 s on Lorenz and Rossler")
