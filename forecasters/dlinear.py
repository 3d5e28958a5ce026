"""DLinear: darts' ``DLinearModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster.deep import POSITIVE, DartsTorchForecaster


class DLinear(DartsTorchForecaster):
    r"""DLinear: the input window split by a moving average (``kernel_size``) into trend and
    remainder, each mapped to the output block by a linear layer per variable.

    Zeng, Chen, Zhang & Xu (2023), *Are transformers effective for time series
    forecasting?*, AAAI 2023; through darts (Herzen et al. 2022, JMLR 23(124)).
    """

    name = "dlinear"
    darts_model = "DLinearModel"
    architecture = {  # darts argument: (default, full size, accepted values)
        "input_chunk_length": (50, 50, POSITIVE),
        "output_chunk_length": (10, 1, POSITIVE),
        "kernel_size": (25, 25, POSITIVE),
    }
    measured_cost = dict(lorenz_s=0.9, hyper_rossler_s=0.9, canonical_cpu_minutes=19)
