"""NHiTS: darts' ``NHiTSModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster.deep import DROPOUT, POSITIVE, DartsTorchForecaster


class NHiTS(DartsTorchForecaster):
    r"""N-HiTS: N-BEATS-like stacks whose blocks see the input max-pooled at different rates
    and emit coarse forecasts interpolated to the horizon (multi-rate).

    Challu, Olivares, Oreshkin, Garza, Mergenthaler-Canseco & Dubrawski (2023), *N-HiTS:
    Neural hierarchical interpolation for time series forecasting*, AAAI 2023; through darts (Herzen et al. 2022, JMLR 23(124)).
    """

    name = "nhits"
    darts_model = "NHiTSModel"
    architecture = {  # darts argument: (default, full size, accepted values)
        "input_chunk_length": (50, 50, POSITIVE),
        "output_chunk_length": (10, 1, POSITIVE),
        "num_stacks": (3, 3, POSITIVE),
        "num_blocks": (1, 1, POSITIVE),
        "num_layers": (2, 2, POSITIVE),
        "layer_widths": (128, 512, POSITIVE),
        "dropout": (0.1, 0.1, DROPOUT),
    }
    measured_cost = dict(lorenz_s=2.5, hyper_rossler_s=2.3, canonical_cpu_minutes=30)
