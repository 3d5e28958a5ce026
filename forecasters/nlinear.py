"""NLinear: darts' ``NLinearModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster.deep import POSITIVE, DartsTorchForecaster


class NLinear(DartsTorchForecaster):
    r"""NLinear: the last input value is subtracted from the window, a linear layer per
    variable maps it to the output block, and the value is added back.

    Zeng, Chen, Zhang & Xu (2023), *Are transformers effective for time series
    forecasting?*, AAAI 2023; through darts (Herzen et al. 2022, JMLR 23(124)).
    """

    name = "nlinear"
    darts_model = "NLinearModel"
    darts_fixed = {"normalize": True}
    architecture = {  # darts argument: (default, full size, accepted values)
        "input_chunk_length": (50, 50, POSITIVE),
        "output_chunk_length": (10, 1, POSITIVE),
    }
    measured_cost = dict(lorenz_s=0.6, hyper_rossler_s=0.3, canonical_cpu_minutes=17)
