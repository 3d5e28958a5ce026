"""TiDE: darts' ``TiDEModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster.deep import DROPOUT, POSITIVE, DartsTorchForecaster


class TiDE(DartsTorchForecaster):
    r"""TiDE: a residual MLP encoder of the flattened input window and an MLP decoder with a
    per-step temporal decoder.

    Das, Kong, Leach, Mathur, Sen & Yu (2023), *Long-term forecasting with TiDE: Time-series
    dense encoder*, Transactions on Machine Learning Research; through darts (Herzen et al. 2022, JMLR 23(124)).
    """

    name = "tide"
    darts_model = "TiDEModel"
    architecture = {  # darts argument: (default, full size, accepted values)
        "input_chunk_length": (50, 50, POSITIVE),
        "output_chunk_length": (10, 1, POSITIVE),
        "num_encoder_layers": (1, 1, POSITIVE),
        "num_decoder_layers": (1, 1, POSITIVE),
        "decoder_output_dim": (8, 16, POSITIVE),
        "hidden_size": (64, 128, POSITIVE),
        "temporal_decoder_hidden": (16, 32, POSITIVE),
        "dropout": (0.1, 0.1, DROPOUT),
    }
    measured_cost = dict(lorenz_s=1.2, hyper_rossler_s=1.3, canonical_cpu_minutes=22)
