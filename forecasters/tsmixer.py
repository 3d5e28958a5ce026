"""TSMixer: darts' ``TSMixerModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster.deep import DROPOUT, POSITIVE, DartsTorchForecaster


class TSMixer(DartsTorchForecaster):
    r"""TSMixer: blocks of MLPs that alternately mix along time and along the variables.

    Chen, Li, Arik, Yoder & Pfister (2023), *TSMixer: An all-MLP architecture for time series
    forecasting*, Transactions on Machine Learning Research; through darts (Herzen et al. 2022, JMLR 23(124)).
    """

    name = "tsmixer"
    darts_model = "TSMixerModel"
    architecture = {  # darts argument: (default, full size, accepted values)
        "input_chunk_length": (50, 50, POSITIVE),
        "output_chunk_length": (10, 1, POSITIVE),
        "hidden_size": (32, 64, POSITIVE),
        "ff_size": (32, 64, POSITIVE),
        "num_blocks": (2, 2, POSITIVE),
        "dropout": (0.1, 0.1, DROPOUT),
    }
    measured_cost = dict(lorenz_s=2.1, hyper_rossler_s=2.1, canonical_cpu_minutes=27)
