"""TCN: darts' ``TCNModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster.deep import DROPOUT, POSITIVE, DartsTorchForecaster


class TCN(DartsTorchForecaster):
    r"""Temporal convolutional network: causal dilated 1-D convolutions with residual
    connections, enough layers to cover the input window.

    Bai, Kolter & Koltun (2018), *An empirical evaluation of generic convolutional and
    recurrent networks for sequence modeling*, arXiv:1803.01271; through darts (Herzen et al. 2022, JMLR 23(124)).
    """

    name = "tcn"
    darts_model = "TCNModel"
    architecture = {  # darts argument: (default, full size, accepted values)
        "input_chunk_length": (50, 50, POSITIVE),
        "output_chunk_length": (10, 1, POSITIVE),
        "kernel_size": (3, 3, POSITIVE),
        "num_filters": (8, 3, POSITIVE),
        "dilation_base": (2, 2, POSITIVE),
        "dropout": (0.2, 0.2, DROPOUT),
    }
    measured_cost = dict(lorenz_s=3.7, hyper_rossler_s=3.6, canonical_cpu_minutes=38)
